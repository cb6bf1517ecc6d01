"""The database, where PostgreSQL and SQLite differ and where every feature needs the same.

- Page numbers of lists: whatever was asked for, a page every database can OFFSET to, and
  never a page past the end (that would say the list is empty when it is not).
- Dialects: upserts, date arithmetic, read transactions.
- Read-only requests on PostgreSQL end with COMMIT, not ROLLBACK. psycopg prepares a
  statement once it has run it a few times, so that PostgreSQL plans it once; but it
  forgets every prepared statement at a ROLLBACK. Flask-SQLAlchemy ends each request by
  closing the session, which rolls back: pages, which only read, would then have every
  query planned anew. A transaction counts as a reader while every statement it ran
  reads (SELECT, or a WITH query without INSERT, UPDATE or DELETE) and the session holds
  no unflushed change; a request that failed, or wrote and did not commit, is rolled back.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from math import ceil
from typing import Any, TypeVar

from flask import Flask, g, has_request_context, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Boolean, Date, Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
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

# The largest id a BIGINT (and SQLite's INTEGER) can hold.
ID_MAX = 2**63 - 1

# Far beyond any real list, and small enough that (page - 1) * per_page fits every database.
MAX_PAGE = 1_000_000


def bounded_page(page: int | None) -> int:
    """A page number from 1 to MAX_PAGE: a missing or smaller one is the first page."""
    return min(max(page or 1, 1), MAX_PAGE)


def page_within(page: int | None, total: int, per_page: int) -> int:
    """`page`, bounded, and at most the last page of `total` rows: a page past the end (an
    old link, a list that shrank) shows the last one."""
    return min(bounded_page(page), max(ceil(total / per_page), 1))


def paginate(query: Any, page: int | None, per_page: int) -> Pagination:
    """Flask-SQLAlchemy's page of `query`, the last one when `page` is past the end."""
    result = db.paginate(query, page=bounded_page(page), per_page=per_page, error_out=False)
    if result.total and result.page > (result.pages or 1):
        result = db.paginate(query, page=result.pages, per_page=per_page, error_out=False)
    return result


# An execution option the SQLite begin hook reads: start the transaction DEFERRED, a
# snapshot beside the writers, instead of IMMEDIATE (the write lock).
READ_ONLY = "grants_read_only"
# Requests with these methods only read: on SQLite their transactions begin DEFERRED.
READING_METHODS = frozenset({"GET", "HEAD"})
_WRITING = "grants_writing"  # flask.g: this reading request has begun writing
_DEFERRED = "grants_deferred"  # connection.info: the transaction began DEFERRED
_HAS_READ = "grants_has_read"  # connection.info: ... and has read since


class WriteAfterRead(RuntimeWarning):
    """A SQLite transaction that began DEFERRED and read wants to write: if another writer
    committed since it read, SQLite refuses (SQLITE_BUSY_SNAPSHOT) rather than wait. Call
    begin_writing() before the use case reads what it writes."""


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def begin_reading() -> None:
    """Start the session's next transaction as a read that does not hold up writers.

    Long reads (a background task's work) need it on SQLite, where every transaction
    outside GET and HEAD requests otherwise begins IMMEDIATE and other writers would queue
    until it ends.
    """
    db.session.connection(execution_options={READ_ONLY: True})


def begin_writing() -> None:
    """In a GET or HEAD request, before a use case that writes: its transaction begins
    IMMEDIATE on SQLite (the write lock, waited for), and a reading one open now ends first
    (it wrote nothing), so that what the use case reads and then writes is read under the
    lock. The request's transactions after that one read again. Elsewhere, and on
    PostgreSQL, it changes nothing."""
    if has_request_context() and request.method in READING_METHODS:
        setattr(g, _WRITING, True)
    session = db.session()
    if session.in_transaction() and session.connection().info.get(_DEFERRED):
        session.commit()


def configure_sqlite_transactions(engine: Engine) -> None:
    """Readers begin DEFERRED (a snapshot: readers never wait, not even for a writer, in WAL
    mode): GET and HEAD requests, and begin_reading(). Everything else begins IMMEDIATE, so
    that writers queue for the lock instead of failing. A reader that writes after it read
    is warned about (WriteAfterRead): it may fail under load."""

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        deferred = _reading(connection)
        connection.info[_DEFERRED] = deferred
        connection.info[_HAS_READ] = False
        connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not connection.info.get(_DEFERRED):
            return
        if _reads(statement) or statement.lstrip()[:6].upper() == "PRAGMA":
            connection.info[_HAS_READ] = True
        elif connection.info.get(_HAS_READ):
            warnings.warn(WriteAfterRead(statement.split("\n", 1)[0][:120]), stacklevel=2)


def _reading(connection: Any) -> bool:
    if connection.get_execution_options().get(READ_ONLY):
        return True
    if not (has_request_context() and request.method in READING_METHODS):
        return False
    return not g.pop(_WRITING, False)  # begin_writing() asked for this one to write


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


class rare(FunctionElement[bool]):  # noqa: N801  (reads like the SQL it is)
    """A condition few rows meet, said to SQLite's planner, which without statistics on the
    values takes a range of an index for a quarter of the table: `unlikely(condition)` on
    SQLite, the condition itself on PostgreSQL (whose statistics know)."""

    type = Boolean()
    inherit_cache = True
    # a condition itself: never compared with 1 where booleans are integers (SQLite), which
    # would hide it from the planner
    _is_implicitly_boolean = True


@compiles(rare, "sqlite")
def _rare_sqlite(element: rare, compiler: Any, **kw: Any) -> str:
    (condition,) = list(element.clauses)
    return f"unlikely({compiler.process(condition, **kw)})"


@compiles(rare)
def _rare(element: rare, compiler: Any, **kw: Any) -> str:
    (condition,) = list(element.clauses)
    return f"({compiler.process(condition, **kw)})"


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


@dataclass(frozen=True)
class Page:
    """A page of rows, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def bounded(page: int, per_page: int) -> tuple[int, int]:
    """A page number from 1 to MAX_PAGE, and 1 to 500 rows a page."""
    return bounded_page(page), max(1, min(per_page, 500))


F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def locked_row(model: type[R], row_id: int) -> R:
    """The row of `model` with id `row_id`, locked for update and read again from the
    database (not the session's copy); NotFound when there is none."""
    from grants.core.errors import NotFound  # noqa: PLC0415  (errors imports problems)
    from grants.core.problems import N_  # noqa: PLC0415

    found = None
    if 0 < row_id <= ID_MAX:
        query = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
        found = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if found is None:
        raise NotFound(N_("Not found."))
    return found


def use_case(function: F) -> F:
    """A service's use case: one transaction that commits, or, whatever it raises, leaves
    nothing written behind (the session rolled back, ready for the error page's reads)."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return run  # type: ignore[return-value]
