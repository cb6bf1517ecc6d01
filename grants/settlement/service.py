"""Settlement's use cases: the grantee files a period's results report (実績報告); an officer
returns it for correction or inspects it (確定検査: each line accepted or adjusted, with a
reason); a second officer confirms the final amount (額の確定), and, for an advance above it
(概算払), chooses a return (返還, tracked until received) or a set-off against the next
tranche (相殺). The payment itself is the release use case's (releases.service).

Locks follow the release's order: the grant first, then the report or settlement, then the
budget pools by fiscal year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
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
from grants.core.money import YEN_MAX, Amount
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.states import MilestoneState
from grants.core.text import control_problem
from grants.extensions import db
from grants.milestones.evidence.service import Upload, check_files, discard, write_file
from grants.programs.service import lock_pools
from grants.rules.settlement import ExcessMethod, SettlementRules, allocate
from grants.settlement.models import CostLine, Receipt, ResultsReport
from grants.settlement.queries import (
    grant_periods,
    paid_for,
    rules_of,
    settle_report,
    unpaid_approved,
)
from grants.settlement.rules import (
    EDITABLE,
    Period,
    ReportState,
    Said,
    find_period,
    not_ended,
    report_transition,
)

LINES_MAX = 200
DESCRIPTION_MAX = 300
NOTE_MAX = 5_000
_NOT_SAVED = N_("The results report could not be saved.")


@dataclass(frozen=True)
class LineInput:
    """A cost line as the grantee enters it (the amount as an int; anything else is refused)."""

    category: str
    description: str
    claimed: Any


@dataclass(frozen=True)
class LineDecision:
    """The inspection of one line: the accepted amount and, when it differs, the reason."""

    accepted: Any
    reason: str


@use_case
def save_report(
    actor: Actor,
    grant_id: int,
    period: str,
    lines: Sequence[LineInput],
    indirect_cost: Any,
    note: str,
    files: Sequence[Upload],
    today: date,
    *,
    upload_folder: Path,
) -> ResultsReport:
    """Create or change the draft (or returned) results report of a period that has ended;
    the lines replace the report's lines, the files are added to its receipts."""
    grant = lock_grant(grant_id)
    require(Action.file_results_report, grant_subject(actor, grant))
    rules = rules_of(grant)
    found = find_period(grant_periods(grant), period)
    if found is None:
        raise RuleViolation(_NOT_SAVED, {"period": [N_("This grant has no such period.")]})
    if not found.ended(today):
        raise RuleViolation(_NOT_SAVED, {"period": [not_ended(found)]})
    report = _locked_report(grant.id, found.key)
    if report is not None and report.state not in EDITABLE:
        raise Conflict(
            N_(
                "This results report is “%(state)s”: it can no longer be changed.",
                state=Said(report.state),
            )
        )
    note = (note or "").strip()
    errors = _line_errors(rules, lines)
    errors |= _amount_errors("indirect_cost", indirect_cost)
    errors |= _text_errors("note", note, NOTE_MAX, required=False)
    checked, problems = check_files(files)
    if problems:
        errors["files"] = problems
    if errors:
        raise RuleViolation(_NOT_SAVED, errors)
    before = None if report is None else snapshot(report)
    if report is None:
        report = _new_report(grant, found, rules)
    report.lines = [
        CostLine(
            position=index,
            category=line.category,
            description=line.description.strip(),
            claimed=int(line.claimed),
        )
        for index, line in enumerate(lines)
    ]
    report.indirect_cost = int(indirect_cost)
    report.note = note
    written: list[Path] = []
    try:
        for item in checked:
            report.receipts.append(Receipt(**write_file(item, upload_folder.resolve(), written)))
        audit.record(actor, "results_report.save", report, before, snapshot(report))
        db.session.commit()
    except IntegrityError:
        discard(written)
        raise Conflict(N_("This results report was saved at the same time elsewhere.")) from None
    except BaseException:
        discard(written)
        raise
    return report


@use_case
def submit_report(actor: Actor, report_id: int, today: date) -> ResultsReport:
    """The grantee submits the report for inspection (again, after a correction)."""
    grant, report = _lock(report_id)
    require(Action.file_results_report, grant_subject(actor, grant))
    if not report.lines:
        raise RuleViolation(
            N_("The results report could not be submitted."),
            {"lines": [N_("Add at least one cost line.")]},
        )
    before = snapshot(report)
    report.state = report_transition(report.state, ReportState.submitted)
    report.submitted_at = utcnow()
    report.submitted_on = today
    audit.record(actor, "results_report.submit", report, before, snapshot(report))
    db.session.commit()
    return report


