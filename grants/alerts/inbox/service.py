"""The in-app inbox's writes: marking my alerts read.

A user reads only their own alerts: someone else's alert is NotFound, so its existence
is not revealed. Marking read is not a state change worth an audit row. What the inbox
shows is in alerts.inbox.queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from grants.accounts.models import User
from grants.alerts.inbox.queries import owner_id
from grants.alerts.models import Alert
from grants.core.db import use_case
from grants.core.errors import NotFound
from grants.core.problems import N_
from grants.extensions import db


@use_case
def mark_read(actor: User, alert_id: int, now: datetime) -> Alert:
    """Mark one of the actor's own alerts read (NotFound for anyone else's)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.user_id != owner_id(actor):
        raise NotFound(N_("Not found."))
    if alert.read_at is None:
        alert.read_at = now
        db.session.commit()
    return alert


@use_case
def mark_all_read(actor: User, now: datetime) -> int:
    """Mark every unread alert of the actor read; how many there were."""
    statement = (
        update(Alert)
        .where(Alert.user_id == owner_id(actor), Alert.read_at.is_(None))
        .values(read_at=now)
    )
    count = db.session.execute(statement).rowcount
    db.session.commit()
    return count
