"""Tranche release: a milestone's money leaves its fiscal-year budget pool, exactly once.

A tranche above its programme's release threshold needs two officers: one prepares the
release (a PreparedRelease, nothing moves), another approves it, and only the approval
releases, through the same checks as a release by one officer.

Locks are always taken in the same order (grant, then milestone, then its prepared release,
then budget pools by fiscal year) by every service that moves commitments, so concurrent
releases, approvals, amendments and terminations queue instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.accounts.queries import organisation_applicants
from grants.awards.models import Disbursement, Grant, Milestone, PreparedRelease, Settlement
from grants.awards.queries import (
    get_milestone,
    grant_subject,
    pending_release,
    release_relation,
)
from grants.awards.rules import PreparedReleaseState
from grants.awards.service import lock_grant
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import FiscalYear
from grants.core.db import ID_MAX, locked_row, use_case
from grants.core.errors import Conflict, DomainError, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.money import Amount
from grants.core.permissions import Action, Reason, Subject, refusal, require
from grants.core.problems import N_, Problem
from grants.core.states import GrantState, MilestoneState, transition
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.programs.service import lock_pools, pool_numbers
from grants.releases.queries import gate_trace, is_released, payment_of
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
    """Release the tranche of an approved milestone of an active grant from its pool, by one
    officer: a tranche at most the programme's release threshold (above it, prepare_release
    and approve_release)."""
    disbursement = _disburse(actor, milestone_id, today, None)
    db.session.commit()
    return disbursement


@use_case
def prepare_release(actor: Actor, milestone_id: int, today: date) -> PreparedRelease:
    """Prepare the release of an approved tranche for a second officer's approval: nothing
    moves yet. Its gates must pass today (they are checked again when it is approved)."""
    milestone = get_milestone(milestone_id)
    grant = lock_grant(milestone.grant_id)
    milestone = _lock_milestone(milestone_id)
    pending = pending_release(milestone.id, lock=True)
    subject = _subject(actor, grant, milestone, pending)
    require(Action.prepare_release, subject)
    _check_gates(gate_trace(milestone, today))
    prepared = PreparedRelease(
        milestone_id=milestone.id,
        grant_id=grant.id,
        amount=milestone.tranche_amount,
        fiscal_year=milestone.fiscal_year,
        state=PreparedReleaseState.pending,
        prepared_by_id=actor.id,
        prepared_at=utcnow(),
    )
    db.session.add(prepared)
    try:
        db.session.flush()  # the unique pending release per milestone, against a race
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_refusal_text(Action.prepare_release, Reason.prepared)) from None
    audit.record(actor, "tranche.prepare", prepared, after=prepared_snapshot(prepared))
    db.session.commit()
    return prepared


@use_case
def approve_release(actor: Actor, prepared_id: int, today: date) -> Disbursement:
    """A second officer approves a prepared release: the tranche goes out now, through every
    check of a release (gates, pool, states, separations) on the locked rows, exactly once."""
    prepared = _get_prepared(prepared_id)
    disbursement = _disburse(actor, prepared.milestone_id, today, prepared_id)
    db.session.commit()
    return disbursement


@use_case
def cancel_release(actor: Actor, prepared_id: int) -> PreparedRelease:
    """Withdraw (the preparer) or turn down (another officer) a prepared release."""
    found = _get_prepared(prepared_id)
    grant = lock_grant(found.grant_id)
    milestone = _lock_milestone(found.milestone_id)
    pending = pending_release(milestone.id, lock=True)
    subject = _subject(actor, grant, milestone, pending)
    require(Action.cancel_release, subject)
    if pending is None or pending.id != prepared_id:
        raise Conflict(N_("This prepared release was approved or cancelled meanwhile."))
    before = prepared_snapshot(pending)
    pending.state = PreparedReleaseState.cancelled
    pending.decided_by_id = actor.id
    pending.decided_at = utcnow()
    audit.record(actor, "tranche.cancel_prepared", pending, before, prepared_snapshot(pending))
    db.session.commit()
    return pending


def _disburse(
    actor: Actor, milestone_id: int, today: date, prepared_id: int | None
) -> Disbursement:
    """The release itself, by one officer (`prepared_id` None) or as the approval of a
    prepared release; the caller commits."""
    milestone = get_milestone(milestone_id)
    grant = lock_grant(milestone.grant_id)
    milestone = _lock_milestone(milestone_id)
    pending = pending_release(milestone.id, lock=True)
    # Decided on the locked rows: who releases, whether it is out already, the states.
    subject = _subject(actor, grant, milestone, pending)
    action = Action.release_tranche if prepared_id is None else Action.approve_release
    require(action, subject)
    if prepared_id is not None:
        _check_prepared(pending, prepared_id, milestone)
    _check_gates(gate_trace(milestone, today))
    payment = payment_of(milestone)
    if payment.refusal is not None:
        raise RuleViolation(payment.refusal, {"settlement": [payment.refusal]})
    years = [milestone.fiscal_year, *(s.fiscal_year for s in payment.set_offs)]
    pools = lock_pools(grant.program_id, years)
    pool = pools.get(milestone.fiscal_year)
    if pool is None:
        raise RuleViolation(_no_pool_message(milestone.fiscal_year))
    _check_room(pool, payment.amount)
    before = pool_numbers(pool)
    # A commitment that was never recorded (data from before the pools) cannot go negative.
    pool.committed = max(pool.committed - payment.reservation, 0)
    pool.released += payment.amount
    milestone.released_at = utcnow()
    disbursement = Disbursement(
        milestone_id=milestone.id,
        grant_id=grant.id,
        budget_pool_id=pool.id,
        amount=payment.paid,
        set_off=payment.set_off,
        fiscal_year=milestone.fiscal_year,
        released_by_id=actor.id,
        released_at=milestone.released_at,
    )
    db.session.add(disbursement)
    _insert_or_conflict()
    _set_off(pools, payment.set_offs, disbursement)
    completed = _complete_if_done(grant, milestone)
    after = pool_numbers(pool) | {"milestone_id": milestone.id, "amount": payment.paid}
    if payment.set_offs:
        after["set_off"] = {s.period: s.excess for s in payment.set_offs}
    if pending is not None and prepared_id is not None:
        after |= {"prepared_release_id": pending.id, "prepared_by_id": pending.prepared_by_id}
        _approved(actor, pending, disbursement)
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
    return disbursement


def _set_off(
    pools: dict[int, BudgetPool], settlements: tuple[Settlement, ...], paid_by: Disbursement
) -> None:
    """An earlier period's excess kept back from this tranche returns to its own pool."""
    for settlement in settlements:
        pools[settlement.fiscal_year].returned += settlement.excess
        settlement.set_off_disbursement_id = paid_by.id


