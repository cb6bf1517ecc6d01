"""What differs between PostgreSQL and SQLite: upserts, date arithmetic, read transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement, literal_column

from grants.extensions import db

# An execution option the SQLite begin hook (grants/app.py) reads: start the transaction
# DEFERRED, a snapshot beside the writers, instead of IMMEDIATE (the write lock).
READ_ONLY = "grants_read_only"


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def begin_reading() -> None:
    """Start the session's next transaction as a read that does not hold up writers.

    Long reads (a background task's work) need it on SQLite, where every transaction
    otherwise begins IMMEDIATE and other writers would queue until it ends.
    """
    db.session.connection(execution_options={READ_ONLY: True})


def insert_for(table: Table) -> Any:
    """An INSERT that supports on_conflict_do_nothing() on the current database."""
    if dialect_name() == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class add_days(FunctionElement[Any]):  # noqa: N801  (reads like the SQL function it is)
    """`date_column + days` as a DATE: `d + n` on PostgreSQL, `date(d, '+n days')` on SQLite."""

    type = Date()
    inherit_cache = True  # the number of days is a literal clause, hence part of the cache key

    def __init__(self, column: ColumnElement[Any], days: int) -> None:
        super().__init__(column, literal_column(str(int(days))))


def _parts(element: add_days, compiler: Any, **kw: Any) -> tuple[str, int]:
    column, days = list(element.clauses)
    return compiler.process(column, **kw), int(days.name)


@compiles(add_days, "postgresql")
def _add_days_postgresql(element: add_days, compiler: Any, **kw: Any) -> str:
    column, days = _parts(element, compiler, **kw)
    return f"({column} + {days:d})"


@compiles(add_days)
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    column, days = _parts(element, compiler, **kw)
    return f"date({column}, '{days:+d} days')"
