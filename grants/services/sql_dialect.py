"""What differs between PostgreSQL and SQLite: upserts, date arithmetic, read transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import (
    ClauseElement,
    ColumnElement,
    Executable,
    FunctionElement,
    Select,
    literal_column,
)
from sqlalchemy.sql.visitors import InternalTraversal

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


class insert_select_if_absent(Executable, ClauseElement):  # noqa: N801  (reads like SQL)
    """INSERT INTO table (columns) <rows> ON CONFLICT (key) DO NOTHING RETURNING <returning>.

    The same SQL on both databases. SQLAlchemy's own dialect inserts with an ON CONFLICT
    clause have no cache key, so a large INSERT ... SELECT would be compiled anew at every
    execution (milliseconds each); this construct is compiled once and cached.
    """

    inherit_cache = False  # the cache key comes from _traverse_internals below
    _traverse_internals = [
        ("table", InternalTraversal.dp_clauseelement),
        ("columns", InternalTraversal.dp_string_list),
        ("rows", InternalTraversal.dp_clauseelement),
        ("key", InternalTraversal.dp_string_list),
        ("returning", InternalTraversal.dp_string_list),
    ]

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Select[Any],
        key: Sequence[str],
        returning: Sequence[str],
    ) -> None:
        self.table = table
        self.columns = list(columns)
        self.rows = rows
        self.key = list(key)
        self.returning = list(returning)


@compiles(insert_select_if_absent)
def _insert_select_if_absent(element: insert_select_if_absent, compiler: Any, **kw: Any) -> str:
    def names(columns: list[str]) -> str:
        return ", ".join(compiler.preparer.quote(column) for column in columns)

    # As SQLAlchemy's INSERT ... SELECT does: the SELECT is nested, not the statement's result.
    compiler.stack.append({"correlate_froms": set(), "asfrom_froms": set(), "selectable": element})
    try:
        rows = compiler.process(element.rows, insert_into=True, **kw)
    finally:
        compiler.stack.pop()
    return (
        f"INSERT INTO {compiler.preparer.format_table(element.table)} ({names(element.columns)})"
        f" {rows} ON CONFLICT ({names(element.key)}) DO NOTHING"
        f" RETURNING {names(element.returning)}"
    )


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
