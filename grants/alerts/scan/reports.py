"""The scan's pass over results reports (settlement): a reminder to the grantee before a
period's report is due, and, once it is overdue without a submitted report, an alert to
the grantee and the officers. Set-based and exactly once by the alert key.

A period is a fiscal year (its report due `report_due_days` after 31 March) or an approved
milestone (due that many days after its due date), as the pinned rule set's settlement
section says. Only approved milestones have money to settle. The pass reads bounded
windows of due dates (the reminder's REPORT_DUE_SOON_DAYS, the overdue catch-up), so it
runs whole on every scan; the subject is the milestone (its period), or the grant with
the fiscal year as the tier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, String, and_, exists, literal, select, true
from sqlalchemy.sql.expression import ColumnElement, Select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.alerts.rules import Audience
from grants.alerts.scan.statements import ALERT_COLUMNS
from grants.awards.models import Grant, Milestone
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import fiscal_year, fiscal_year_bounds
from grants.core.db import insert_select_if_absent
from grants.core.identity import Role
from grants.core.models import UTCDateTime
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.rules.settlement import PeriodKind, settlement_rules
from grants.rulesets.models import RuleSet
from grants.settlement.models import ResultsReport
from grants.settlement.rules import ReportState

REPORT_DUE_SOON_DAYS = 14
A = Alert.__table__
M = Milestone.__table__
G = Grant.__table__
U = User.__table__
RR = ResultsReport.__table__
RS = RuleSet.__table__
_UNIQUE = ("subject_id", "subject_type", "kind", "tier", "user_id")
# Grants whose money is still to be settled.
_SETTLING = (GrantState.active, GrantState.suspended, GrantState.completed)


def insert_report_alerts(today: date, now: datetime, catch_up_days: int) -> list[tuple[int, str]]:
    """Every report alert due on `today` that does not exist yet: (alert id, kind)."""
    created: list[tuple[int, str]] = []
    for (kind, days), ruleset_ids in _groups().items():
        window = _Window(today, now, days, catch_up_days, ruleset_ids)
        selects = window.milestones() if kind is PeriodKind.milestone else window.years()
        for rows in selects:
            statement = insert_select_if_absent(A, ALERT_COLUMNS, rows, _UNIQUE, ("id", "kind"))
            created += [(row[0], row[1]) for row in db.session.execute(statement)]
    return created


def _groups() -> dict[tuple[PeriodKind, int], list[int]]:
    """The rule sets of grants still settling, by period kind and days to report."""
    in_use = exists().where(G.c.ruleset_id == RS.c.id, G.c.state.in_(_SETTLING))
    groups: dict[tuple[PeriodKind, int], list[int]] = defaultdict(list)
    for ruleset_id, document in db.session.execute(select(RS.c.id, RS.c.document).where(in_use)):
        rules = settlement_rules(document if isinstance(document, Mapping) else {})
        groups[(rules.period, rules.report_due_days)].append(ruleset_id)
    return dict(groups)


class _Window:
    def __init__(
        self, today: date, now: datetime, days: int, catch_up: int, ruleset_ids: list[int]
    ) -> None:
        self.today, self.now, self.days = today, now, days
        self.catch_up, self.ruleset_ids = catch_up, ruleset_ids

    def milestones(self) -> list[Select[Any]]:
        """Approved milestones whose report is due soon, or overdue, without a filed one."""
        lag = timedelta(days=self.days)
        soon = (self.today - lag, self.today - lag + timedelta(days=REPORT_DUE_SOON_DAYS))
        late = (self.today - lag - timedelta(days=self.catch_up), self.today - lag - timedelta(1))
        filed = exists().where(RR.c.milestone_id == M.c.id, RR.c.state != ReportState.draft)
        found = []
        for kind, (first, last), audiences in self._tiers(soon, late):
            for audience in audiences:
                found.append(
                    self._select(
                        audience,
                        SubjectType.settlement_period,
                        M.c.id,
                        literal(1, Integer()),
                        kind,
                        and_(M.c.due_date >= first, M.c.due_date <= last, ~filed),
                        M.c.id,
                    )
                )
        return found

    def years(self) -> list[Select[Any]]:
        """Grants with an approved milestone in a fiscal year whose report is due soon, or
        overdue, without a filed one: one statement per such fiscal year (few)."""
        found = []
        for kind, year, audiences in self._years():
            filed = exists().where(
                RR.c.grant_id == G.c.id,
                RR.c.fiscal_year == year,
                RR.c.milestone_id.is_(None),
                RR.c.state != ReportState.draft,
            )
            in_year = exists().where(
                M.c.grant_id == G.c.id,
                M.c.fiscal_year == year,
                M.c.state == MilestoneState.approved,
            )
            for audience in audiences:
                found.append(
                    self._select(
                        audience,
                        SubjectType.settlement_year,
                        G.c.id,
                        literal(year, Integer()),
                        kind,
                        and_(in_year, ~filed),
                        None,
                    )
                )
        return found

    def _tiers(
        self, soon: tuple[date, date], late: tuple[date, date]
    ) -> list[tuple[AlertKind, tuple[date, date], tuple[Audience, ...]]]:
        return [
            (AlertKind.report_due, soon, (Audience.grantee,)),
            (AlertKind.report_overdue, late, (Audience.grantee, Audience.officers)),
        ]

    def _years(self) -> list[tuple[AlertKind, int, tuple[Audience, ...]]]:
        """The fiscal years whose report is due within the reminder window or became
        overdue within the catch-up days (the due date grows with the year)."""
        found = []
        latest = fiscal_year(self.today)
        for year in range(latest - 1 - self.catch_up // 365 - 1, latest + 1):
            due = fiscal_year_bounds(year)[1] + timedelta(days=self.days)
            if self.today <= due <= self.today + timedelta(days=REPORT_DUE_SOON_DAYS):
                found.append((AlertKind.report_due, year, (Audience.grantee,)))
            elif self.today - timedelta(days=self.catch_up) <= due < self.today:
                found.append(
                    (AlertKind.report_overdue, year, (Audience.grantee, Audience.officers))
                )
        return found

    def _select(
        self,
        audience: Audience,
        subject_type: SubjectType,
        subject_id: ColumnElement[Any],
        tier: ColumnElement[Any],
        kind: AlertKind,
        due: ColumnElement[bool],
        milestone_id: ColumnElement[Any] | None,
    ) -> Select[Any]:
        values = [
            U.c.id,
            literal(str(subject_type), String()),
            subject_id,
            literal(str(kind), String()),
            tier,
            G.c.id,
            milestone_id if milestone_id is not None else literal(None, Integer()),
            literal(self.today, Date()),
            literal(self.now, UTCDateTime()),
            literal(0, Integer()),
        ]
        columns = [value.label(name) for value, name in zip(values, ALERT_COLUMNS, strict=True)]
        query = select(*columns).select_from(G).join(U, _recipients(audience))
        if milestone_id is not None:
            query = query.join(M, M.c.grant_id == G.c.id).where(
                M.c.state == MilestoneState.approved
            )
        return query.where(
            G.c.ruleset_id.in_(self.ruleset_ids), G.c.state.in_(_SETTLING), due
        ).distinct()


def _recipients(audience: Audience) -> ColumnElement[bool]:
    if audience is Audience.grantee:
        return and_(
            U.c.organization_id == G.c.organization_id,
            U.c.active == true(),
            U.c.role == Role.applicant,
        )
    return and_(U.c.role == Role.officer, U.c.active == true())
