"""The scan's merit review pass: reviewers asked, reminded and chased, officers told.

For every open merit assignment (scores not submitted) of an application still in review,
whose reviewer is active and has no conflict of interest with it:

- merit_review_requested, tier 1, to the reviewer: they were assigned (the next scan after
  the assignment tells them);
- merit_review_due, tier 1, to the reviewer: the deadline is within the nearest due-soon
  offset (ALERT_DUE_SOON_DAYS' smallest, 7 days by default);
- merit_review_due, tier 2, to the reviewer: the deadline has passed;
- merit_review_due, tier 3, to every officer: the deadline passed the first escalation
  offset ago (ALERT_ESCALATION_DAYS' smallest, 14 days by default) or more.

The offsets are the installation's (a rule set's schedule is for its grants' milestones).
Each INSERT ... SELECT skips what exists (NOT EXISTS, then ON CONFLICT DO NOTHING on the
alert's unique key): exactly once, whatever reruns. Open assignments are few whatever the
history (submitted ones leave the index `ix_merit_assignment_submitted_at_due_on`), so the
pass reads them all every time; a same-day rerun runs it only when assignments changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import ColumnElement, Select

from grants.accounts.models import ConflictDeclaration, User
from grants.alerts.models import Alert
from grants.alerts.scan.passes import EARLIEST, LATEST
from grants.applications.models import Application, CoInvestment
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import insert_select_if_absent
from grants.core.identity import Role
from grants.core.models import UTCDateTime
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.queries import IN_REVIEW
from grants.rules import Schedule

A = Alert.__table__
MA = MeritAssignment.__table__
AP = Application.__table__
U = User.__table__
CI = CoInvestment.__table__
CD = ConflictDeclaration.__table__

_COLUMNS = (
    "user_id",
    "subject_type",
    "subject_id",
    "kind",
    "tier",
    "grant_id",
    "milestone_id",
    "scan_date",
    "created_at",
    "email_attempts",
)
_UNIQUE = ("subject_id", "subject_type", "kind", "tier", "user_id")
_SUBJECT = str(SubjectType.merit_assignment)


def changed_since(generation: int) -> bool:
    """Whether an assignment changed after `generation` (a same-day rerun reads them then)."""
    query = select(exists().where(MA.c.changed_in > generation))
    return bool(db.session.scalar(query))


def parameters(
    schedule: Schedule, today: date, now: datetime, officers: tuple[int, ...]
) -> dict[str, Any]:
    soon = min(schedule.due_soon_days, default=0)
    escalation = min(schedule.escalation_days, default=None)
    return {
        "today": today,
        "now": now,
        "due_soon_last": today + timedelta(days=soon),
        # without escalation offsets, none (a deadline before every date there is)
        "escalate_last": EARLIEST if escalation is None else today - timedelta(days=escalation),
        "officers": list(officers),
    }


@cache
def inserts(officers: bool) -> tuple[insert_select_if_absent, ...]:
    """Every INSERT of the pass (the officers' only when there are officers); each returns
    the new alerts' (id, kind)."""
    kinds = [
        (AlertKind.merit_review_requested, 1, None),
        (
            AlertKind.merit_review_due,
            1,
            MA.c.due_on.between(
                bindparam("today", type_=Date()), bindparam("due_soon_last", type_=Date())
            ),
        ),
        (AlertKind.merit_review_due, 2, MA.c.due_on < bindparam("today", type_=Date())),
    ]
    found = [_to_reviewer(kind, tier, due) for kind, tier, due in kinds]
    if officers:
        found.append(_to_officers())
    return tuple(
        insert_select_if_absent(A, _COLUMNS, rows, _UNIQUE, ("id", "kind")) for rows in found
    )


def _values(user_id: ColumnElement[Any], kind: AlertKind, tier: int) -> list[ColumnElement[Any]]:
    values = [
        user_id,
        literal(_SUBJECT, String()),
        MA.c.id,
        literal(str(kind), String()),
        literal(tier, Integer()),
        null().cast(BigInteger()),
        null().cast(BigInteger()),
        bindparam("today", type_=Date()),
        bindparam("now", type_=UTCDateTime()),
        literal(0, Integer()),
    ]
    return [value.label(column) for value, column in zip(values, _COLUMNS, strict=True)]


def _open() -> ColumnElement[bool]:
    """Open assignments (from the index) of applications still in review."""
    return and_(
        MA.c.submitted_at.is_(None),
        MA.c.due_on.between(EARLIEST, LATEST),  # the index's range, for SQLite's planner
        AP.c.state.in_([str(state) for state in IN_REVIEW]),
    )


def _first_time(kind: AlertKind, tier: int, among: ColumnElement[bool]) -> ColumnElement[bool]:
    return ~exists().where(
        A.c.subject_id == MA.c.id,
        A.c.subject_type == _SUBJECT,
        A.c.kind == str(kind),
        A.c.tier == tier,
        among,
    ).correlate_except(A)


def _clear(users: Any) -> ColumnElement[bool]:
    """Reviewer `users` has no conflict of interest with application AP."""
    investors = select(CI.c.vc_organization_id).where(CI.c.application_id == AP.c.id)
    return and_(
        or_(users.c.organization_id.is_(None), users.c.organization_id != AP.c.organization_id),
        ~exists()
        .where(CI.c.application_id == AP.c.id, CI.c.vc_organization_id == users.c.organization_id)
        .correlate_except(CI),
        ~exists()
        .where(
            CD.c.reviewer_id == users.c.id,
            or_(
                CD.c.application_id == AP.c.id,
                CD.c.organization_id == AP.c.organization_id,
                CD.c.organization_id.in_(investors.correlate_except(CI).scalar_subquery()),
            ),
        )
        .correlate_except(CD),
    )


def _to_reviewer(kind: AlertKind, tier: int, due: ColumnElement[bool] | None) -> Select[Any]:
    source = MA.join(AP, AP.c.id == MA.c.application_id).join(U, U.c.id == MA.c.reviewer_id)
    conditions = [
        _open(),
        U.c.active == true(),
        U.c.role == Role.reviewer,
        _clear(U),
        _first_time(kind, tier, A.c.user_id == U.c.id),
    ]
    if due is not None:
        conditions.append(due)
    query = select(*_values(U.c.id, kind, tier)).select_from(source).where(*conditions)
    return query.order_by(MA.c.id)


def _to_officers() -> Select[Any]:
    """Tier 3 to every active officer: the deadline passed long ago, the reviewer (active,
    without a conflict) still has not submitted."""
    reviewer, officer = U.alias("reviewer"), U.alias("officer")
    kind, tier = AlertKind.merit_review_due, 3
    source = (
        MA.join(AP, AP.c.id == MA.c.application_id)
        .join(reviewer, reviewer.c.id == MA.c.reviewer_id)
        .join(officer, and_(officer.c.role == Role.officer, officer.c.active == true()))
    )
    among = A.c.user_id.in_(bindparam("officers", expanding=True))
    query = (
        select(*_values(officer.c.id, kind, tier))
        .select_from(source)
        .where(
            _open(),
            MA.c.due_on <= bindparam("escalate_last", type_=Date()),
            reviewer.c.active == true(),
            _clear(reviewer),
            _first_time(kind, tier, among),
        )
    )
    return query.order_by(MA.c.id, officer.c.id)
