"""The scan's results-report alerts: reminded before the report is due, flagged overdue to
the grantee and the officers, exactly once, and not once the report was filed."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from grants.alerts.models import Alert
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.extensions import db
from tests.support.alerts import run_scan
from tests.support.approvals import approve, officer
from tests.support.grants import make_grant
from tests.support.settlement import file_report, lines


def _alerts(kind: AlertKind) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.kind == kind)))


def test_a_fiscal_year_report_is_reminded_then_overdue_once(app: Flask) -> None:
    world = make_grant(
        tranches=(100_000_000, 200_000_000), first_due=date(2026, 12, 31), preset="amed"
    )
    approve(world, world.milestones[0])
    staff = officer()
    # FY2026 ends on 31 March 2027; its report is due 61 days later, on 31 May 2027.
    run_scan(date(2027, 5, 20))
    [due] = _alerts(AlertKind.report_due)
    assert (due.user_id, due.subject_type, due.subject_id, due.tier) == (
        world.applicant.id,
        SubjectType.settlement_year,
        world.grant.id,
        2026,
    )
    run_scan(date(2027, 6, 2))
    run_scan(date(2027, 6, 3))
    overdue = _alerts(AlertKind.report_overdue)
    assert {a.user_id for a in overdue} == {world.applicant.id, staff.id}
    assert len(overdue) == 2 and len(_alerts(AlertKind.report_due)) == 1


def test_a_filed_milestone_report_is_not_flagged(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000, 200_000_000), first_due=date(2026, 9, 30))
    approve(world, world.milestones[0])
    file_report(world, "m1", lines(90_000_000), 0, date(2026, 10, 5))
    run_scan(date(2026, 12, 5))  # 66 days after the due date: overdue, but filed
    assert _alerts(AlertKind.report_overdue) == []


def test_a_milestone_report_not_filed_is_overdue(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000, 200_000_000), first_due=date(2026, 9, 30))
    approve(world, world.milestones[0])
    run_scan(date(2026, 12, 5))
    [alert] = [a for a in _alerts(AlertKind.report_overdue) if a.user_id == world.applicant.id]
    assert alert.milestone_id == world.milestones[0].id
