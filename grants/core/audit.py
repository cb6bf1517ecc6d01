"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grants.core.actors import Actor, actor_label
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends (and, taken
# first, moves of the data generation: core.changes).
CHAIN_LOCK_KEY = 7_301_115


@dataclass(frozen=True)
class Named:
    """What an audit row is about when that is not one stored row: an export, a list."""

    object_type: str
    object_id: str


def record(
    actor: Actor,
    action: str,
    obj: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row about `obj` (a stored row, or a Named thing) to the current
    transaction; the caller commits."""
    db.session.flush()  # so that a new object has its id
    _lock_chain()
    object_type, object_id = (
        (obj.object_type, obj.object_id)
        if isinstance(obj, Named)
        else (type(obj).__tablename__, str(obj.id))
    )
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id,
        actor_label=actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        prev_hash=_last_hash(),
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def _last_hash() -> str:
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def event_hash(event: AuditEvent) -> str:
    payload = {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None
    reason: str | None  # "prev_hash", "hash", or "anchor" (the anchor is not in the log)
    head: str = GENESIS  # the newest verified row's hash: an anchor for a later check

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify_chain(anchor: str | None = None, session: Session | None = None) -> ChainReport:
    """Walk the log in order; report the first row whose links or hash do not match.

    A chain cannot tell that its newest rows were cut off. `anchor`, a head hash from an
    earlier check (kept outside the database), must still be in the log: else rows were
    removed or replaced from there on. `session`: another database's (a backup's)."""
    session = session or db.session()
    checked = 0
    prev = GENESIS
    anchored = anchor is None
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500)
    with session.execute(query) as result:
        for event in result.scalars():
            if event.prev_hash != prev:
                return ChainReport(checked, event.id, "prev_hash", prev)
            if event_hash(event) != event.hash:
                return ChainReport(checked, event.id, "hash", prev)
            prev = event.hash
            anchored = anchored or prev == anchor
            checked += 1
            session.expunge(event)
    return ChainReport(checked, None, None if anchored else "anchor", prev)
