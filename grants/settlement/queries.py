"""Reading settlement: a grant's periods under its pinned rules, its reports, and what the
actor may do with each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select

from grants.accounts.models import User
from grants.awards.models import Disbursement, Grant, Milestone, Settlement
from grants.awards.queries import grant_subject, visible_grant
from grants.core.errors import NotFound
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.rules.settlement import (
    Line,
    PaymentMode,
    Settled,
    SettlementFacts,
    SettlementRules,
    settle,
    settlement_rules,
)
from grants.settlement.models import Receipt, ResultsReport
from grants.settlement.rules import (
    EDITABLE,
    Period,
    PeriodMilestone,
    ReportState,
    find_period,
    periods,
)

WAITING_MAX = 200


def rules_of(grant: Grant) -> SettlementRules:
    """The settlement rules of the rule set the grant pinned at award."""
    return settlement_rules(grant.ruleset.document)


def grant_periods(grant: Grant) -> list[Period]:
    milestones = db.session.scalars(
        select(Milestone).where(
            Milestone.grant_id == grant.id, Milestone.state != MilestoneState.cancelled
        )
    )
    return periods(
        rules_of(grant).period,
        [
            PeriodMilestone(
                m.id,
                m.sequence,
                m.fiscal_year,
                m.due_date,
                m.tranche_amount,
                m.state == MilestoneState.approved,
            )
            for m in milestones
        ],
    )


def report_of(grant_id: int, period: str) -> ResultsReport | None:
    return db.session.scalar(
        select(ResultsReport).where(
            ResultsReport.grant_id == grant_id, ResultsReport.period == period
        )
    )


def settlement_of(grant_id: int, period: str) -> Settlement | None:
    return db.session.scalar(
        select(Settlement).where(Settlement.grant_id == grant_id, Settlement.period == period)
    )


def paid_for(period: Period) -> int:
    """What the period's tranches paid out already (an advance, 概算払), set-offs included."""
    ids = [m.id for m in period.milestones]
    total = db.session.scalar(
        select(func.coalesce(func.sum(Disbursement.amount + Disbursement.set_off), 0)).where(
            Disbursement.milestone_id.in_(ids)
        )
    )
    return int(total or 0)


def unpaid_approved(period: Period) -> list[tuple[int, int]]:
    """(milestone id, tranche) of the period's approved milestones not released yet."""
    released = set(
        db.session.scalars(
            select(Disbursement.milestone_id).where(
                Disbursement.milestone_id.in_([m.id for m in period.milestones])
            )
        )
    )
    return [(m.id, m.tranche) for m in period.milestones if m.approved and m.id not in released]


def settle_report(
    report: ResultsReport, period: Period, rules: SettlementRules | None = None
) -> Settled:
    """The final amount the report comes to now (accepted lines, or claimed before
    inspection), by the grant's pinned rules (or `rules`: a draft's, for the what-if)."""
    grant = report.grant
    rules = rules or rules_of(grant)
    advance = paid_for(period) if rules.payment is PaymentMode.advance else None
    facts = SettlementFacts(
        org_kind=str(grant.organization.kind),
        lines=[
            Line(line.category, line.claimed, line.accepted, line.reason or "")
            for line in report.lines
        ],
        indirect_claimed=report.indirect_cost,
        decided=period.decided,
        advance_paid=advance,
    )
    return settle(rules, facts)


def _without_tranches(grant: Grant, report: ResultsReport) -> Period:
    """The period of a report whose milestones were cancelled since (a termination): it
    has nothing left to settle, and its report is still shown."""
    return Period(report.period, rules_of(grant).period, report.fiscal_year, report.period_end, ())


def pending_reports(program_id: int) -> list[tuple[ResultsReport, Period]]:
    """The programme's reports submitted or inspected, not confirmed yet, with their periods."""
    query = (
        select(ResultsReport)
        .join(Grant, Grant.id == ResultsReport.grant_id)
        .where(
            Grant.program_id == program_id,
            ResultsReport.state.in_([ReportState.submitted, ReportState.inspected]),
        )
        .order_by(ResultsReport.id)
    )
    found = []
    for report in db.session.scalars(query):
        period = find_period(grant_periods(report.grant), report.period)
        if period is not None:
            found.append((report, period))
    return found


@dataclass(frozen=True)
class PeriodRow:
    """One settlement period of a grant as its settlement page lists it."""

    period: Period
    report: ResultsReport | None
    settlement: Settlement | None
    due_on: date
    ended: bool
    overdue: bool  # past its due date without a submitted report
    may_file: bool  # the grantee may open the report form now


