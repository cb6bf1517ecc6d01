"""SQLite serves readers side by side: GET and HEAD requests begin DEFERRED (a snapshot in WAL
mode, never waiting for the writer), everything else IMMEDIATE (writers queue for the lock);
a reading request that must write says so first (begin_writing)."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from grants.accounts.models import Organization
from grants.core.db import WriteAfterRead, begin_reading, begin_writing
from grants.core.identity import OrgKind, Role
from grants.extensions import db
from tests.support.factories import make_org, make_user
from tests.support.web import login


@pytest.fixture
def sqlite(app: Flask) -> Flask:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("How SQLite transactions begin; PostgreSQL readers never wait for writers.")
    return app


@contextmanager
def request_context(app: Flask, method: str) -> Iterator[None]:
    """A request of its own: its own app context, session and connection."""
    with app.app_context(), app.test_request_context("/", method=method):
        try:
            yield
        finally:
            db.session.remove()


def _deferred(app: Flask, method: str) -> bool:
    with request_context(app, method):
        db.session.execute(text("SELECT 1"))
        return bool(db.session.connection().info["grants_deferred"])


def test_reading_requests_begin_deferred_and_the_others_immediate(sqlite: Flask) -> None:
    assert _deferred(sqlite, "GET") and _deferred(sqlite, "HEAD")
    assert not any(_deferred(sqlite, method) for method in ("POST", "PUT", "DELETE", "PATCH"))
    db.session.execute(text("SELECT 1"))  # outside a request: a scheduled job, a command
    assert not db.session.connection().info["grants_deferred"]
    db.session.rollback()
    begin_reading()  # unless it says it only reads
    assert db.session.connection().info["grants_deferred"]
    db.session.rollback()


@pytest.fixture
def writer(sqlite: Flask) -> Iterator[Connection]:
    """Another process's transaction holding SQLite's write lock, with a change not yet
    committed."""
    org_id = _org("Before")
    connection = db.engine.connect()  # outside a request: BEGIN IMMEDIATE
    connection.execute(update(Organization).where(Organization.id == org_id).values(name="X"))
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def _in_threads(work: Callable[[], object], count: int, seconds: float) -> list[object]:
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(work())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds)
    return results


def test_two_read_transactions_proceed_together_while_a_writer_holds_the_lock(
    sqlite: Flask, writer: Connection
) -> None:
    both_inside = threading.Barrier(2, timeout=5)

    def read() -> object:
        with request_context(sqlite, "GET"):
            first = db.session.scalar(select(func.count()).select_from(Organization))
            both_inside.wait()  # both read transactions are open at once
            return (first, db.session.scalar(select(Organization.name)))

    started = time.monotonic()
    results = _in_threads(read, 2, seconds=10)
    assert results == [(1, "Before"), (1, "Before")]  # the committed snapshot
    assert time.monotonic() - started < 5  # nobody waited for the writer's 30 s timeout


def test_pages_answer_while_a_writer_holds_the_lock(sqlite: Flask) -> None:
    emails = [make_user(Role.applicant).email for _ in range(2)]
    db.session.commit()
    clients = []
    for email in emails:  # plain clients: they run in threads without an app context
        client = FlaskClient(sqlite, sqlite.response_class, use_cookies=True)
        with sqlite.app_context():
            login(client, email)
            db.session.remove()
        clients.append(client)
    org_id = _org("Before")
    with db.engine.connect() as connection:
        connection.execute(update(Organization).where(Organization.id == org_id).values(name="Y"))
        pending = iter(clients)
        lock = threading.Lock()

        def page() -> object:
            with lock:
                client = next(pending)
            return client.get("/").status_code

        started = time.monotonic()
        statuses = _in_threads(page, 2, seconds=10)
        elapsed = time.monotonic() - started
        connection.rollback()
    assert statuses == [200, 200]
    assert elapsed < 5


def test_a_reading_request_writes_safely_after_begin_writing(sqlite: Flask) -> None:
    org_id = _org("Before")
    with request_context(sqlite, "GET"):
        assert db.session.get(Organization, org_id) is not None  # the snapshot begins here
        _commit_elsewhere(org_id, "Elsewhere")
        begin_writing()
        row = db.session.get(Organization, org_id)
        assert row is not None and row.name == "Elsewhere"  # read again, under the lock
        row.name = "Mine"
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organization, org_id).name == "Mine"


def test_a_write_after_a_read_without_begin_writing_is_warned_about_and_may_fail(
    sqlite: Flask,
) -> None:
    """SQLite refuses to upgrade a snapshot that another writer has moved past: the reason
    for begin_writing, and for the warning that finds a request that forgot it."""
    org_id = _org("Before")
    with request_context(sqlite, "GET"):
        db.session.get(Organization, org_id)
        _commit_elsewhere(org_id, "Elsewhere")
        statement = update(Organization).where(Organization.id == org_id).values(name="Mine")
        # refused as it stamps the row with a new data generation (core.changes), or as it
        # writes the row: either way SQLite's "database is locked" (a StatementError)
        with pytest.warns(WriteAfterRead), pytest.raises(StatementError, match="locked"):
            db.session.execute(statement)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        db.session.expire_all()
        assert db.session.get(Organization, org_id).name == "Elsewhere"
        db.session.rollback()


def _org(name: str) -> int:
    """A committed organization's id; the test's own session keeps no transaction open
    (outside a request it would begin IMMEDIATE, holding the write lock)."""
    org_id = make_org(OrgKind.startup, name=name).id
    db.session.commit()
    return org_id


def _commit_elsewhere(org_id: int, name: str) -> None:
    """Another process's writer, already done: outside this request (its transaction begins
    IMMEDIATE, and it stamps the row with a new data generation as every writer does)."""

    engine = db.engine

    def write() -> None:
        with engine.begin() as connection:
            statement = update(Organization).where(Organization.id == org_id).values(name=name)
            connection.execute(statement)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=30)
