"""Scheduler set-up: where it runs embedded, the jobs under the lease, a clean SIGTERM stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select, update

from grants import create_app
from grants.alerts.jobs import deliver_alerts, scan_milestones
from grants.alerts.models import Alert
from grants.core import lease
from grants.core.identity import Role
from grants.core.models import AuditEvent, SchedulerLease, utcnow
from grants.core.scheduler import (
    JOBS_KEY,
    Heartbeat,
    Job,
    add_jobs,
    embedded_wanted,
    hold_lease,
    set_jobs,
)
from grants.extensions import db
from tests.support.alerts import all_alerts, staff
from tests.support.grants import make_grant


@pytest.mark.parametrize(
    ("enabled", "testing", "command", "reload", "run_main", "expected"),
    [
        (True, False, "run", False, None, True),  # flask run --no-reload
        (True, False, "run", True, None, False),  # the reloader's watcher process
        (True, False, "run", True, "true", True),  # the reloader's serving child
        (True, False, "db", False, None, False),  # flask db upgrade
        (True, False, None, False, None, False),  # gunicorn, a script
        (True, True, "run", False, None, False),  # never under tests
        (False, False, "run", False, None, False),  # disabled (production)
    ],
)
def test_the_embedded_scheduler_runs_only_in_the_serving_process(
    enabled: bool, testing: bool, command: str | None, reload: bool, run_main: str | None,
    expected: bool,
) -> None:  # fmt: skip
    assert embedded_wanted(enabled, testing, command, reload, run_main) is expected


def test_tests_never_start_a_scheduler(app: Flask) -> None:
    assert "grants_scheduler" not in app.extensions
    other = create_app({"ENV_NAME": "testing", "SCHEDULER_EMBEDDED": True})
    assert "grants_scheduler" not in other.extensions


def test_every_job_is_registered_with_its_interval(app: Flask) -> None:
    scheduler = add_jobs(app, BackgroundScheduler(timezone="UTC"), "holder")
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "scan_milestones",
        "deliver_alerts",
        "send_digests",
        "run_background_tasks",
        "purge_task_results",
        "purge_idempotency_keys",
        "scheduler_heartbeat",
    }
    assert jobs["run_background_tasks"].trigger.interval == timedelta(seconds=5)
    assert jobs["scheduler_heartbeat"].trigger.interval == timedelta(seconds=20)
    assert jobs["purge_idempotency_keys"].trigger.interval == timedelta(hours=6)
    assert jobs["scan_milestones"].trigger.interval == timedelta(minutes=60)
    assert jobs["deliver_alerts"].trigger.interval == timedelta(minutes=5)
    assert jobs["send_digests"].trigger.interval == timedelta(minutes=5)
    assert jobs["purge_task_results"].trigger.interval == timedelta(hours=6)
    assert jobs["deliver_alerts"].max_instances == 1


def test_jobs_act_only_with_the_lease(app: Flask) -> None:
    make_grant()
    staff(Role.officer)

    def job(function, *args, **kwargs):  # type: ignore[no-untyped-def]
        db.session.rollback()  # each job has its own app context, session and connection
        return function(app, *args, **kwargs)

    lease.acquire(lease.SCHEDULER, "first", utcnow(), timedelta(minutes=15))
    assert job(scan_milestones, "second", today=date(2026, 10, 1)) is None
    assert all_alerts() == []
    assert job(scan_milestones, "first", today=date(2026, 10, 1)).total == 2
    assert all(alert.emailed_at is not None for alert in all_alerts())  # mailed at once
    db.session.execute(update(Alert).values(emailed_at=None))  # as if the mail had failed
    db.session.commit()
    assert job(deliver_alerts, "second") is None
    assert len(job(deliver_alerts, "first").sent) == 2
    lease.release(lease.SCHEDULER, "first", utcnow())
    assert job(scan_milestones, "second", today=date(2026, 10, 2)).total == 0


def test_the_lease_lasts_a_minute_and_a_heartbeat_renews_it_every_20_seconds(app: Flask) -> None:
    assert app.config["SCHEDULER_LEASE_SECONDS"] == 60
    assert app.config["SCHEDULER_HEARTBEAT_SECONDS"] == 20


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def test_a_standby_heartbeat_takes_a_dead_schedulers_lease_over_within_a_minute(
    app: Flask,
) -> None:
    clock = Clock()
    lease.acquire(lease.SCHEDULER, "dead", clock.now, timedelta(seconds=60))  # its last beat
    scheduler = add_jobs(app, BackgroundScheduler(timezone="UTC"), "standby")
    scheduler.start(paused=True)
    try:
        later = datetime.now(UTC) + timedelta(hours=1)
        for job in scheduler.get_jobs():
            job.modify(next_run_time=later)
        standby = Heartbeat(scheduler, clock)
        for _beat in range(4):  # 0, 20, 40 and 60 s after the dead one's last beat
            assert standby(app, "standby") is False
            clock.now += timedelta(seconds=20)
        clock.now -= timedelta(seconds=19)  # 61 s: its lease lapsed
        assert standby(app, "standby") is True
        assert lease.current(lease.SCHEDULER, clock.now).holder == "standby"
        db.session.rollback()  # SQLite: every transaction here takes the write lock
        due = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        assert due.pop("scheduler_heartbeat") == later
        assert due and all(moment < later for moment in due.values())  # every job at once
        assert standby(app, "standby") is True  # renewing: nothing more to do
    finally:
        scheduler.shutdown(wait=False)


def test_a_crashed_scheduler_is_replaced_by_a_running_one(app: Flask) -> None:
    """Two real schedulers, a one-second heartbeat: the first dies without letting the
    lease go; the second holds it, and runs the jobs, once the lease lapses."""
    ran: list[str] = []
    saved = app.extensions[JOBS_KEY]
    app.config.update(SCHEDULER_LEASE_SECONDS=2, SCHEDULER_HEARTBEAT_SECONDS=1)

    def record(app: Flask, holder: str) -> None:
        with app.app_context():
            if hold_lease(holder):
                ran.append(holder)

    set_jobs(app, [Job("record", record, "SCAN_INTERVAL_MINUTES")])
    db.session.commit()
    first = add_jobs(app, BackgroundScheduler(timezone="UTC"), "first")
    second = add_jobs(app, BackgroundScheduler(timezone="UTC"), "second")
    try:
        first.start()
        _wait_for(lambda: "first" in ran)
        first.shutdown(wait=True)  # dies: no release of the lease
        second.start()
        _wait_for(lambda: "second" in ran, seconds=10)
        assert _holder() == "second"
    finally:
        for scheduler in (first, second):
            if scheduler.running:
                scheduler.shutdown(wait=True)
        app.extensions[JOBS_KEY] = saved
        app.config.update(SCHEDULER_LEASE_SECONDS=60, SCHEDULER_HEARTBEAT_SECONDS=20)


def _wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _holder() -> str | None:
    db.session.rollback()
    held = lease.current(lease.SCHEDULER, utcnow())
    return held.holder if held else None


def test_flask_grants_scheduler_runs_the_jobs_and_stops_cleanly_on_sigterm(
    app: Flask, repo_root: Path
) -> None:
    make_grant()  # something for the first scan to look at
    env = {
        **os.environ,
        "GRANTS_ENV": "testing",
        "FLASK_APP": "wsgi",
        "GRANTS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
    }
    db.session.commit()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "grants", "scheduler"],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and not _scanned():
            time.sleep(0.2)
        scanned = _scanned()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert scanned, f"the scheduler did not scan within a minute:\n{err}"
    assert process.returncode == 0, err
    assert "Scheduler started" in out and "Scheduler stopped." in out
    db.session.expire_all()
    held = db.session.scalar(select(SchedulerLease))
    assert held is not None and held.expires_at <= utcnow()  # released on the way out


def _scanned() -> bool:
    db.session.rollback()
    query = select(AuditEvent.id).where(AuditEvent.action == "alerts.scan")
    found = db.session.scalar(query) is not None
    db.session.rollback()
    return found
