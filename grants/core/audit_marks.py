"""Figures kept per process while the data stands still.

Some pages show aggregates whose cost grows with the programmes' history (programme
health, budget pools, tranches awaiting release). Every transaction that changes the
tables they read moves the data generation (core.changes: the tables' own defaults do it,
whoever writes), so the generation marks the state of the data: a kept figure is reused
while it stays, and recomputed when it moves. The mark is read before the figures, so
figures are never older than their mark.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, g

from grants.core import changes
from grants.extensions import db

T = TypeVar("T")
Mark = int
_EXTENSION = "grants.audit_marks"
_MARKED = "grants.audit_marks.marked"


def kept(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or the value it gave for (`name`, `key`) under the current mark.

    `key` holds every argument the figures depend on besides the data (a day, a filter)."""
    mark = _transaction_mark()
    memo = _memo()
    found = memo.get((name, key), mark)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    if not changes.written(db.session()):  # uncommitted data: not kept for others
        memo.put((name, key), mark, value)
    return value


def kept_while(name: str, key: Hashable, mark: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or the value it gave for (`name`, `key`) while `mark` stays what it was.

    For figures that read few tables of a busy database: `mark` says what those tables hold
    (their latest stamps, core.changes), so that writes elsewhere do not drop the value. One
    value is kept per (`name`, `key`): the latest."""
    memo = current_app.extensions.setdefault(_MARKED, _Latest())
    found = memo.get((name, key), mark)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    if not changes.written(db.session()):  # uncommitted data: not kept for others
        memo.put((name, key), mark, value)
    return value


class _Latest:
    """Per key, the latest mark and its value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, Hashable], tuple[Hashable, Any]] = {}

    def get(self, key: tuple[str, Hashable], mark: Hashable) -> tuple[Any] | None:
        with self._lock:
            held = self._values.get(key)
            return (held[1],) if held is not None and held[0] == mark else None

    def put(self, key: tuple[str, Hashable], mark: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = (mark, value)


def _transaction_mark() -> Mark:
    """The data generation, read once per database transaction (a page reads several
    figures)."""
    held = g.get("audit_mark")
    transaction = db.session().get_transaction()
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]  # type: ignore[no-any-return]
    mark = changes.current(db.session())
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
