"""The scheduled jobs of background tasks: run the queued ones, purge old ones and files."""

from __future__ import annotations

import logging

from flask import Flask, current_app

from grants.core.models import utcnow
from grants.core.scheduler import Job, hold_lease
from grants.tasks import runner
from grants.tasks import service as background

log = logging.getLogger("grants.tasks")


def claim_and_run(worker: str) -> int | None:
    """One claim of `worker` and its run, with the installation's settings."""
    settings = background.TaskSettings.of(current_app.config, current_app.instance_path)
    return background.run_next(worker, settings)


def start_workers(app: Flask) -> runner.Workers | None:
    """This app server's worker threads (BACKGROUND_WORKERS), started once."""
    return runner.start(app, claim_and_run)


def run_tasks(app: Flask, holder: str) -> int:
    """Job: claim and run tasks until none waits; how many ran. Every scheduler runs it,
    lease or not: a task is claimed by one worker whichever process it is in."""
    ran = 0
    while runner.run_once(app, claim_and_run, f"{holder}/tasks") is not None:
        ran += 1
    return ran


def purge_task_results(app: Flask, holder: str) -> int | None:
    """Job: delete background tasks and files older than TASK_RESULT_DAYS."""
    with app.app_context():
        if not hold_lease(holder):
            return None
        settings = background.TaskSettings.of(app.config, app.instance_path)
        purged = background.purge(utcnow(), settings)
        if purged:
            log.info("purged %d background tasks", purged)
        return purged


JOBS = (
    Job("run_background_tasks", run_tasks, "TASK_POLL_SECONDS", "seconds"),
    Job("purge_task_results", purge_task_results, "TASK_PURGE_INTERVAL_MINUTES"),
)