@use_case
def return_report(actor: Actor, report_id: int, note: str, today: date) -> ResultsReport:
    """An officer returns a submitted (or inspected) report to the grantee for correction."""
    grant, report = _lock(report_id)
    require(Action.inspect_results_report, grant_subject(actor, grant))
    note = (note or "").strip()
    if errors := _text_errors("note", note, NOTE_MAX, required=True):
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
    grant, report = _lock(report_id)
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
    period = _period(grant, report)
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
    grant, report = _lock(report_id)
    subject = Subject(role=actor.role, is_inspector=report.inspected_by_id == actor.id)
    require(Action.confirm_final_amount, subject)
    state = report_transition(report.state, ReportState.confirmed)
    rules = rules_of(grant)
    period = _period(grant, report)
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
    _free_cut_commitments(grant, unpaid, shares)
    after = {
        "period": period.key,
        "decided": period.decided,
        "final_amount": settled.final_amount,
        "advance_paid": paid,
        "excess": settled.excess,
        "excess_method": settlement.excess_method,
        "shares": settlement.shares,
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


def snapshot(report: ResultsReport) -> dict[str, Any]:
    return {
        "state": str(report.state),
        "period": report.period,
        "indirect_cost": report.indirect_cost,
        "lines": [
            [line.category, line.claimed, line.accepted, line.reason] for line in report.lines
        ],
        "receipts": [receipt.sha256 for receipt in report.receipts],
    }


# --- helpers -----------------------------------------------------------------------------------


def _lock(report_id: int) -> tuple[Grant, ResultsReport]:
    found = db.session.get(ResultsReport, report_id)
    if found is None:
        raise NotFound(N_("Not found."))
    grant = lock_grant(found.grant_id)
    report = db.session.scalar(
        select(ResultsReport)
        .where(ResultsReport.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if report is None:
        raise NotFound(N_("Not found."))
    return grant, report


def _locked_report(grant_id: int, period: str) -> ResultsReport | None:
    return db.session.scalar(
        select(ResultsReport)
        .where(ResultsReport.grant_id == grant_id, ResultsReport.period == period)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _new_report(grant: Grant, period: Period, rules: SettlementRules) -> ResultsReport:
    report = ResultsReport(
        grant_id=grant.id,
        period=period.key,
        fiscal_year=period.fiscal_year,
        milestone_id=period.milestone_id,
        period_end=period.end,
        due_on=period.due_on(rules.report_due_days),
        state=ReportState.draft,
    )
    db.session.add(report)
    return report


def _period(grant: Grant, report: ResultsReport) -> Period:
    period = find_period(grant_periods(grant), report.period)
    if period is None:  # its milestone was cancelled since
        raise Conflict(N_("This period has no tranche left to settle."))
    return period


def _amount_errors(key: str, value: Any) -> dict[str, list[Problem]]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return {key: [N_("Enter a whole number of yen, zero or more.")]}
    if value > YEN_MAX:
        return {key: [N_("This amount is too large.")]}
    return {}


def _text_errors(key: str, text: str, limit: int, *, required: bool) -> dict[str, list[Problem]]:
    if required and not text:
        return {key: [N_("This field is required.")]}
    if len(text) > limit:
        return {key: [N_("At most %(n)d characters.", n=limit)]}
    if problem := control_problem(text):
        return {key: [problem]}
    return {}


def _line_errors(rules: SettlementRules, lines: Sequence[LineInput]) -> dict[str, list[Problem]]:
    if len(lines) > LINES_MAX:
        return {"lines": [N_("At most %(n)d cost lines.", n=LINES_MAX)]}
    errors: dict[str, list[Problem]] = {}
    for index, line in enumerate(lines):
        key = f"lines.{index}"
        if rules.category(line.category) is None:
            errors[f"{key}.category"] = [N_("Choose one of the programme's cost categories.")]
        errors |= _text_errors(
            f"{key}.description", (line.description or "").strip(), DESCRIPTION_MAX, required=True
        )
        errors |= _amount_errors(f"{key}.claimed", line.claimed)
    return errors


def _decision_errors(
    lines: Sequence[CostLine], decisions: Sequence[LineDecision]
) -> dict[str, list[Problem]]:
    if len(decisions) != len(lines):
        return {"lines": [N_("Decide every line of the report.")]}
    errors: dict[str, list[Problem]] = {}
    for index, (line, decision) in enumerate(zip(lines, decisions, strict=True)):
        key = f"lines.{index}"
        if amount := _amount_errors(f"{key}.accepted", decision.accepted):
            errors |= amount
            continue
        if decision.accepted > line.claimed:
            errors[f"{key}.accepted"] = [
                N_("At most the claimed %(claimed)s.", claimed=Amount(line.claimed))
            ]
            continue
        reason = (decision.reason or "").strip()
        needed = decision.accepted != line.claimed
        errors |= _text_errors(f"{key}.reason", reason, NOTE_MAX, required=needed)
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


def _free_cut_commitments(
    grant: Grant, unpaid: list[tuple[int, int]], shares: dict[int, int]
) -> None:
    """What the final amount cut from tranches still to pay goes back to their pools."""
    tranches = dict(unpaid)
    milestones = db.session.scalars(select(Milestone).where(Milestone.id.in_(list(tranches))))
    years = {m.id: m.fiscal_year for m in milestones}
    pools = lock_pools(grant.program_id, years.values())
    for milestone_id, tranche in tranches.items():
        pool = pools.get(years[milestone_id])
        if pool is not None:
            pool.committed = max(pool.committed - (tranche - shares[milestone_id]), 0)
