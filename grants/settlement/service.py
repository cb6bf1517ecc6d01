"""The grantee's results report (実績報告) of a period that has ended: a draft saved and
changed, its receipts (the evidence files' rules and store), then submitted for inspection
(settlement.inspection). Shared with the inspection: the locks and the input checks.

Locks follow the release's order: the grant first, then the report or settlement, then the
budget pools by fiscal year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.awards.models import Grant
from grants.awards.queries import grant_subject
from grants.awards.service import lock_grant
from grants.core import audit
from grants.core.actors import Actor
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import YEN_MAX
from grants.core.permissions import Action, require
from grants.core.problems import N_, Problem
from grants.core.text import control_problem
from grants.extensions import db
from grants.milestones.evidence.service import Upload, check_files, discard_files, stored_fields
from grants.rules.settlement import SettlementRules
from grants.settlement.models import CostLine, Receipt, ResultsReport
from grants.settlement.queries import (
    grant_periods,
    rules_of,
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
    if report is not None:
        _check_editable(report)
    note = (note or "").strip()
    errors = _line_errors(rules, lines)
    errors |= amount_errors("indirect_cost", indirect_cost)
    errors |= text_errors("note", note, NOTE_MAX, required=False)
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
            report.receipts.append(Receipt(**stored_fields(item, upload_folder.resolve(), written)))
        audit.record(actor, "results_report.save", report, before, snapshot(report))
        db.session.commit()
    except IntegrityError:
        discard_files(written)
        raise Conflict(N_("This results report was saved at the same time elsewhere.")) from None
    except BaseException:
        discard_files(written)
        raise
    return report


@use_case
def add_receipts(
    actor: Actor, report_id: int, files: Sequence[Upload], *, upload_folder: Path
) -> ResultsReport:
    """Attach receipt files to a report the grantee may still change."""
    grant, report = lock_report(report_id)
    require(Action.file_results_report, grant_subject(actor, grant))
    _check_editable(report)
    checked, problems = check_files(files)
    if problems or not checked:
        problems = problems or [N_("Choose at least one file.")]
        raise RuleViolation(N_("The receipts could not be added."), {"files": problems})
    before = snapshot(report)
    written: list[Path] = []
    try:
        for item in checked:
            report.receipts.append(Receipt(**stored_fields(item, upload_folder.resolve(), written)))
        audit.record(actor, "results_report.add_receipts", report, before, snapshot(report))
        db.session.commit()
    except BaseException:
        discard_files(written)
        raise
    return report


@use_case
def submit_report(actor: Actor, report_id: int, today: date) -> ResultsReport:
    """The grantee submits the report for inspection (again, after a correction)."""
    grant, report = lock_report(report_id)
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


def lock_report(report_id: int) -> tuple[Grant, ResultsReport]:
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


def _check_editable(report: ResultsReport) -> None:
    if report.state not in EDITABLE:
        raise Conflict(
            N_(
                "This results report is “%(state)s”: it can no longer be changed.",
                state=Said(report.state),
            )
        )


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


def period_of(grant: Grant, report: ResultsReport) -> Period:
    period = find_period(grant_periods(grant), report.period)
    if period is None:  # its milestone was cancelled since
        raise Conflict(N_("This period has no tranche left to settle."))
    return period


def amount_errors(key: str, value: Any) -> dict[str, list[Problem]]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return {key: [N_("Enter a whole number of yen, zero or more.")]}
    if value > YEN_MAX:
        return {key: [N_("This amount is too large.")]}
    return {}


def text_errors(key: str, text: str, limit: int, *, required: bool) -> dict[str, list[Problem]]:
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
        errors |= text_errors(
            f"{key}.description", (line.description or "").strip(), DESCRIPTION_MAX, required=True
        )
        errors |= amount_errors(f"{key}.claimed", line.claimed)
    return errors