def _subject(
    actor: Actor, grant: Grant, milestone: Milestone, pending: PreparedRelease | None
) -> Subject:
    relation = grant_subject(actor, grant, milestone, released=is_released(milestone.id))
    return release_relation(actor, grant, milestone, relation, pending)


def _check_prepared(
    pending: PreparedRelease | None, prepared_id: int, milestone: Milestone
) -> None:
    if pending is None or pending.id != prepared_id:
        raise Conflict(N_("This prepared release was approved or cancelled meanwhile."))
    if pending.amount != milestone.tranche_amount or pending.fiscal_year != milestone.fiscal_year:
        raise Conflict(
            N_(
                "The tranche changed after this release was prepared (%(prepared)s then, "
                "%(now)s now): cancel it and prepare the release again.",
                prepared=Amount(pending.amount),
                now=Amount(milestone.tranche_amount),
            )
        )


def _approved(actor: Actor, pending: PreparedRelease, disbursement: Disbursement) -> None:
    before = prepared_snapshot(pending)
    pending.state = PreparedReleaseState.approved
    pending.decided_by_id = actor.id
    pending.decided_at = disbursement.released_at
    pending.disbursement_id = disbursement.id
    audit.record(actor, "tranche.approve", pending, before, prepared_snapshot(pending))


def _get_prepared(prepared_id: int) -> PreparedRelease:
    prepared = db.session.get(PreparedRelease, prepared_id) if 0 < prepared_id <= ID_MAX else None
    if prepared is None:
        raise NotFound(N_("Not found."))
    return prepared


def _refusal_text(action: Action, reason: Reason) -> Problem:
    return refusal(action, Subject(role=Role.officer), reason)


def prepared_snapshot(prepared: PreparedRelease) -> dict[str, Any]:
    return {
        "milestone_id": prepared.milestone_id,
        "amount": prepared.amount,
        "fiscal_year": prepared.fiscal_year,
        "state": str(prepared.state),
        "prepared_by_id": prepared.prepared_by_id,
        "decided_by_id": prepared.decided_by_id,
        "disbursement_id": prepared.disbursement_id,
    }


def _lock_milestone(milestone_id: int) -> Milestone:
    return locked_row(Milestone, milestone_id)


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
    shortfall = pool.net_released + amount - pool.appropriation
    if shortfall > 0:
        raise RuleViolation(
            N_(
                "The %(year)s budget pool cannot cover this tranche: %(shortfall)s short "
                "(appropriation %(appropriation)s, already released %(released)s).",
                year=FiscalYear(pool.fiscal_year),
                shortfall=Amount(shortfall),
                appropriation=Amount(pool.appropriation),
                released=Amount(pool.net_released),
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
