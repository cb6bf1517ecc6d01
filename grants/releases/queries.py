"""The tranches awaiting release (the release queue, oldest due first), and what the release
page of one shows: its gates for the day, its budget pool, and whether the actor may release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, select

from grants.accounts.models import Organization, User
from grants.awards.facts import pool_room, tranche_facts
from grants.awards.models import Disbursement, Grant, Milestone, PreparedRelease, Settlement
from grants.awards.queries import (
    disbursement_of,
    grant_subject,
    pending_release,
    release_relation,
)
from grants.awards.rules import PreparedReleaseState
from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.lists import Filter, Listing, ListQuery, matching, page_by_id
from grants.core.permissions import Action, Decision, Subject, decide, refusal
from grants.core.problems import N_, Problem
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.rules import Phase, Trace, evaluate
from grants.rules.settlement import ExcessMethod, PaymentMode, period_key, settlement_rules
from grants.rulesets import service as rulesets


@dataclass(frozen=True)
class Payment:
    """What releasing a tranche pays: `amount` leaves the pool (freeing `reservation` of its
    commitment), less what earlier periods' advances above their final amounts set off."""

    amount: int
    reservation: int
    set_offs: tuple[Settlement, ...] = ()
    refusal: Problem | None = None  # paid only after settlement, and not settled yet

    @property
    def set_off(self) -> int:
        return sum(settlement.excess for settlement in self.set_offs)

    @property
    def paid(self) -> int:
        return self.amount - self.set_off


def payment_of(milestone: Milestone) -> Payment:
    """The pinned rule set's payment mode decides: paid after settlement (精算払), the
    tranche pays its share of its period's final amount, and nothing before it is confirmed;
    paid in advance (概算払), the tranche (or, once its period is settled, its share). Either
    way an earlier advance's excess chosen for set-off is kept back."""
    grant = milestone.grant
    rules = settlement_rules(grant.ruleset.document)
    period = period_key(rules.period, milestone.sequence, milestone.fiscal_year)
    settled = db.session.scalar(
        select(Settlement).where(Settlement.grant_id == grant.id, Settlement.period == period)
    )
    if settled is not None:
        amount = settled.shares.get(str(milestone.id), 0)
        if amount <= 0:
            return Payment(
                0,
                0,
                refusal=N_(
                    "The final amount of this period leaves nothing to pay for this tranche."
                ),
            )
    elif rules.payment is PaymentMode.after_settlement:
        return Payment(
            0,
            0,
            refusal=N_(
                "This programme pays after settlement (精算払): the tranche is paid once the "
                "final amount of its period is confirmed."
            ),
        )
    else:
        amount = milestone.tranche_amount
    pending = db.session.scalars(
        select(Settlement)
        .where(
            Settlement.grant_id == grant.id,
            Settlement.excess_method == ExcessMethod.set_off.value,
            Settlement.set_off_disbursement_id.is_(None),
            Settlement.excess > 0,
        )
        .order_by(Settlement.id)
    )
    set_offs, left = [], amount
    for settlement in pending:
        if settlement.excess < left:
            set_offs.append(settlement)
            left -= settlement.excess
    return Payment(amount, amount, tuple(set_offs))


@dataclass(frozen=True)
class ReleaseView:
    """One tranche as its release page and endpoint show it."""

    milestone: Milestone
    disbursement: Disbursement | None
    trace: Trace | None  # the tranche gates for the day; None once released
    pool: BudgetPool | None
    room: int | None  # what the pool has for this tranche (pool_room); None once released
    payment: Payment | None  # what the release pays now; None once released
    prepared: PreparedRelease | None  # a prepared release waiting for a second officer
    releasable: bool  # approved, not released yet, and the grant is active
    needs_second_officer: bool  # above the programme's threshold: prepared, then approved
    may_release: bool  # the actor may release it alone now
    may_prepare: bool  # ... or prepare its release for a second officer
    may_approve: bool  # ... or approve the prepared release (which releases it)
    may_cancel: bool  # ... or cancel the prepared release
    refusal: Problem | None  # why the actor may do none of the steps the tranche waits for

    @property
    def grant(self) -> Grant:
        return self.milestone.grant

    @property
    def allowed(self) -> bool:
        """The actor's role and relation let them take the tranche's next step (reviewers,
        the awarding officer and the preparer are kept out: separation of duties)."""
        return self.may_release or self.may_prepare or self.may_approve


