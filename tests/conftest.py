"""Shared fixtures: one database per run (SQLite file or throwaway PostgreSQL), wiped per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import text

from grants import create_app
from grants.core.changes import GENERATION, moved
from grants.extensions import db, limiter
from tests.support import pgcluster
from tests.support import redis as redis_server


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.Cluster | None]:
    """The throwaway PostgreSQL cluster of a PostgreSQL run; None on SQLite."""
    if os.environ.get("GRANTS_TEST_DATABASE") != "postgresql":
        yield None
        return
    cluster = pgcluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the run. Skipped where Debian's redis-server is missing, but
    a failure when GRANTS_REQUIRE_REDIS=1 (.ci/run installs it)."""
    if not redis_server.REDIS_SERVER.exists():
        reason = f"{redis_server.REDIS_SERVER} is missing (apt-get install redis-server)"
        if os.environ.get("GRANTS_REQUIRE_REDIS") == "1":
            pytest.fail(reason + ", and GRANTS_REQUIRE_REDIS=1 requires it")
        pytest.skip(reason)
    server = redis_server.start(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(
    pg_cluster: pgcluster.Cluster | None, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if pg_cluster is not None:
        return pg_cluster.url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g` and session.

    The test's own session ends its transaction first, so that SQLite's write lock
    (outside a request every transaction there begins IMMEDIATE) is free for the request.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        db.session.rollback()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            "TASK_RESULT_FOLDER": str(tmp_path_factory.mktemp("task-results")),
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The application inside an app context; every table is emptied afterwards."""
    with _app.app_context():
        yield _app
        db.session.remove()
        _wipe()
    limiter.reset()


def _wipe() -> None:
    """Every table emptied, but for the data generation, which moves: a wipe changes data
    like any writer, so that no figure kept before it is taken for one after it."""
    tables = [
        table.name for table in reversed(db.metadata.sorted_tables) if table is not GENERATION
    ]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
        moved(conn)


@pytest.fixture
def kept_figures(app: Flask) -> Iterator[None]:
    """Portfolio figures kept while the data stands still (as always), from a new
    process's empty memo."""
    app.extensions.pop("grants.audit_marks", None)
    try:
        yield
    finally:
        app.extensions.pop("grants.audit_marks", None)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# `make test-fast`: the tests of the pure modules (core's pure ones, the rules engine, every
# feature's rules.py) and of the import contract, which need no app and no database.
PURE_CORE = {"calendar", "charts", "conflicts", "money", "permissions", "problems", "states"}
APP_FIXTURES = {"app", "_app", "client", "runner", "database_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        parts = item.path.resolve().relative_to(tests).parts
        if _pure_path(parts) and not APP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pure)


def _pure_path(parts: tuple[str, ...]) -> bool:
    if parts[0] in ("rules", "architecture") or parts[-1] == "test_rules.py":
        return True
    return parts[0] == "core" and len(parts) == 2 and parts[1][5:-3] in PURE_CORE
