"""On PostgreSQL, a request whose transaction only read ends it with COMMIT, not ROLLBACK.

psycopg prepares a statement on a connection once it has run it a few times, so that
PostgreSQL plans it once; but it forgets every prepared statement at a ROLLBACK (it
cannot tell what the rolled-back transaction dropped or altered). Flask-SQLAlchemy ends
each request by closing the session, which rolls back: pages, which only read, would
then have every query planned anew on every request (the portfolio's plan costs more than
its index reads). Committing a transaction that wrote nothing changes nothing else.

A transaction counts as a reader while every statement it ran reads (SELECT, or a WITH
query without INSERT, UPDATE or DELETE) and the session holds no unflushed change; a
request that failed, or that wrote anything and did not commit it, is rolled back as
before.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from grants.extensions import db

_WRITES_KEY = "grants_wrote"
_READS = ("SELECT", "SHOW", "VALUES")
_DATA_CHANGE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def commit_read_only_requests(app: Flask, engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.info[_WRITES_KEY] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not connection.info.get(_WRITES_KEY) and not _reads(statement):
            connection.info[_WRITES_KEY] = True

    # Registered after Flask-SQLAlchemy's own teardown, so that it runs before it.
    @app.teardown_appcontext
    def _commit_if_read_only(error: BaseException | None) -> None:
        session = db.session()
        if error is not None or not session.in_transaction():
            return
        if session.new or session.dirty or session.deleted:
            return
        if not session.connection().info.get(_WRITES_KEY, True):
            session.commit()


def _reads(statement: str) -> bool:
    first = statement.lstrip()[:6].upper()
    if first.startswith(_READS):
        return True
    return first.startswith("WITH") and _DATA_CHANGE.search(statement) is None
