"""flask grants scan --today: one pass (scan + delivery) that prints what it created."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskCliRunner

from grants.alerts.jobs import deliver_in_batches, scan_milestones
from grants.awards.models import Milestone
from grants.core import lease
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.alerts import all_alerts, staff
from tests.support.grants import make_grant


def test_scan_prints_counts_and_alerts_and_mails_them(app: Flask, runner: FlaskCliRunner) -> None:
    world = make_grant()
    staff(Role.officer)
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert result.exit_code == 0, result.output
    alerts = all_alerts()
    assert len(alerts) == 2
    assert (
        "Scan for 2026-10-01: 2 alerts created, 1 milestone flagged overdue, "
        "0 overdue flags cleared." in result.output
    )
    assert "  overdue          2" in result.output
    assert "  due_soon         0" in result.output
    assert f"#{alerts[0].id} overdue tier 1 -> {world.applicant.email}" in result.output
    assert "E-mail: 2 sent, 0 failed." in result.output  # testing mails go to the log
    assert all(alert.emailed_at is not None for alert in alerts)


def test_a_rerun_prints_that_nothing_was_created(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    result = runner.invoke(args=["grants", "scan", "--today", "2026-09-01", "--whole"])
    assert result.exit_code == 0, result.output
    assert "0 alerts created" in result.output
    assert "Created:" not in result.output


def test_a_rerun_with_nothing_changed_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    result = runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert "nothing changed since this day's last scan" in result.output
    assert "alerts created" not in result.output and "E-mail: 0 sent" in result.output


def test_a_bad_date_exits_non_zero_with_a_message(app: Flask, runner: FlaskCliRunner) -> None:
    for bad in ("2026-13-01", "tomorrow", "2026/10/01"):
        result = runner.invoke(args=["grants", "scan", "--today", bad])
        assert result.exit_code != 0
        assert "Invalid value for '--today'" in result.output
    assert all_alerts() == []


def test_the_scan_runs_while_another_scheduler_holds_the_lease(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """A manual scan is safe beside a running scheduler; that scheduler sends the e-mail."""
    world = make_grant()
    staff(Role.officer)
    taken = utcnow()
    lease.acquire(lease.SCHEDULER, "scheduler@elsewhere", taken, timedelta(minutes=15))
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert result.exit_code == 0, result.output
    assert "Scan for 2026-10-01: 2 alerts created" in result.output
    assert f"overdue tier 1 -> {world.applicant.email}" in result.output
    assert "none sent by this pass: scheduler@elsewhere holds the scheduler lease" in (
        result.output
    )
    alerts = all_alerts()
    assert len(alerts) == 2 and all(alert.emailed_at is None for alert in alerts)
    held = lease.current(lease.SCHEDULER, utcnow())
    assert held is not None and held.holder == "scheduler@elsewhere"  # neither taken nor freed
    again = runner.invoke(args=["grants", "scan", "--today", "2026-10-01", "--whole"])
    assert again.exit_code == 0 and "0 alerts created" in again.output  # still exactly once
    delivered = deliver_in_batches("scheduler@elsewhere")  # the holder's next delivery job
    assert delivered is not None and len(delivered.sent) == 2
    db.session.expire_all()
    assert all(alert.emailed_at is not None for alert in all_alerts())


def test_the_scan_says_when_no_scheduler_ever_ran(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert "Scheduler lease: never taken: no scheduler has run on this database." in (result.output)


def test_the_scan_says_a_dead_schedulers_lease_expired(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    staff(Role.officer)
    last_beat = utcnow() - timedelta(minutes=10)
    lease.acquire(lease.SCHEDULER, "scheduler@dead", last_beat, timedelta(seconds=60))
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert result.exit_code == 0, result.output
    expired = (last_beat + timedelta(seconds=60)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert (
        "Scheduler lease: no scheduler holds it: the last holder, scheduler@dead, stopped "
        f"renewing it and it expired at {expired} (9 min ago): no scheduler is running."
    ) in result.output
    assert "E-mail: 2 sent, 0 failed." in result.output  # so this pass sent them


def test_the_scan_says_when_the_holders_heartbeat_is_late(
    app: Flask, runner: FlaskCliRunner
) -> None:
    make_grant()
    lease.acquire(lease.SCHEDULER, "scheduler@hung", utcnow() - timedelta(seconds=50), TTL)
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert re.search(
        r"none sent by this pass: scheduler@hung holds the scheduler lease \(renewed 5\d s "
        r"ago, valid until .* UTC; another scheduler takes over if it lapses; LATE: renewed "
        r"every 20 s, its holder may be stuck or dead\) and sends them\.",
        result.output,
    ), result.output


def test_a_live_holder_is_not_called_late(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    lease.acquire(lease.SCHEDULER, "scheduler@live", utcnow() - timedelta(seconds=5), TTL)
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert re.search(r"scheduler@live holds the scheduler lease \(renewed \d s ago", result.output)
    assert "LATE" not in result.output


TTL = timedelta(seconds=60)


def test_the_scheduler_job_still_keeps_to_the_lease(app: Flask) -> None:
    make_grant()
    lease.acquire(lease.SCHEDULER, "scheduler@elsewhere", utcnow(), timedelta(minutes=15))
    assert scan_milestones(app, "scheduler@here", date(2026, 10, 1)) is None
    assert all_alerts() == []


def test_the_help_says_the_scan_is_safe_beside_a_scheduler(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["grants", "scan", "--help"])
    assert result.exit_code == 0
    assert "Safe while a scheduler runs" in result.output and "lease" in result.output


# --- time travel: a grant's life, one `flask grants scan --today` a day ---------------------

_CREATED = re.compile(r"^  #(\d+) (\w+) tier (\d+) -> (\S+) \(", re.M)


def test_time_travel_day_by_day_through_a_grant_s_life(app: Flask, runner: FlaskCliRunner) -> None:
    """Every day from before the first reminder to past the last escalation: each alert is
    created once, on its day, and printed by the run that created it (and mailed by it)."""
    world = make_grant()  # milestone 1 due 2026-09-30; no grace by default
    officer = staff(Role.officer)
    admin = staff(Role.admin)
    grantee = world.applicant.email
    expected = {
        date(2026, 8, 31): {("due_soon", 1, grantee)},  # 30 days before
        date(2026, 9, 23): {("due_soon", 2, grantee)},  # 7 days before
        date(2026, 10, 1): {("overdue", 1, grantee), ("overdue", 1, officer.email)},
        date(2026, 10, 14): {("escalation", 1, officer.email)},  # 14 days overdue
        date(2026, 10, 30): {("escalation", 2, admin.email)},  # 30 days overdue
    }
    printed: dict[date, set[tuple[str, int, str]]] = {}
    ids: list[int] = []
    day = date(2026, 8, 25)
    while day <= date(2026, 11, 10):
        result = runner.invoke(args=["grants", "scan", "--today", day.isoformat()])
        assert result.exit_code == 0, (day, result.output)
        found = _CREATED.findall(result.output)
        total = len(found)
        alerts = "1 alert" if total == 1 else f"{total} alerts"
        assert f"Scan for {day.isoformat()}: {alerts} created" in result.output
        assert f"E-mail: {total} sent, 0 failed." in result.output
        if found:
            printed[day] = {(kind, int(tier), email) for _id, kind, tier, email in found}
            ids.extend(int(alert_id) for alert_id, *_ in found)
        day += timedelta(days=1)
    assert printed == expected
    alerts = all_alerts()
    assert sorted(ids) == [alert.id for alert in alerts]  # each printed once, none unprinted
    assert all(alert.emailed_at is not None and alert.email_attempts == 1 for alert in alerts)
    db.session.expire_all()
    first = db.session.get(Milestone, world.milestones[0].id)
    assert first is not None and first.overdue_since == date(2026, 10, 1)
    # travelling back and forth again creates nothing
    for again in (date(2026, 9, 23), date(2026, 10, 14), date(2026, 11, 10)):
        result = runner.invoke(args=["grants", "scan", "--today", again.isoformat()])
        assert "0 alerts created" in result.output and "Created:" not in result.output
    assert len(all_alerts()) == len(alerts)
