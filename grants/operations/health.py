"""Liveness and readiness: what a load balancer or an orchestrator asks before sending work.

Readiness needs the database (one statement on a fresh connection), the schema at the
migrations' head (alembic's version table against the scripts), and, where a scheduler
is expected (SCHEDULER_EXPECTED), a scheduler lease that its holder keeps renewing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from grants.core.lease import SCHEDULER
from grants.core.models import SchedulerLease
from grants.extensions import db

_HEADS_KEY = "grants.migration_heads"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value in ("ok", "not expected") for value in self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks}


def readiness(app: Flask, now: datetime, scheduler_expected: bool) -> Readiness:
    """Each check's outcome: ok, or what is wrong."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            checks = {
                "database": "ok",
                "migrations": _migrations(app, connection),
                "scheduler": _scheduler(connection, now, scheduler_expected),
            }
            connection.rollback()
    except SQLAlchemyError:
        app.logger.warning("readiness: the database is unreachable", exc_info=True)
        checks = {"database": "unreachable", "migrations": "unknown", "scheduler": "unknown"}
    return Readiness(checks)


def _migrations(app: Flask, connection: Connection) -> str:
    current = set(MigrationContext.configure(connection).get_current_heads())
    return "ok" if current == migration_heads(app) else "not at head"


def migration_heads(app: Flask) -> set[str]:
    """The head revisions of the migration scripts this code ships (read once)."""
    heads = app.extensions.get(_HEADS_KEY)
    if heads is None:
        config = app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        app.extensions[_HEADS_KEY] = heads
    return set(heads)


def _scheduler(connection: Connection, now: datetime, expected: bool) -> str:
    if not expected:
        return "not expected"
    fresh = connection.scalar(
        select(SchedulerLease.holder).where(
            SchedulerLease.name == SCHEDULER, SchedulerLease.expires_at > now
        )
    )
    return "ok" if fresh else "no fresh lease"
