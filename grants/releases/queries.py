"""The tranches awaiting release (the release queue, oldest due first), and what the release
page of one shows: its gates for the day, its budget pool, and whether the actor may release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, func, select

from grants.accounts.models import Organization
from grants.awards.facts import pool_room, tranche_facts
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.queries import disbursement_of, grant_subject
from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.lists import Filter, Listing, ListQuery, matching, page_by_id
from grants.core.permissions import Action, decide
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.rules import Phase, Trace, evaluate
from grants.rulesets import service as rulesets


@dataclass(frozen=True)
class ReleaseView:
    """One tranche as its release page and endpoint show it."""

    milestone: Milestone
    disbursement: Disbursement | None
    trace: Trace | None  # the tranche gates for the day; None once released
    pool: BudgetPool | None
    room: int | None  # what the pool has for this tranche (pool_room); None once released
    releasable: bool  # approved, not released yet, and the grant is active
    allowed: bool  # the actor may release it (not one of its reviewers: separation of duties)

    @property
    def grant(self) -> Grant:
        return self.milestone.grant


def release_view(actor: Actor, milestone: Milestone, today: date) -> ReleaseView:
    """The tranche of `milestone` as `actor` sees it on `today` (the permission table decides
    both whether the tranche can go now and whether this actor may send it)."""
    disbursement = disbursement_of(milestone.id)
    subject = grant_subject(actor, milestone.grant, milestone, released=disbursement is not None)
    decision = decide(Action.release_tranche, subject)
    pool = pool_of(milestone)
    out = disbursement is not None
    return ReleaseView(
        milestone=milestone,
        disbursement=disbursement,
        trace=None if out else gate_trace(milestone, today),
        pool=pool,
        room=None if out or pool is None else pool_room(milestone.grant.program_id, milestone),
        releasable=decision.state_allows,
        allowed=decision.actor_allowed,
    )


def gate_trace(milestone: Milestone, release_date: date) -> Trace:
    """The tranche gates of the grant's pinned rule set, evaluated for `release_date`."""
    compiled = rulesets.compiled(milestone.grant.ruleset)
    return evaluate(compiled, Phase.TRANCHE_GATES, tranche_facts(milestone, release_date))


def pool_of(milestone: Milestone) -> BudgetPool | None:
    return db.session.scalar(
        select(BudgetPool).where(
            BudgetPool.program_id == milestone.grant.program_id,
            BudgetPool.fiscal_year == milestone.fiscal_year,
        )
    )


def is_released(milestone_id: int) -> bool:
    query = select(exists().where(Disbursement.milestone_id == milestone_id))
    return bool(db.session.scalar(query))


@dataclass(frozen=True)
class AwaitingPage(Page):
    """A page of tranches awaiting release, with the sum of all of them."""

    amount: int


RELEASES = Listing(
    name="releases",
    sorts={
        "due_date": (Milestone.due_date,),
        "approved": (Milestone.decided_at,),
        "grant": (Grant.number, Milestone.sequence),
        "title": (Milestone.title,),
        "organization": (Organization.name,),
        "fiscal_year": (Milestone.fiscal_year,),
        "tranche_amount": (Milestone.tranche_amount,),
    },
    default_sort="due_date",
    tiebreak=Milestone.id,
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year}),
)


def awaiting_release(asked: ListQuery) -> AwaitingPage:
    """Approved milestones of active grants whose tranche is not released yet (oldest due
    first unless asked otherwise), a page at a time, with how many there are and how much
    they come to (kept while the data stands still: they pile up when releases lag)."""
    total, amount = awaiting_totals(asked)
    sort = asked.sort if asked.sort in RELEASES.sorts else RELEASES.default_sort
    ids = _awaiting(asked, Milestone.id, named=bool(asked.term) or sort == "organization")
    page = page_by_id(ids, RELEASES, asked, _rows, count=lambda: total)
    return AwaitingPage(page.items, page.page, page.per_page, page.total, amount)


def _rows(milestone_ids: list[int]) -> dict[int, Any]:
    """The release queue's rows of these milestones."""
    query = (
        select(
            Milestone.id,
            Milestone.title,
            Milestone.sequence,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.due_date,
            Milestone.decided_at,
            Grant.id.label("grant_id"),
            Grant.number,
            Organization.name.label("organization_name"),
            Organization.name_en.label("organization_name_en"),
            Milestone.overdue_since,  # for the shared overdue marker (never set once approved)
        )
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .where(Milestone.id.in_(milestone_ids))
    )
    return {row.id: row for row in db.session.execute(query)}


def awaiting_totals(asked: ListQuery) -> tuple[int, int]:
    """How many tranches await their release as asked, and their sum (kept while the data
    stands still, when nothing is searched)."""
    if asked.term:  # an organisation's name does not stamp the data generation
        return _awaiting_sum(asked)
    return audit_marks.kept("awaiting", asked.filters(), lambda: _awaiting_sum(asked))


def tranches(milestone_ids: Sequence[int]) -> list[Any]:
    """The milestones named, as the release queue shows them, with whether each still
    awaits its release (`awaiting`), by due date: what a bulk release asks to confirm and
    reports on. One statement."""
    awaiting = (
        _awaiting(RELEASES.query(), Milestone.id).where(Milestone.id.in_(milestone_ids)).subquery()
    )
    query = (
        select(
            Milestone.id,
            Milestone.title,
            Milestone.sequence,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.due_date,
            Grant.id.label("grant_id"),
            Grant.number,
            Organization.name.label("organization_name"),
            Organization.name_en.label("organization_name_en"),
            awaiting.c.id.is_not(None).label("awaiting"),
        )
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .outerjoin(awaiting, awaiting.c.id == Milestone.id)
        .where(Milestone.id.in_(milestone_ids))
        .order_by(Milestone.due_date, Milestone.id)
    )
    return list(db.session.execute(query))


def _awaiting_sum(asked: ListQuery) -> tuple[int, int]:
    awaiting = _awaiting(asked, Milestone.tranche_amount, named=bool(asked.term)).subquery()
    total, amount = db.session.execute(
        select(func.count(), func.coalesce(func.sum(awaiting.c.tranche_amount), 0))
    ).one()
    return int(total), int(amount)


def _awaiting(asked: ListQuery, column: Any, named: bool = False) -> Select[Any]:
    """`column` of the milestones awaiting their release as asked; `named`: with their
    organisation joined (a search, or a sort, reads its names)."""
    query = (
        select(column)
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
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.fiscal_year is not None:
        query = query.where(Milestone.fiscal_year == asked.fiscal_year)
    if named:
        query = query.join(Organization, Organization.id == Grant.organization_id)
    if asked.term:
        names = (Milestone.title, Grant.number, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return query