@dataclass(frozen=True)
class GrantSettlement:
    grant: Grant
    rules: SettlementRules
    rows: list[PeriodRow]
    indirect_cap: Fraction  # for the grantee's organisation type


def grant_settlement(actor: User, grant_id: int, today: date) -> GrantSettlement:
    """The grant's periods with their reports and final amounts (for those who see it)."""
    grant, subject = visible_grant(actor, grant_id)
    files = decide(Action.file_results_report, subject).allowed
    rules = rules_of(grant)
    reports = {
        r.period: r
        for r in db.session.scalars(select(ResultsReport).where(ResultsReport.grant_id == grant.id))
    }
    settled = {
        s.period: s
        for s in db.session.scalars(select(Settlement).where(Settlement.grant_id == grant.id))
    }
    rows = []
    for period in grant_periods(grant):
        report = reports.get(period.key)
        due_on = period.due_on(rules.report_due_days)
        filed = report is not None and report.state != ReportState.draft
        editable = report is None or report.state in EDITABLE
        rows.append(
            PeriodRow(
                period,
                report,
                settled.get(period.key),
                due_on,
                period.ended(today),
                today > due_on and not filed,
                files and editable and period.ended(today),
            )
        )
    return GrantSettlement(grant, rules, rows, rules.cap_for(str(grant.organization.kind)))


@dataclass(frozen=True)
class Draft:
    grant: Grant
    period: Period
    rules: SettlementRules
    report: ResultsReport | None


def draft_of(actor: User, grant_id: int, period: str) -> Draft:
    """The report form of a period for the grantee (the service decides what may be saved)."""
    grant, subject = visible_grant(actor, grant_id)
    require(Action.file_results_report, subject)
    found = find_period(grant_periods(grant), period)
    if found is None:
        raise NotFound(N_("Not found."))
    return Draft(grant, found, rules_of(grant), report_of(grant.id, period))


def waiting(actor: User) -> list[ResultsReport]:
    """Reports waiting for an officer: submitted (to inspect) or inspected (to confirm)."""
    require(Action.inspect_results_report, Subject(role=actor.role))
    query = (
        select(ResultsReport)
        .where(ResultsReport.state.in_([ReportState.submitted, ReportState.inspected]))
        .order_by(ResultsReport.submitted_at, ResultsReport.id)
        .limit(WAITING_MAX)
    )
    return list(db.session.scalars(query))


def report_id_of(settlement_id: int) -> int:
    settlement = db.session.get(Settlement, settlement_id)
    report = None if settlement is None else report_of(settlement.grant_id, settlement.period)
    if report is None:
        raise NotFound(N_("Not found."))
    return report.id


def open_receipt(actor: User, receipt_id: int, *, upload_folder: Path) -> tuple[Path, str, str]:
    """(path on disk, original name, content type) of a receipt of a grant the actor sees."""
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(N_("Not found."))
    visible_grant(actor, receipt.report.grant_id)
    folder = upload_folder.resolve()
    path = folder / receipt.stored_name
    if path.parent != folder or not path.is_file():
        raise NotFound(N_("The file is missing from the store. Tell the programme office."))
    return path, receipt.original_name, receipt.content_type


@dataclass(frozen=True)
class ReportView:
    report: ResultsReport
    period: Period
    rules: SettlementRules
    settled: Settled
    settlement: Settlement | None
    may_edit: bool
    may_inspect: bool
    may_confirm: bool
    may_record_return: bool


def report_view(actor: User, report_id: int) -> ReportView:
    """A results report as its page and endpoint show it, with what the actor may do now."""
    report = db.session.get(ResultsReport, report_id)
    if report is None:
        raise NotFound(N_("Not found."))
    grant, _subject = visible_grant(actor, report.grant_id)
    period = find_period(grant_periods(grant), report.period) or _without_tranches(grant, report)
    settlement = settlement_of(grant.id, report.period)
    subject = grant_subject(actor, grant)
    inspector = Subject(role=actor.role, is_inspector=report.inspected_by_id == actor.id)
    return ReportView(
        report=report,
        period=period,
        rules=rules_of(grant),
        settled=settle_report(report, period),
        settlement=settlement,
        may_edit=decide(Action.file_results_report, subject).allowed and report.state in EDITABLE,
        may_inspect=decide(Action.inspect_results_report, subject).allowed
        and report.state in (ReportState.submitted, ReportState.inspected),
        may_confirm=decide(Action.confirm_final_amount, inspector).allowed
        and report.state == ReportState.inspected,
        may_record_return=decide(Action.record_excess_return, subject).allowed
        and settlement is not None
        and settlement.excess_method == "returned"
        and settlement.returned_on is None,
    )
