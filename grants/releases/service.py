"""Tranche release: a milestone's money leaves its fiscal-year budget pool, exactly once.

Locks are always taken in the same order (grant, then milestone, then budget pools by
fiscal year) by every service that moves commitments, so concurrent releases,
amendments and terminations queue instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.accounts.queries import organisation_applicants
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.queries import get_milestone, grant_subject
from grants.awards.service import lock_grant
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import FiscalYear
from grants.core.db import use_case
from grants.core.errors import Conflict, DomainError, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import Amount
from grants.core.permissions import Action, require
from grants.core.problems import N_, Problem
from grants.core.states import GrantState, MilestoneState, transition
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.programs.service import lock_pools, pool_numbers
from grants.releases.queries import gate_trace, is_released
from grants.rules import Trace, TraceRow

# The most tranches one bulk release may name (a page of the release queue at most).
BULK_MAX = 100


@dataclass(frozen=True)
class Outcome:
    """What became of one tranche of a bulk release: released, or refused and why."""

    milestone_id: int
    disbursement: Disbursement | None = None
    refusal: DomainError | None = None

    @property
    def released(self) -> bool:
        return self.disbursement is not None


def release_each(actor: Actor, milestone_ids: Sequence[int], today: date) -> list[Outcome]:
    """Release several tranches, each as its own `release` (its own transaction, every gate
    checked on its locked rows), in the order given, once per milestone: one refusal
    stops only its own tranche. Each tranche's outcome, in that order."""
    chosen = list(dict.fromkeys(milestone_ids))
    check_bulk(chosen)
    outcomes = []
    for milestone_id in chosen:
        try:
            outcomes.append(Outcome(milestone_id, release(actor, milestone_id, today)))
        except DomainError as refusal:
            outcomes.append(Outcome(milestone_id, refusal=refusal))
    return outcomes


def check_bulk(milestone_ids: Sequence[int]) -> None:
    """One to BULK_MAX milestones, else a refusal naming `milestone_ids`."""
    if not milestone_ids or len(milestone_ids) > BULK_MAX:
        message = N_("Choose from 1 to %(n)d tranches.", n=BULK_MAX)
        raise RuleViolation(message, {"milestone_ids": [message]})


@use_case
def release(actor: Actor, milestone_id: int, today: date) -> Disbursement:
    """Release the tranche of an approved milestone of an active grant from its pool."""
    milestone = get_milestone(milestone_id)
    grant = lock_grant(milestone.grant_id)
    milestone = _lock_milestone(milestone_id)
    pool = lock_pools(grant.program_id, [milestone.fiscal_year]).get(milestone.fiscal_year)
    # Decided on the locked rows: who releases, whether it is out already, the states.
    released = is_released(milestone.id)
    require(Action.release_tranche, grant_subject(actor, grant, milestone, released=released))
    _check_gates(gate_trace(milestone, today))
    amount = milestone.tranche_amount
    if pool is None:
        raise RuleViolation(_no_pool_message(milestone.fiscal_year))
    _check_room(pool, amount)
    before = pool_numbers(pool)
    # A commitment that was never recorded (data from before the pools) cannot go negative.
    pool.committed = max(pool.committed - amount, 0)
    pool.released += amount
    milestone.released_at = utcnow()
    disbursement = Disbursement(
        milestone_id=milestone.id,
        grant_id=grant.id,
        budget_pool_id=pool.id,
        amount=amount,
        fiscal_year=milestone.fiscal_year,
        released_by_id=actor.id,
        released_at=milestone.released_at,
    )
    db.session.add(disbursement)
    _insert_or_conflict()
    completed = _complete_if_done(grant, milestone)
    after = pool_numbers(pool) | {"milestone_id": milestone.id, "amount": amount}
    audit.record(actor, "tranche.release", disbursement, before, after | {"completed": completed})
    notify.record(
        actor,
        organisation_applicants(grant.organization_id),
        AlertKind.tranche_released,
        SubjectType.disbursement,
        disbursement.id,
        today=today,
        grant_id=grant.id,
        milestone_id=milestone.id,
    )
    db.session.commit()
    return disbursement


def _lock_milestone(milestone_id: int) -> Milestone:
    milestone = db.session.scalar(
        select(Milestone)
        .where(Milestone.id == milestone_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if milestone is None:
        raise NotFound(N_("Not found."))
    return milestone


def _check_gates(trace: Trace) -> None:
    if trace.ok:
        return
    failures = [GateFailure(row) for row in trace.blocking]
    raise RuleViolation(
        N_("The tranche cannot be released: %(reasons)s", reasons=GateFailures(tuple(failures))),
        {"gates": failures},
    )


class GateFailure(str):
    """A failing tranche gate as "label: message": English as a str, and said again in the
    reader's language where it is shown (the trace row carries both)."""

    row: TraceRow

    def __new__(cls, row: TraceRow) -> GateFailure:
        failure = super().__new__(cls, _gate_text(row, "en"))
        failure.row = row
        return failure

    def __getnewargs__(self) -> tuple[TraceRow]:  # type: ignore[override]
        return (self.row,)

    def localised(self, locale: str) -> str:
        return _gate_text(self.row, locale)


@dataclass(frozen=True)
class GateFailures:
    """Every failing gate in one sentence, in the reader's language."""

    failures: tuple[GateFailure, ...]

    def localised(self, locale: str) -> str:
        return "; ".join(failure.localised(locale) for failure in self.failures)


def _gate_text(row: TraceRow, locale: str) -> str:
    label = (row.label or {}).get(locale) or row.rule_id
    return f"{label}: {row.message[locale]}"


def _check_room(pool: BudgetPool, amount: int) -> None:
    shortfall = pool.released + amount - pool.appropriation
    if shortfall > 0:
        raise RuleViolation(
            N_(
                "The %(year)s budget pool cannot cover this tranche: %(shortfall)s short "
                "(appropriation %(appropriation)s, already released %(released)s).",
                year=FiscalYear(pool.fiscal_year),
                shortfall=Amount(shortfall),
                appropriation=Amount(pool.appropriation),
                released=Amount(pool.released),
            ),
            {"pool": [N_("Not enough money left in this fiscal year's budget pool.")]},
        )


def _no_pool_message(year: int) -> Problem:
    return N_("There is no budget pool for %(year)s in this programme.", year=FiscalYear(year))


def _complete_if_done(grant: Grant, releasing: Milestone) -> bool:
    """The grant completes when every milestone is approved and released (this one now)."""
    # The grant row is locked, so no other release of this grant runs meanwhile.
    states = db.session.execute(
        select(Milestone.id, Milestone.state).where(Milestone.grant_id == grant.id)
    ).all()
    if not all(state == MilestoneState.approved for _id, state in states):
        return False
    released = set(
        db.session.scalars(
            select(Disbursement.milestone_id).where(Disbursement.grant_id == grant.id)
        )
    )
    if any(mid not in released and mid != releasing.id for mid, _state in states):
        return False
    grant.state = transition(grant.state, GrantState.completed)
    return True


def _insert_or_conflict() -> None:
    """The unique disbursement per milestone is the last line against a double release."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("This tranche has already been released.")) from None
