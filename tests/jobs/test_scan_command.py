"""flask grants scan --today: one pass (scan + delivery) that prints what it created."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner

from grants.domain.accounts import Role
from grants.models.base import utcnow
from grants.services import lease
from tests.support.alerts import all_alerts, staff
from tests.support.grants import make_grant


def test_scan_prints_counts_and_alerts_and_mails_them(app: Flask, runner: FlaskCliRunner) -> None:
    world = make_grant()
    staff(Role.officer)
    result = runner.invoke(args=["grants", "scan", "--today", "2026-10-01"])
    assert result.exit_code == 0, result.output
    alerts = all_alerts()
    assert len(alerts) == 2
    assert "Scan for 2026-10-01: 2 alerts created, 1 milestones flagged overdue" in result.output
    assert "  overdue          2" in result.output
    assert "  due_soon         0" in result.output
    assert f"#{alerts[0].id} overdue tier 1 -> {world.applicant.email}" in result.output
    assert "E-mail: 2 sent, 0 failed." in result.output  # testing mails go to the log
    assert all(alert.emailed_at is not None for alert in alerts)


def test_a_rerun_prints_that_nothing_was_created(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    result = runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert "0 alerts created" in result.output
    assert "Created:" not in result.output


def test_a_rerun_with_nothing_changed_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    make_grant()
    app.config["ALERT_SCAN_INCREMENTAL"] = True
    try:
        runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
        result = runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    finally:
        app.config["ALERT_SCAN_INCREMENTAL"] = False
    assert result.exit_code == 0, result.output
    assert "nothing changed since this day's last scan" in result.output
    assert "alerts created" not in result.output and "E-mail: 0 sent" in result.output


def test_a_bad_date_exits_non_zero_with_a_message(app: Flask, runner: FlaskCliRunner) -> None:
    for bad in ("2026-13-01", "tomorrow", "2026/10/01"):
        result = runner.invoke(args=["grants", "scan", "--today", bad])
        assert result.exit_code != 0
        assert "Invalid value for '--today'" in result.output
    assert all_alerts() == []


def test_the_scan_refuses_while_another_scheduler_holds_the_lease(
    app: Flask, runner: FlaskCliRunner
) -> None:
    make_grant()
    lease.acquire(lease.SCHEDULER, "scheduler@elsewhere", utcnow(), timedelta(minutes=15))
    result = runner.invoke(args=["grants", "scan", "--today", "2026-09-01"])
    assert result.exit_code == 1
    assert "scheduler@elsewhere" in result.output and "holds the lease" in result.output
    assert all_alerts() == []