def release_view(actor: Actor, milestone: Milestone, today: date) -> ReleaseView:
    """The tranche of `milestone` as `actor` sees it on `today` (the permission table decides
    both whether the tranche can go now and which step this actor may take)."""
    disbursement = disbursement_of(milestone.id)
    prepared = pending_release(milestone.id)
    grant = milestone.grant
    relation = grant_subject(actor, grant, milestone, released=disbursement is not None)
    subject = release_relation(actor, grant, milestone, relation, prepared)
    decisions = {action: decide(action, subject) for action in _STEPS}
    pool = pool_of(milestone)
    out = disbursement is not None
    waiting = replace(subject, has_prepared_release=False)
    return ReleaseView(
        milestone=milestone,
        disbursement=disbursement,
        trace=None if out else gate_trace(milestone, today),
        pool=pool,
        room=None if out or pool is None else pool_room(grant.program_id, milestone),
        payment=None if out else payment_of(milestone),
        prepared=prepared,
        releasable=decide(Action.release_tranche, waiting).state_allows,
        needs_second_officer=subject.needs_second_officer,
        may_release=decisions[Action.release_tranche].allowed,
        may_prepare=decisions[Action.prepare_release].allowed,
        may_approve=decisions[Action.approve_release].allowed,
        may_cancel=decisions[Action.cancel_release].allowed,
        refusal=_next_step_refusal(subject, decisions),
    )


_STEPS = (
    Action.release_tranche,
    Action.prepare_release,
    Action.approve_release,
    Action.cancel_release,
)


def _next_step_refusal(subject: Subject, decisions: dict[Action, Decision]) -> Problem | None:
    """Why the actor may not take the step the tranche waits for: approving the prepared
    release, preparing one (above the threshold), or releasing it; None when they may, or
    when the tranche's state refuses everyone (the page says that apart)."""
    if subject.has_prepared_release:
        step = Action.approve_release
    elif subject.needs_second_officer:
        step = Action.prepare_release
    else:
        step = Action.release_tranche
    decision = decisions[step]
    if decision.allowed or not decision.state_allows:
        return None
    return refusal(step, subject, decision.reason)


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
            PreparedRelease.id.label("prepared_id"),  # a prepared release waiting, if any
            User.name.label("prepared_by"),
        )
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .outerjoin(
            PreparedRelease,
            and_(
                PreparedRelease.milestone_id == Milestone.id,
                PreparedRelease.state == PreparedReleaseState.pending,
            ),
        )
        .outerjoin(User, User.id == PreparedRelease.prepared_by_id)
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


def prepared_waiting(program_id: int | None = None) -> int:
    """How many prepared releases wait for a second officer (of one programme's grants)."""
    query = (
        select(func.count())
        .select_from(PreparedRelease)
        .join(Grant, Grant.id == PreparedRelease.grant_id)
        .where(PreparedRelease.state == PreparedReleaseState.pending)
    )
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    return int(db.session.scalar(query) or 0)


def prepared_releases(state: str | None, program_id: int | None) -> Select[tuple[PreparedRelease]]:
    """Prepared releases in `state` (all when None), in one programme or all, oldest first."""
    query = select(PreparedRelease)
    if state is not None:
        query = query.where(PreparedRelease.state == state)
    if program_id is not None:
        query = query.join(Grant, Grant.id == PreparedRelease.grant_id).where(
            Grant.program_id == program_id
        )
    return query.order_by(PreparedRelease.prepared_at, PreparedRelease.id)
