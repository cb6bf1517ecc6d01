"""The officers' side of settlement: a submitted results report returned for correction or
inspected (確定検査: each line accepted or adjusted, with a reason the grantee reads as
written); a second officer confirms the final amount (額の確定), once, and, for an advance
above it (概算払), chooses a return (返還, tracked until received) or a set-off against the
next tranche (相殺). The payment itself is the release use case's (releases.service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.awards.models import Disbursement, Grant, Milestone, Settlement
from grants.awards.queries import grant_subject
from grants.awards.service import lock_grant
from grants.core import audit
from grants.core.actors import Actor
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import Amount
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.states import UNDECIDED, MilestoneState
from grants.extensions import db
from grants.programs.service import lock_pools
from grants.rules.settlement import ExcessMethod, FundType, allocate
from grants.settlement.models import CostLine, ResultsReport
from grants.settlement.queries import paid_for, rules_of, settle_report, unpaid_approved
from grants.settlement.rules import Period, ReportState, report_transition
from grants.settlement.service import (
    NOTE_MAX,
    amount_errors,
    lock_report,
    period_of,
    snapshot,
    text_errors,
)


@dataclass(frozen=True)
class LineDecision:
    """The inspection of one line: the accepted amount and, when it differs, the reason."""

    accepted: Any
    reason: str


@use_case
def return_report(actor: Actor, report_id: int, note: str, today: date) -> ResultsReport:
    """An officer returns a submitted (or inspected) report to the grantee for correction."""
    grant, report = lock_report(report_id)
    require(Action.inspect_results_report, grant_subject(actor, grant))
    note = (note or "").strip()
    if errors := text_errors("note", note, NOTE_MAX, required=True):
        raise RuleViolation(N_("The results report could not be returned."), errors)
    before = snapshot(report)
    report.state = report_transition(report.state, ReportState.returned)
    report.correction_note = note
    report.inspected_by_id = None
    report.inspected_at = None
    audit.record(
        actor, "results_report.return", report, before, snapshot(report) | {"on": str(today)}
    )
    db.session.commit()
    return report


@use_case
def inspect_report(
    actor: Actor, report_id: int, decisions: Sequence[LineDecision], today: date
) -> ResultsReport:
    """An officer accepts or adjusts every line (確定検査); a reason is required for each
    adjusted line, and the grantee reads it as written."""
    grant, report = lock_report(report_id)
    require(Action.inspect_results_report, grant_subject(actor, grant))
    if report.state not in (ReportState.submitted, ReportState.inspected):
        report_transition(report.state, ReportState.inspected)  # refuses in words
    errors = _decision_errors(report.lines, decisions)
    if errors:
        raise RuleViolation(N_("The inspection could not be saved."), errors)
    before = snapshot(report)
    for line, decision in zip(report.lines, decisions, strict=True):
        line.accepted = int(decision.accepted)
        line.reason = (decision.reason or "").strip() or None
    report.state = report_transition(report.state, ReportState.inspected)
    report.inspected_by_id = actor.id
    report.inspected_at = utcnow()
    period = period_of(grant, report)
    after = snapshot(report) | {"final_amount": settle_report(report, period).final_amount}
    audit.record(actor, "results_report.inspect", report, before, after | {"on": str(today)})
    db.session.commit()
    return report


@use_case
def confirm_final_amount(
    actor: Actor, report_id: int, excess_method: str | None, today: date
) -> Settlement:
    """A second officer confirms the final amount of the inspected report's period, once.

    Paid after settlement (精算払), the final amount is what the period's releases pay.
    Paid in advance (概算払), an advance above it is returned by a due date or set off
    against the next tranche, as `excess_method` says."""
    grant, report = lock_report(report_id)
    subject = Subject(role=actor.role, is_inspector=report.inspected_by_id == actor.id)
    require(Action.confirm_final_amount, subject)
    state = report_transition(report.state, ReportState.confirmed)
    rules = rules_of(grant)
    period = period_of(grant, report)
    settled = settle_report(report, period)
    method = _excess_method(grant, period, settled.excess, excess_method)
    paid = paid_for(period)
    unpaid = unpaid_approved(period)
    shares = allocate(max(settled.final_amount - paid, 0), unpaid)
    settlement = Settlement(
        grant_id=grant.id,
        period=period.key,
        fiscal_year=period.fiscal_year,
        milestone_id=period.milestone_id,
        payment=str(rules.payment),
        decided=period.decided,
        final_amount=settled.final_amount,
        shares={str(milestone_id): share for milestone_id, share in shares.items()},
        advance_paid=paid,
        excess=settled.excess,
        excess_method=None if method is None else str(method),
        return_due_on=today + timedelta(days=rules.return_due_days)
        if method is ExcessMethod.returned
        else None,
        trace=settled.trace(),
        confirmed_by_id=actor.id,
        confirmed_at=utcnow(),
    )
    db.session.add(settlement)
    _flush_once()
    before = snapshot(report)
    report.state = state
    target = _carried_to(grant, period) if rules.fund is FundType.fund else None
    settlement.carried = _free_or_carry(grant, unpaid, shares, target)
    settlement.carried_to_id = target.id if target is not None and settlement.carried else None
    after = {
        "period": period.key,
        "decided": period.decided,
        "final_amount": settled.final_amount,
        "advance_paid": paid,
        "excess": settled.excess,
        "excess_method": settlement.excess_method,
        "shares": settlement.shares,
        "carried": settlement.carried,
        "carried_to": settlement.carried_to_id,
        "report": report.id,
    }
    audit.record(actor, "settlement.confirm", settlement, before, after)
    db.session.commit()
    return settlement


@use_case
def record_return(actor: Actor, settlement_id: int, received_on: date, today: date) -> Settlement:
    """The excess of an advance came back: the pool of its fiscal year gets it back."""
    found = db.session.get(Settlement, settlement_id)
    if found is None:
        raise NotFound(N_("Not found."))
    grant = lock_grant(found.grant_id)
    settlement = db.session.scalar(
        select(Settlement)
        .where(Settlement.id == settlement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert settlement is not None  # the grant's lock keeps it
    require(Action.record_excess_return, grant_subject(actor, grant))
    if settlement.excess_method != ExcessMethod.returned or not settlement.excess:
        raise Conflict(N_("Nothing is to be returned for this final amount."))
    if settlement.returned_on is not None:
        raise Conflict(N_("This return has already been recorded."))
    if received_on > today:
        raise RuleViolation(
            N_("The return could not be recorded."),
            {"received_on": [N_("A return cannot be received after today.")]},
        )
    pool = lock_pools(grant.program_id, [settlement.fiscal_year]).get(settlement.fiscal_year)
    if pool is None:
        raise Conflict(N_("There is no budget pool to return this money to."))
    before = {"returned": pool.returned}
    pool.returned += settlement.excess
    settlement.returned_on = received_on
    after = {
        "returned": pool.returned,
        "amount": settlement.excess,
        "received_on": str(received_on),
    }
    audit.record(actor, "settlement.record_return", settlement, before, after)
    db.session.commit()
    return settlement


def _decision_errors(
    lines: Sequence[CostLine], decisions: Sequence[LineDecision]
) -> dict[str, list[Problem]]:
    if len(decisions) != len(lines):
        return {"lines": [N_("Decide every line of the report.")]}
    errors: dict[str, list[Problem]] = {}
    for index, (line, decision) in enumerate(zip(lines, decisions, strict=True)):
        key = f"lines.{index}"
        if amount := amount_errors(f"{key}.accepted", decision.accepted):
            errors |= amount
            continue
        if decision.accepted > line.claimed:
            errors[f"{key}.accepted"] = [
                N_("At most the claimed %(claimed)s.", claimed=Amount(line.claimed))
            ]
            continue
        reason = (decision.reason or "").strip()
        needed = decision.accepted != line.claimed
        errors |= text_errors(f"{key}.reason", reason, NOTE_MAX, required=needed)
    return errors


def _excess_method(
    grant: Grant, period: Period, excess: int, chosen: str | None
) -> ExcessMethod | None:
    """How the excess comes back, checked: a set-off needs a later tranche larger than it."""
    if not excess:
        return None
    try:
        method = ExcessMethod(chosen or "")
    except ValueError:
        raise RuleViolation(
            N_("The final amount could not be confirmed."),
            {
                "excess_method": [
                    N_(
                        "The advance exceeds the final amount by %(excess)s: choose a return "
                        "or a set-off against the next tranche.",
                        excess=Amount(excess),
                    )
                ]
            },
        ) from None
    if method is ExcessMethod.set_off:
        problem = _set_off_problem(grant, period, excess)
        if problem is not None:
            raise RuleViolation(
                N_("The final amount could not be confirmed."), {"excess_method": [problem]}
            )
    return method


def _set_off_problem(grant: Grant, period: Period, excess: int) -> Problem | None:
    last = max(m.sequence for m in period.milestones)
    released = select(Disbursement.milestone_id).where(Disbursement.grant_id == grant.id)
    following = db.session.scalar(
        select(Milestone)
        .where(
            Milestone.grant_id == grant.id,
            Milestone.sequence > last,
            Milestone.state != MilestoneState.cancelled,
            Milestone.id.not_in(released),
        )
        .order_by(Milestone.sequence)
        .limit(1)
    )
    if following is None:
        return N_("There is no later tranche to set this off against: ask for a return.")
    if following.tranche_amount <= excess:
        return N_(
            "The next tranche (%(tranche)s) is not larger than the excess: ask for a return.",
            tranche=Amount(following.tranche_amount),
        )
    return None


def _flush_once() -> None:
    """The unique settlement per grant and period is the last line against a double
    confirmation (the report's lock is the first)."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("The final amount of this period has already been confirmed.")) from None


def _carried_to(grant: Grant, period: Period) -> Milestone | None:
    """The grant's first milestone after the period still to be decided (row-locked): where
    a fund carries over what the final amount cut; None when the period was the last."""
    last = max((m.sequence for m in period.milestones), default=0)
    query = (
        select(Milestone)
        .where(
            Milestone.grant_id == grant.id,
            Milestone.sequence > last,
            Milestone.state.in_(UNDECIDED),
        )
        .order_by(Milestone.sequence)
        .limit(1)
        .with_for_update()
    )
    return db.session.scalar(query)


def _free_or_carry(
    grant: Grant,
    unpaid: list[tuple[int, int]],
    shares: dict[int, int],
    target: Milestone | None,
) -> int:
    """What the final amount cut from tranches still to pay leaves their pools. From a fund
    with a milestone still ahead (`target`, whose year has a pool), it is carried over: the
    target's tranche grows by it and its pool commits it; otherwise it lapses. The amount
    carried over."""
    cuts = {milestone_id: tranche - shares[milestone_id] for milestone_id, tranche in unpaid}
    milestones = db.session.scalars(select(Milestone).where(Milestone.id.in_(list(cuts))))
    years = {m.id: m.fiscal_year for m in milestones}
    ahead = {target.fiscal_year} if target is not None else set()
    pools = lock_pools(grant.program_id, set(years.values()) | ahead)
    for milestone_id, cut in cuts.items():
        pool = pools.get(years[milestone_id])
        if pool is not None:
            pool.committed = max(pool.committed - cut, 0)
    carried = sum(cuts.values())
    target_pool = pools.get(target.fiscal_year) if target is not None else None
    if target is None or target_pool is None or carried <= 0:
        return 0
    target.tranche_amount += carried
    target_pool.committed += carried
    return carried
