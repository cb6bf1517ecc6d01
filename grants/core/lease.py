"""A database lease: only one scheduler process acts at a time, whatever runs where.

acquire() is one atomic UPDATE (take an expired lease, or renew one's own), else one
INSERT ... ON CONFLICT DO NOTHING (the very first time), and the UPDATE once more if the
row appeared meanwhile (two jobs of one scheduler start together); one holder wins on
PostgreSQL (row lock, re-checked WHERE) and on SQLite (a single writer at a time). Each
call is its own transaction. The lease is infrastructure: no actor, no audit row.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update

from grants.core.db import insert_for
from grants.core.models import SchedulerLease
from grants.extensions import db

SCHEDULER = "scheduler"


def new_holder(role: str = "scheduler") -> str:
    """A name unique to this process and call: host, pid and a random suffix."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:120]


def acquire(name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` until now + ttl; False when someone else holds it."""
    taken = _take(name, holder, now, ttl)
    if not taken:
        table = SchedulerLease.__table__
        insert = insert_for(table).values(
            name=name, holder=holder, acquired_at=now, expires_at=now + ttl
        )
        statement = insert.on_conflict_do_nothing(index_elements=["name"]).returning(table.c.name)
        taken = len(db.session.execute(statement).all())
        if not taken:  # the row appeared meanwhile: perhaps our own other job, or expired
            taken = _take(name, holder, now, ttl)
    db.session.commit()
    return taken == 1


def _take(name: str, holder: str, now: datetime, ttl: timedelta) -> int:
    """The atomic UPDATE: an expired lease, or one's own, becomes ours until now + ttl."""
    table = SchedulerLease.__table__
    return db.session.execute(
        update(table)
        .where(table.c.name == name, or_(table.c.expires_at < now, table.c.holder == holder))
        .values(
            holder=holder,
            expires_at=now + ttl,
            acquired_at=case((table.c.holder == holder, table.c.acquired_at), else_=now),
        )
    ).rowcount


def release(name: str, holder: str, now: datetime) -> bool:
    """Let the lease go at once (only its holder can); True when it was held by `holder`."""
    table = SchedulerLease.__table__
    released = db.session.execute(
        update(table)
        .where(table.c.name == name, table.c.holder == holder, table.c.expires_at >= now)
        .values(expires_at=now)
    ).rowcount
    db.session.commit()
    return released == 1


def current(name: str, now: datetime) -> SchedulerLease | None:
    """The unexpired lease `name`, or None."""
    lease = db.session.scalar(
        select(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.expires_at > now)
    )
    return lease


@dataclass(frozen=True)
class LeaseState:
    """The lease as last written, whether or not it still holds."""

    holder: str
    acquired_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


def state(name: str) -> LeaseState | None:
    """Who holds or last held the lease `name`, and until when; None if nobody ever did."""
    row = db.session.execute(
        select(SchedulerLease.holder, SchedulerLease.acquired_at, SchedulerLease.expires_at).where(
            SchedulerLease.name == name
        )
    ).first()
    return LeaseState(*row) if row is not None else None
