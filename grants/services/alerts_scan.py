"""The milestone scan: set-based, idempotent, one transaction and one audit row per run.

Per distinct schedule among the active grants' pinned rule sets (there are few), a handful
of INSERT ... SELECT ... ON CONFLICT DO NOTHING statements (services.alerts_statements)
create the alerts that are due (grants.domain.alerts says which windows and cut-offs),
and two UPDATEs keep milestone.overdue_since in step. The unique key (recipient, subject,
kind, tier) makes reruns, restarts and parallel schedulers harmless; on PostgreSQL a
transaction-level advisory lock also serialises concurrent scans so that they never wait
on each other's unique-index entries in a deadlock-prone order.

A scan depends only on the day, the settings and data that services change, and every
service change appends to the audit log. So when the last audit event is this day's scan,
made with the same settings, nothing can have changed since: the rerun returns at once,
writing nothing (ALERT_SCAN_SKIP_UNCHANGED; off in tests, whose factories write around
the services).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, not_, or_, select, text, true, update
from sqlalchemy.sql.expression import ColumnElement, Select

from grants.domain import alerts as rules
from grants.domain.accounts import Role
from grants.domain.alerts import AlertKind, Audience
from grants.domain.errors import NotAllowed
from grants.domain.rules import Schedule
from grants.domain.states import GrantState
from grants.extensions import db
from grants.models import Alert, AuditEvent, Grant, Milestone, RuleSet, User
from grants.models.base import utcnow
from grants.services import audit
from grants.services.actors import Actor, SystemActor
from grants.services.alerts_statements import ALERT_COLUMNS, EARLIEST, Pass, statements
from grants.services.sql_dialect import add_days, dialect_name, insert_select_if_absent

A = Alert.__table__
M = Milestone.__table__
G = Grant.__table__
U = User.__table__
RS = RuleSet.__table__

_UNIQUE = ("subject_id", "subject_type", "kind", "tier", "user_id")
_ANALYZE_AFTER = 1_000
SCAN_ACTION = "alerts.scan"
# Any constant: the key of the PostgreSQL advisory lock that serialises scans.
_SCAN_LOCK_KEY = 7_301_116


@dataclass
class ScanRun:
    """What the audit row of a scan points at: the scan of one day (no table of its own)."""

    __tablename__: ClassVar[str] = "alert_scan"
    id: str


@dataclass
class ScanReport:
    today: date
    created: dict[AlertKind, int] = field(default_factory=lambda: dict.fromkeys(AlertKind, 0))
    unchanged: bool = False  # nothing changed since this day's last scan: nothing was done
    alert_ids: list[int] = field(default_factory=list)
    flagged: int = 0
    cleared: int = 0
    schedules: int = 0

    @property
    def total(self) -> int:
        return len(self.alert_ids)

    def summary(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "created": {str(kind): count for kind, count in self.created.items()},
            "flagged_overdue": self.flagged,
            "cleared_overdue": self.cleared,
            "schedules": self.schedules,
            "settings": _settings(),
        }


def scan(actor: Actor, today: date) -> ScanReport:
    """Create every alert due on `today` that does not exist yet; flag and clear overdue."""
    if not isinstance(actor, SystemActor):
        raise NotAllowed(_("Only the scheduler runs the milestone scan."))
    _serialise()
    if current_app.config["ALERT_SCAN_SKIP_UNCHANGED"] and _unchanged_since_last_scan(today):
        return ScanReport(today, unchanged=True)
    report = ScanReport(today)
    now = utcnow()
    report.cleared += _clear_closed_flags()
    groups = _schedules()
    report.schedules = len(groups)
    staff = _staff()
    catch_up = int(current_app.config["ALERT_CATCH_UP_DAYS"])
    for schedule, ruleset_ids in groups.items():
        one = Pass(schedule, tuple(ruleset_ids), today, now, staff, catch_up)
        report.cleared += _clear_flags(one)
        report.flagged += _set_flags(one)
        for statement in statements(one):
            for alert_id, kind in db.session.execute(_insert(statement)):
                report.created[AlertKind(kind)] += 1
                report.alert_ids.append(alert_id)
    _refresh_statistics(report.total)
    audit.record(actor, SCAN_ACTION, ScanRun(today.isoformat()), after=report.summary())
    db.session.commit()
    return report


def default_schedule() -> Schedule:
    """The schedule of a rule set whose document has no (or a partial) schedule section."""
    config = current_app.config
    return Schedule(
        due_soon_days=tuple(config["ALERT_DUE_SOON_DAYS"]),
        grace_days=int(config["ALERT_GRACE_DAYS"]),
        escalation_days=tuple(config["ALERT_ESCALATION_DAYS"]),
        review_waiting_days=int(config["ALERT_REVIEW_WAITING_DAYS"]),
        tranche_waiting_days=int(config["ALERT_TRANCHE_WAITING_DAYS"]),
    )


def _settings() -> dict[str, Any]:
    """The configuration a scan depends on, as its audit row records it."""
    schedule = default_schedule()
    return {
        "due_soon_days": list(schedule.due_soon_days),
        "grace_days": schedule.grace_days,
        "escalation_days": list(schedule.escalation_days),
        "review_waiting_days": schedule.review_waiting_days,
        "tranche_waiting_days": schedule.tranche_waiting_days,
        "catch_up_days": int(current_app.config["ALERT_CATCH_UP_DAYS"]),
    }


def _unchanged_since_last_scan(today: date) -> bool:
    """The last audit event is a scan of `today` with the same settings."""
    query = select(AuditEvent.action, AuditEvent.object_id, AuditEvent.after)
    last = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(1)).first()
    return (
        last is not None
        and last.action == SCAN_ACTION
        and last.object_id == today.isoformat()
        and isinstance(last.after, dict)
        and last.after.get("settings") == _settings()
    )


def _serialise() -> None:
    if dialect_name() == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCAN_LOCK_KEY})


def _refresh_statistics(created: int) -> None:
    """After a large batch (a first scan, a backlog) the planners would still see the alert
    table as nearly empty (until autovacuum comes by, on PostgreSQL) and choose badly."""
    if created >= _ANALYZE_AFTER:
        db.session.execute(text("ANALYZE alert"))


def _staff() -> dict[Audience, tuple[int, ...]]:
    """Officers, admins and reviewers are few: their ids go into the statements as lists."""
    audiences = {role: audience for audience, role in rules.STAFF_ROLES.items()}
    query = select(U.c.id, U.c.role).where(U.c.role.in_(audiences), U.c.active == true())
    staff: dict[Audience, list[int]] = {audience: [] for audience in rules.STAFF_ROLES}
    for user_id, role in db.session.execute(query):  # unordered: read from the role index
        staff[audiences[Role(role)]].append(user_id)
    return {audience: tuple(sorted(ids)) for audience, ids in staff.items()}


def _schedules() -> dict[Schedule, list[int]]:
    """The distinct schedules of the rule sets pinned by active grants, with their ids."""
    in_use = exists().where(G.c.ruleset_id == RS.c.id, G.c.state == GrantState.active)
    defaults = default_schedule()
    groups: dict[Schedule, list[int]] = defaultdict(list)
    for ruleset_id, document in db.session.execute(
        select(RS.c.id, RS.c.document).where(in_use).order_by(RS.c.id)
    ):
        section = document.get("schedule") if isinstance(document, dict) else None
        groups[rules.schedule_from(section, defaults)].append(ruleset_id)
    return dict(groups)


# --- the overdue flag ---------------------------------------------------------------------


def _flagged() -> ColumnElement[bool]:
    """overdue_since IS NOT NULL, written as a range so that SQLite uses the index too."""
    return M.c.overdue_since >= EARLIEST


def _of_the_pass(one: Pass) -> ColumnElement[bool]:
    """The milestone's grant is in this pass. EXISTS rather than IN: the planners then
    drive the update from the milestone indexes, not from every active grant."""
    return exists().where(G.c.id == M.c.grant_id, one.grant_filter()).correlate_except(G)


def _clear_closed_flags() -> int:
    """A milestone that no longer awaits evidence (submitted, decided) is not overdue."""
    statement = (
        update(M)
        .where(_flagged(), M.c.state.not_in(rules.AWAITING_EVIDENCE))
        .values(overdue_since=None)
    )
    return db.session.execute(statement).rowcount


def _clear_flags(one: Pass) -> int:
    """Its due date moved out of the overdue range (an approved amendment)."""
    last_due = rules.overdue_last_due(one.schedule, one.today)
    statement = (
        update(M)
        .where(
            _flagged(),
            _of_the_pass(one),
            not_(and_(M.c.state.in_(rules.AWAITING_EVIDENCE), M.c.due_date <= last_due)),
        )
        .values(overdue_since=None)
    )
    return db.session.execute(statement).rowcount


def _set_flags(one: Pass) -> int:
    """Flag overdue milestones once, with the day they became overdue (re-dated if it moved)."""
    last_due = rules.overdue_last_due(one.schedule, one.today)
    since = add_days(M.c.due_date, one.schedule.grace_days + 1)
    statement = (
        update(M)
        .where(
            M.c.state.in_(rules.AWAITING_EVIDENCE),
            M.c.due_date <= last_due,
            or_(M.c.overdue_since.is_(None), M.c.overdue_since != since),
            _of_the_pass(one),
        )
        .values(overdue_since=since)
    )
    return db.session.execute(statement).rowcount


# --- the alerts -----------------------------------------------------------------------------


def _insert(rows: Select[Any]) -> insert_select_if_absent:
    return insert_select_if_absent(A, ALERT_COLUMNS, rows, _UNIQUE, ("id", "kind"))
