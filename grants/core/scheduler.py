"""APScheduler set-up: embedded in the development server, or one blocking process.

Every scheduler runs a heartbeat beside the jobs: every SCHEDULER_HEARTBEAT_SECONDS it
renews the database lease (SCHEDULER_LEASE_SECONDS), so that a running scheduler keeps it
through a long job, and a scheduler that died loses it within that many seconds; a
standby scheduler's heartbeat then takes it over and runs every job at once.

Embedded: create_app calls start_embedded(), which starts a background scheduler only
when SCHEDULER_EMBEDDED is on (config/development.py), never under TESTING, and only in
the process that serves requests: `flask run`, in the reloader's child when the reloader
is on (WERKZEUG_RUN_MAIN), so that `flask db upgrade`, `flask grants ...` and the
reloader's watcher process never start one. Production: `flask grants scheduler`.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.helpers import get_debug_flag

from grants.core import lease
from grants.core.models import utcnow

log = logging.getLogger("grants.jobs")


@dataclass(frozen=True)
class Job:
    """A scheduled job: `run(app, holder)` every `app.config[interval]` minutes (or `unit`)."""

    id: str
    run: Callable[[Flask, str], Any]
    interval: str
    unit: str = "minutes"


JOBS_KEY = "grants_jobs"
HEARTBEAT = "scheduler_heartbeat"


class Heartbeat:
    """Renews the lease; on taking it over from a dead holder, runs every job at once."""

    def __init__(self, scheduler: BaseScheduler, clock: Callable[[], datetime] = utcnow) -> None:
        self.scheduler = scheduler
        self.clock = clock
        self.held: bool | None = None  # unknown until the first beat

    def __call__(self, app: Flask, holder: str) -> bool:
        with app.app_context():
            held = hold_lease(holder, self.clock())
        if held and self.held is False:
            log.info("%s took the scheduler lease over: running the jobs now", holder)
            self._run_jobs_now()
        self.held = held
        return held

    def _run_jobs_now(self) -> None:
        now = datetime.now(UTC)
        for job in self.scheduler.get_jobs():
            if job.id != HEARTBEAT:
                job.modify(next_run_time=now)


def set_jobs(app: Flask, jobs: Iterable[Job]) -> None:
    app.extensions[JOBS_KEY] = tuple(jobs)


def add_jobs(app: Flask, scheduler: BaseScheduler, holder: str) -> BaseScheduler:
    """Every job of the app, first run now, then every `interval` minutes."""
    common: dict[str, Any] = {
        "args": (app, holder),
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": 300,
        "next_run_time": datetime.now(UTC),
    }
    heartbeat = Job(HEARTBEAT, Heartbeat(scheduler), "SCHEDULER_HEARTBEAT_SECONDS", "seconds")
    for job in (*app.extensions[JOBS_KEY], heartbeat):
        every = {job.unit: app.config[job.interval]}
        scheduler.add_job(job.run, "interval", id=job.id, **every, **common)
    return scheduler


def hold_lease(holder: str, now: datetime | None = None) -> bool:
    """Take or renew the scheduler lease for SCHEDULER_LEASE_SECONDS."""
    ttl = timedelta(seconds=current_app.config["SCHEDULER_LEASE_SECONDS"])
    return lease.acquire(lease.SCHEDULER, holder, now or utcnow(), ttl)


def embedded_wanted(
    enabled: bool, testing: bool, command: str | None, reload: bool, run_main: str | None
) -> bool:
    """Whether this process should run the embedded scheduler."""
    if not enabled or testing or command != "run":
        return False
    return run_main == "true" or not reload  # the reloader's child, or no reloader at all


def _serving_process() -> tuple[str | None, bool]:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None, False
    reload = ctx.params.get("reload")
    return ctx.info_name, get_debug_flag() if reload is None else bool(reload)


def start_embedded(app: Flask) -> BackgroundScheduler | None:
    command, reload = _serving_process()
    wanted = embedded_wanted(
        bool(app.config.get("SCHEDULER_EMBEDDED")),
        bool(app.config.get("TESTING")),
        command,
        reload,
        os.environ.get("WERKZEUG_RUN_MAIN"),
    )
    if not wanted:
        return None
    holder = lease.new_holder("embedded")
    scheduler = BackgroundScheduler(timezone=UTC)
    add_jobs(app, scheduler, holder)
    scheduler.start()
    app.extensions["grants_scheduler"] = scheduler
    atexit.register(_stop, app, scheduler, holder)
    log.info("embedded scheduler started as %s", holder)
    return scheduler


def run_blocking(app: Flask) -> None:
    """`flask grants scheduler`: run until SIGTERM or SIGINT, then stop cleanly."""
    holder = lease.new_holder("scheduler")
    scheduler = BlockingScheduler(timezone=UTC)
    add_jobs(app, scheduler, holder)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        if scheduler.running:
            scheduler.shutdown(wait=True)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"Scheduler started as {holder}. Stop it with SIGTERM or Ctrl-C.")
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with app.app_context():
            lease.release(lease.SCHEDULER, holder, utcnow())
    click.echo("Scheduler stopped.")


def _stop(app: Flask, scheduler: BackgroundScheduler, holder: str) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=True)
    with app.app_context():
        lease.release(lease.SCHEDULER, holder, utcnow())
