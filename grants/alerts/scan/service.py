"""The milestone scan: set-based, idempotent, one transaction and one audit row per run.

Per distinct schedule among the active grants' pinned rule sets (there are few), a handful
of INSERT ... SELECT ... ON CONFLICT DO NOTHING statements (alerts.scan.statements)
create the alerts that are due (alerts.rules says which windows and cut-offs),
and UPDATEs keep milestone.overdue_since in step. The unique key (recipient, subject,
kind, tier) makes reruns, restarts and parallel schedulers harmless; on PostgreSQL a
transaction-level advisory lock also serialises concurrent scans so that they never wait
on each other's unique-index entries in a deadlock-prone order.

A scan depends only on the day, the settings and the data, and every row it reads says in
which data generation it last changed (core.changes, alerts.scan.changes). So after the
scan of an earlier day with the same settings, a scan reads only what reached a tier
since that day, and the milestones that rows changed since that scan touch, whole; a
rerun on the same day with nothing changed returns at once, writing nothing. The first
scan, or a scan with other settings, reads everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import exists, select, text, true

from grants.accounts.models import User
from grants.alerts import rules
from grants.alerts.rules import Audience
from grants.alerts.scan import changes, flags
from grants.alerts.scan.changes import SCAN_ACTION
from grants.alerts.scan.passes import Pass
from grants.alerts.scan.statements import inserts
from grants.awards.models import Grant
from grants.core import audit
from grants.core import changes as changes_of_data
from grants.core.actors import Actor, SystemActor
from grants.core.alert_kinds import AlertKind
from grants.core.db import dialect_name, use_case
from grants.core.errors import NotAllowed
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.problems import N_
from grants.core.states import GrantState
from grants.extensions import db
from grants.rules import Schedule
from grants.rules.engine import default_schedule
from grants.rulesets.models import RuleSet

G = Grant.__table__
U = User.__table__
RS = RuleSet.__table__

_ANALYZE_AFTER = 1_000
# More milestones changed than this since the last scan: reading everything costs less.
_CHANGED_AT_MOST = 5_000
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
    since: date | None = None  # read only what reached a tier after this day's scan...
    changed: int = 0  # ... and this many milestones changed since, whole
    alert_ids: list[int] = field(default_factory=list)
    flagged: int = 0
    cleared: int = 0
    schedules: int = 0
    settings: dict[str, Any] = field(default_factory=dict)  # what the scan depended on
    generation: int = 0  # the next scan reads the changes after this one (core.changes)

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
            "since": self.since.isoformat() if self.since else None,
            "changed_milestones": self.changed,
            "settings": self.settings,
            "generation": self.generation,
        }


@dataclass(frozen=True)
class Plan:
    """What a scan reads: everything (`since` None), or what reached a tier after the scan
    of day `since` and the milestones `changed` since that scan, whole."""

    since: date | None = None
    changed: tuple[int, ...] = ()

    def passes(self, template: Pass) -> list[Pass]:
        if self.since is None:
            return [template]
        found = [replace(template, since=self.since)] if self.since < template.today else []
        if self.changed:
            found.append(replace(template, milestone_ids=self.changed))
        return found

    @property
    def changed_only(self) -> tuple[int, ...] | None:
        """The milestones whose closed flags to clear: all (None) or the changed ones."""
        return None if self.since is None else self.changed


@use_case
def scan(actor: Actor, today: date, settings: Mapping[str, Any], whole: bool = False) -> ScanReport:
    """Create every alert due on `today` that does not exist yet; flag and clear overdue.

    `settings`: the ALERT_* settings (the schedule of rule sets without one, and
    ALERT_CATCH_UP_DAYS). `whole`: read everything, whatever changed (after data was
    repaired by hand in the database, around the stamps)."""
    if not isinstance(actor, SystemActor):
        raise NotAllowed(N_("Only the scheduler runs the milestone scan."))
    _serialise()
    generation = changes_of_data.current(db.session())  # before anything is read
    recorded = _settings(settings)
    plan = Plan() if whole else _plan(today, recorded, generation)
    if plan is None:
        return ScanReport(today, unchanged=True, settings=recorded, generation=generation)
    report = ScanReport(
        today, since=plan.since, changed=len(plan.changed), settings=recorded, generation=generation
    )
    now = utcnow()
    report.cleared += flags.clear_closed(plan.changed_only)
    groups = _schedules(default_schedule(settings))
    report.schedules = len(groups)
    staff = _staff()
    catch_up = int(settings["ALERT_CATCH_UP_DAYS"])
    for schedule, ruleset_ids in groups.items():
        template = Pass(schedule, tuple(ruleset_ids), today, now, staff, catch_up)
        for one in plan.passes(template):
            report.cleared += flags.clear_moved(one)
            report.flagged += flags.set_flags(one)
            _insert_alerts(one, report)
    _refresh_statistics(report.total)
    report.generation = _after_own_writes(report, generation)
    audit.record(actor, SCAN_ACTION, ScanRun(today.isoformat()), after=report.summary())
    db.session.commit()
    return report


def _after_own_writes(report: ScanReport, generation: int) -> int:
    """The generation after which the next scan reads changes. The flags keep their rows'
    stamps (flags.py) but change what kept figures show, so the data generation moves for
    them; when nobody else wrote since this scan began, the next one reads from there."""
    if not (report.flagged or report.cleared):
        return generation
    ours = changes_of_data.advance(db.session())
    return ours if ours == generation + 1 else generation


def _settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a scan depends on, as its audit row records it."""
    schedule = default_schedule(settings)
    return {
        "due_soon_days": list(schedule.due_soon_days),
        "grace_days": schedule.grace_days,
        "escalation_days": list(schedule.escalation_days),
        "review_waiting_days": schedule.review_waiting_days,
        "tranche_waiting_days": schedule.tranche_waiting_days,
        "catch_up_days": int(settings["ALERT_CATCH_UP_DAYS"]),
    }


def _plan(today: date, settings: dict[str, Any], generation: int) -> Plan | None:
    """What this scan must read; None when nothing changed since this day's last scan.

    `generation`: the data's now; when it is the last scan's, nothing changed since."""
    last = changes.last_scan()
    if last is None or last.generation is None:
        return Plan()
    if last.settings != settings or last.day > today:
        return Plan()
    changed = (
        frozenset()
        if generation == last.generation
        else changes.changed_milestones(last.generation)
    )
    if len(changed) > _CHANGED_AT_MOST:
        return Plan()
    if last.day == today and not changed:
        return None
    return Plan(last.day, tuple(sorted(changed)))


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


def _schedules(defaults: Schedule) -> dict[Schedule, list[int]]:
    """The distinct schedules of the rule sets pinned by active grants, with their ids."""
    in_use = exists().where(G.c.ruleset_id == RS.c.id, G.c.state == GrantState.active)
    groups: dict[Schedule, list[int]] = defaultdict(list)
    for ruleset_id, document in db.session.execute(
        select(RS.c.id, RS.c.document).where(in_use).order_by(RS.c.id)
    ):
        section = document.get("schedule") if isinstance(document, dict) else None
        groups[rules.schedule_from(section, defaults)].append(ruleset_id)
    return dict(groups)


# --- the alerts -----------------------------------------------------------------------------


def _insert_alerts(one: Pass, report: ScanReport) -> None:
    parameters = one.parameters()
    for statement in inserts(one.shape()):
        for alert_id, kind in db.session.execute(statement, parameters):
            report.created[AlertKind(kind)] += 1
            report.alert_ids.append(alert_id)
