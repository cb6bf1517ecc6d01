"""The officer's portfolio: read-only, set-based queries (a fixed number, whatever the size).

A page of the portfolio is read from the indexes in portfolio order (see
services.portfolio_order: one COUNT and one SELECT, however many grants); the
health of every programme is in services.portfolio_health. Budget figures are kept
while the audit log stands still (services.audit_marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any

from sqlalchemy import Select, exists, func, select

from grants.awards.models import Disbursement, Grant, Milestone
from grants.core import audit_marks
from grants.core.calendar import days_overdue
from grants.core.db import bounded_page, page_within
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.portfolio import order as portfolio_order
from grants.portfolio.order import ACTIVE, OPEN  # noqa: F401  (re-exported)
from grants.programs.models import BudgetPool, Program

PER_PAGE = 25
# The portfolio shows the oldest tranches awaiting release; the release queue has them all.
AWAITING_SHOWN = 10


@dataclass(frozen=True)
class PortfolioRow:
    grant_id: int
    number: str
    state: GrantState
    organization_name: str
    organization_name_en: str | None
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    milestone_id: int | None
    milestone_title: str | None
    milestone_due: date | None
    milestone_state: MilestoneState | None
    overdue_since: date | None  # the next milestone's overdue flag (set by the scan)
    days_overdue: int  # on the portfolio's day, the first overdue day counting as 1
    released: int
    award: int

    def organization(self, locale: str) -> str:
        return (
            self.organization_name_en
            if locale == "en" and self.organization_name_en
            else (self.organization_name)
        )

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja

    @property
    def overdue(self) -> bool:
        return self.overdue_since is not None


@dataclass(frozen=True)
class Page:
    """A page of rows, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


@dataclass(frozen=True)
class AwaitingPage(Page):
    """A page of tranches awaiting release, with the sum of all of them."""

    amount: int


@dataclass(frozen=True)
class BudgetRow:
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    fiscal_year: int
    appropriation: int
    committed: int
    released: int

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.released

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


def portfolio(
    today: date, program_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Active and suspended grants, overdue first (most overdue first), then by next due date.

    Overdue means flagged by the scan (milestone.overdue_since); `today` only counts the days.
    """
    page, per_page = _bounded(page, per_page)
    total = portfolio_order.count(program_id)
    page = page_within(page, total, per_page)
    rows = portfolio_order.page_rows(program_id, (page - 1) * per_page, per_page)
    items = [_row(row, today) for row in rows]
    return Page(items, page, per_page, total)


def budget_by_year(program_id: int | None = None) -> list[BudgetRow]:
    """Every budget pool per programme and fiscal year (kept while the audit log stands still)."""
    return audit_marks.kept("budget", program_id, lambda: _budget_by_year(program_id))


def _budget_by_year(program_id: int | None) -> list[BudgetRow]:
    query = (
        select(
            Program.id,
            Program.code,
            Program.name_ja,
            Program.name_en,
            BudgetPool.fiscal_year,
            BudgetPool.appropriation,
            BudgetPool.committed,
            BudgetPool.released,
        )
        .join(BudgetPool, BudgetPool.program_id == Program.id)
        .order_by(Program.code, BudgetPool.fiscal_year)
    )
    if program_id is not None:
        query = query.where(Program.id == program_id)
    return [BudgetRow(*row) for row in db.session.execute(query)]


def awaiting_release(
    program_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> AwaitingPage:
    """Approved milestones of active grants whose tranche is not released yet, oldest due
    first, a page at a time, with how many there are and how much they come to (kept while
    the audit log stands still: they pile up when releases lag)."""
    page, per_page = _bounded(page, per_page)
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


def _bounded(page: int, per_page: int) -> tuple[int, int]:
    """A page number from 1 to MAX_PAGE, and 1 to 500 rows a page."""
    return bounded_page(page), max(1, min(per_page, 500))


def _row(row: Any, today: date) -> PortfolioRow:
    since = row[16]  # set exactly for the overdue part (portfolio_order)
    return PortfolioRow(
        grant_id=row[0],
        number=row[1],
        state=GrantState(row[2]),
        organization_name=row[3],
        organization_name_en=row[4],
        program_id=row[5],
        program_code=row[6],
        program_name_ja=row[7],
        program_name_en=row[8],
        milestone_id=row[9],
        milestone_title=row[10],
        milestone_due=row[11],
        milestone_state=MilestoneState(row[12]) if row[12] is not None else None,
        overdue_since=since,
        days_overdue=days_overdue(since, today),
        released=int(row[14]),
        award=int(row[15]),
    )
