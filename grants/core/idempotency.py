"""Idempotent requests: the first request with a key acts, every later one replays its answer.

`run(actor, key, method, path, perform)` keeps one row per (user, key):

- no row yet: a row is inserted (flushed, not committed) and `perform` runs in the same
  transaction, so the use case's own commit makes the key visible together with its
  effect. On PostgreSQL a concurrent request with the same key blocks on the unique
  index until then and replays the stored answer afterwards; SQLite serialises the two
  transactions anyway. A successful answer is stored right after that commit.
- an error answer (status >= 400): everything `perform` did is rolled back and the key
  is stored with the error, so retrying replays the same error without acting again.
- a row exists: the same method and path replay its status and body; anything else is a
  client error (422). A row still without an answer (the first request is between its
  two commits) is waited for, briefly, then refused with 409.
- a row without an answer older than `stale_after`: the first request died between its
  two commits (its effect is committed, its answer was never stored). `settle` reads the
  outcome from the data: an answer completes the key with it (and it is replayed); None
  (nothing was done under this key) frees the key, and this request acts.

Keys older than IDEMPOTENCY_KEY_DAYS are deleted by a scheduled job (`purge`).

`perform` must answer domain errors itself (as the status and body the client gets);
any other exception rolls everything back, stores nothing and propagates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from grants.core.actors import Actor
from grants.core.errors import Conflict, NotAllowed, RuleViolation
from grants.core.models import KEY_MAX, IdempotencyKey, utcnow
from grants.extensions import db

HEADER = "Idempotency-Key"
# Visible ASCII, no spaces (a UUID, a ticket number ...): what every HTTP stack keeps as is.
KEY_PATTERN = r"[\x21-\x7e]+"
# How long a request waits for the first request with the same key to finish.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


Perform = Callable[[], Answer]
Settle = Callable[[], Answer | None]


@dataclass(frozen=True)
class Recovery:
    """How to settle a key whose first request died before storing its answer."""

    settle: Settle
    stale_after: timedelta


def run(
    actor: Actor,
    key: str,
    method: str,
    path: str,
    perform: Perform,
    recovery: Recovery | None = None,
) -> Answer:
    """`perform` once per (actor, key); the stored answer for every later call."""
    if actor.id is None:
        raise NotAllowed(_("Idempotency keys belong to a user."))
    _check_key(key)
    stored = _find(actor.id, key)
    if stored is not None:
        answer = _settled_or_replayed(stored, method, path, recovery)
        if answer is not None:
            return answer  # else a dead request's key was freed: act now
    row = IdempotencyKey(user_id=actor.id, key=key, method=method, path=path)
    db.session.add(row)
    try:
        db.session.flush()  # PostgreSQL: waits here while another request holds the key
    except IntegrityError:
        db.session.rollback()
        return _replay(actor.id, key, method, path)
    try:
        answer = perform()
    except BaseException:
        db.session.rollback()
        raise
    if answer.status >= 400:
        db.session.rollback()  # the key goes too; it is stored again with the error
        return _store_error(actor.id, key, method, path, answer)
    row.status, row.body = answer.status, answer.body
    db.session.commit()
    return answer


def _check_key(key: str) -> None:
    if not re.fullmatch(KEY_PATTERN, key or "") or len(key) > KEY_MAX:
        message = _(
            "Give an %(header)s of 1 to %(n)d visible ASCII characters (no spaces).",
            header=HEADER,
            n=KEY_MAX,
        )
        raise RuleViolation(message, {HEADER: [message]})


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    query = (
        select(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def _settled_or_replayed(
    stored: IdempotencyKey, method: str, path: str, recovery: Recovery | None
) -> Answer | None:
    """The stored answer; a dead request's key settled; None when it was freed."""
    user_id, key = stored.user_id, stored.key
    dead = (
        recovery is not None
        and stored.status is None
        and (stored.method, stored.path) == (method, path)
        and stored.created_at <= utcnow() - recovery.stale_after
    )
    if recovery is not None and dead:
        answer, won = _settle(stored.id, recovery.settle)
        if won:
            return answer
    return _replay(user_id, key, method, path)


def _settle(row_id: int, settle: Settle) -> tuple[Answer | None, bool]:
    """Complete the dead request's key from the data, or free it (the answer None); `won`
    is False when another request settled it first."""
    unanswered = (IdempotencyKey.id == row_id, IdempotencyKey.status.is_(None))
    answer = settle()
    statement: Any = delete(IdempotencyKey).where(*unanswered)
    if answer is not None:
        values = {"status": answer.status, "body": answer.body}
        statement = update(IdempotencyKey).where(*unanswered).values(values)
    won = db.session.execute(statement).rowcount == 1
    db.session.commit()
    return (replace(answer, replayed=True) if answer else None), won


def _replay(user_id: int, key: str, method: str, path: str) -> Answer:
    """The stored answer, once the first request has one (it may still be running)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stored = _find(user_id, key)
        if stored is not None and (stored.method, stored.path) != (method, path):
            db.session.rollback()
            message = _(
                "This %(header)s was already used for %(method)s %(path)s; "
                "use a new key for another request.",
                header=HEADER,
                method=stored.method,
                path=stored.path,
            )
            raise RuleViolation(message, {HEADER: [message]})
        if stored is not None and stored.status is not None:
            answer = Answer(stored.status, dict(stored.body or {}), replayed=True)
            db.session.rollback()
            return answer
        db.session.rollback()  # hold no transaction (SQLite: no write lock) while waiting
        if time.monotonic() >= deadline:
            raise Conflict(
                _(
                    "A request with this %(header)s is still being processed. Retry shortly.",
                    header=HEADER,
                )
            )
        time.sleep(POLL_SECONDS)


def purge(before: datetime) -> int:
    """Delete the keys created before `before`; how many went."""
    deleted = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < before)
    ).rowcount
    db.session.commit()
    return int(deleted)


def _store_error(user_id: int, key: str, method: str, path: str, answer: Answer) -> Answer:
    row = IdempotencyKey(
        user_id=user_id,
        key=key,
        method=method,
        path=path,
        status=answer.status,
        body=answer.body,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request with the key acted meanwhile: its answer is the one to keep.
        db.session.rollback()
        return _replay(user_id, key, method, path)
    return answer
