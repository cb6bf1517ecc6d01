"""Housekeeping jobs of the scheduler: old idempotency keys."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from grants.core import idempotency
from grants.core.models import utcnow
from grants.core.scheduler import Job, hold_lease

log = logging.getLogger("grants.jobs")


def purge_idempotency_keys(app: Flask, holder: str) -> int | None:
    """Job: delete the idempotency keys older than IDEMPOTENCY_KEY_DAYS."""
    with app.app_context():
        if not hold_lease(holder):
            return None
        cutoff = utcnow() - timedelta(days=app.config["IDEMPOTENCY_KEY_DAYS"])
        purged = idempotency.purge(cutoff)
        if purged:
            log.info("purged %d idempotency keys", purged)
        return purged


JOBS = (
    Job("purge_idempotency_keys", purge_idempotency_keys, "IDEMPOTENCY_PURGE_INTERVAL_MINUTES"),
)
