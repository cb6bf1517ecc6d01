"""The tranches awaiting release: the release queue, oldest due first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, select

from grants.awards.models import Disbursement, Grant, Milestone
from grants.core import audit_marks
from grants.core.db import Page, bounded, page_within
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db

PER_PAGE = 25


@dataclass(frozen=True)
class AwaitingPage(Page):
    """A page of tranches awaiting release, with the sum of all of them."""

    amount: int


def awaiting_release(
    program_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> AwaitingPage:
    """Approved milestones of active grants whose tranche is not released yet, oldest due
    first, a page at a time, with how many there are and how much they come to (kept while
    the audit log stands still: they pile up when releases lag)."""
    page, per_page = bounded(page, per_page)
    total, amount = audit_marks.kept("awaiting", program_id, lambda: _awaiting_sum(program_id))
    page = page_within(page, total, per_page)
    rows = db.session.execute(
        _awaiting(program_id)
        .order_by(Milestone.due_date, Milestone.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return AwaitingPage(list(rows), page, per_page, total, amount)


def _awaiting_sum(program_id: int | None) -> tuple[int, int]:
    awaiting = _awaiting(program_id).subquery()
    total, amount = db.session.execute(
        select(func.count(), func.coalesce(func.sum(awaiting.c.tranche_amount), 0))
    ).one()
    return int(total), int(amount)


def _awaiting(program_id: int | None) -> Select[Any]:
    query = (
        select(
            Milestone.id,
            Milestone.title,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.due_date,
            Milestone.decided_at,
            Grant.id.label("grant_id"),
            Grant.number,
            Milestone.overdue_since,  # for the shared overdue marker (never set once approved)
        )
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(
            Milestone.state == MilestoneState.approved,
            # released_at picks the candidates from the index; the disbursement row, the
            # record itself, has the last word
            Milestone.released_at.is_(None),
            ~exists().where(Disbursement.milestone_id == Milestone.id),
            Grant.state == GrantState.active,
        )
    )
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    return query
