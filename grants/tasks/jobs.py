"""The scheduled job of background tasks: purge old tasks and their files."""

from __future__ import annotations

import logging

from flask import Flask

from grants.core.models import utcnow
from grants.core.scheduler import Job, hold_lease
from grants.tasks import service as background

log = logging.getLogger("grants.tasks")


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


JOBS = (Job("purge_task_results", purge_task_results, "TASK_PURGE_INTERVAL_MINUTES"),)
