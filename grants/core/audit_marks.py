"""Figures kept per process while the audit log stands still.

Some pages show aggregates whose cost grows with the programmes' history (programme
health, budget pools, tranches awaiting release). Every change to grants, milestones and
budget pools is made by a service that appends to the audit log, and appends are
serialised (one chain), so the last audit event marks the state of the data: a kept
figure is reused while the mark stays, and recomputed when it moves. Events that cannot
touch any figure (sign-ins, tokens, scans) are not marks, so a busy morning of sign-ins
keeps the figures. The mark is read before the figures, so figures are never older than
their mark. Writes that bypass the services (test factories) are not seen: keeping is
off in the testing configuration (PORTFOLIO_FIGURES_CACHE) and switched on by its own
tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import select

from grants.core.models import AuditEvent
from grants.extensions import db

T = TypeVar("T")
Mark = tuple[int, str]
# Audited actions that change nothing a kept figure reads.
NOT_MARKS = (
    "user.login",
    "user.sign_out",
    "user.set_locale",
    "api_token.create",
    "api_token.revoke",
    "calendar_token.create",
    "calendar_token.revoke",
    "background_task.start",
    "alerts.scan",
)
_EXTENSION = "grants.audit_marks"


def kept(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or the value it gave for (`name`, `key`) under the current audit mark.

    `key` holds every argument the figures depend on besides the data (a day, a filter)."""
    if not current_app.config["PORTFOLIO_FIGURES_CACHE"]:
        return compute()
    mark = _transaction_mark()
    if mark is None:  # nothing recorded yet: nothing to key the figures on
        return compute()
    memo = _memo()
    found = memo.get((name, key), mark)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    memo.put((name, key), mark, value)
    return value


def _last_mark() -> Mark | None:
    query = (
        select(AuditEvent.id, AuditEvent.hash)
        .where(AuditEvent.action.not_in(NOT_MARKS))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    row = db.session.execute(query).first()
    return (row[0], row[1]) if row else None


def _transaction_mark() -> Mark | None:
    """The last mark, read once per database transaction (a page reads several figures)."""
    held = g.get("audit_mark")
    transaction = db.session().get_transaction()
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]  # type: ignore[no-any-return]
    mark = _last_mark()
    g.audit_mark = (db.session().get_transaction(), mark)
    return mark


class _Memo:
    """Values of the latest mark only: a newer mark drops every older value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mark: Mark | None = None
        self._values: dict[tuple[str, Hashable], Any] = {}

    def get(self, key: tuple[str, Hashable], mark: Mark) -> tuple[Any] | None:
        with self._lock:
            if mark != self._mark or key not in self._values:
                return None
            return (self._values[key],)

    def put(self, key: tuple[str, Hashable], mark: Mark, value: Any) -> None:
        with self._lock:
            if mark != self._mark:
                self._mark, self._values = mark, {}
            self._values[key] = value


def _memo() -> _Memo:
    return current_app.extensions.setdefault(_EXTENSION, _Memo())
