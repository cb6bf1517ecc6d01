"""On PostgreSQL, requests that only read commit, so that psycopg keeps its prepared statements;
anything that wrote without committing is still rolled back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from grants.accounts.models import Organization
from grants.core.db import _reads
from grants.core.identity import OrgKind
from grants.extensions import db
from tests.support.factories import make_org


@pytest.fixture
def on_postgresql(app: Flask) -> Flask:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Only psycopg forgets prepared statements at a rollback; SQLite keeps none.")
    return app


def _request(app: Flask, work: Callable[[], object]) -> object:
    """`work` in an application context of its own, ended as a request's is."""
    with app.app_context():
        return work()


def _count_organizations() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Organization)) or 0)


def _name(org_id: int) -> str:
    return str(db.session.scalar(select(Organization.name).where(Organization.id == org_id)))


def test_read_only_requests_keep_their_prepared_statements(on_postgresql: Flask) -> None:
    make_org(OrgKind.startup)
    db.session.commit()
    # One pooled connection: after tests with many threads the pool hands its several
    # connections out in turn, and none would run the statement often enough to prepare it.
    db.session.remove()
    db.engine.dispose()
    for _ in range(8):  # psycopg prepares a statement after its fifth run on a connection
        assert _request(on_postgresql, _count_organizations) == 1
    statements = _request(
        on_postgresql,
        lambda: list(db.session.scalars(text("SELECT statement FROM pg_prepared_statements"))),
    )
    assert any("organization" in statement for statement in statements)  # type: ignore[union-attr]


def test_a_request_that_wrote_without_committing_is_rolled_back(on_postgresql: Flask) -> None:
    org = make_org(OrgKind.startup, name="Before")
    db.session.commit()

    def write_then_fail_softly() -> None:
        db.session.execute(update(Organization).where(Organization.id == org.id).values(name="X"))
        _count_organizations()  # reads after the write: the transaction still wrote

    _request(on_postgresql, write_then_fail_softly)
    assert _request(on_postgresql, lambda: _name(org.id)) == "Before"


def test_unflushed_changes_are_not_committed(on_postgresql: Flask) -> None:
    org = make_org(OrgKind.startup, name="Before")
    db.session.commit()

    def change_without_flushing() -> None:
        _count_organizations()
        db.session.get(Organization, org.id).name = "Changed"  # type: ignore[union-attr]

    _request(on_postgresql, change_without_flushing)
    assert _request(on_postgresql, lambda: _name(org.id)) == "Before"


def test_a_failed_request_is_rolled_back(on_postgresql: Flask) -> None:
    org = make_org(OrgKind.startup, name="Before")
    db.session.commit()
    with pytest.raises(RuntimeError), on_postgresql.app_context():
        db.session.execute(update(Organization).where(Organization.id == org.id).values(name="X"))
        raise RuntimeError("the view failed")
    assert _request(on_postgresql, lambda: _name(org.id)) == "Before"


@pytest.mark.parametrize(
    ("statement", "reads"),
    [
        ("SELECT 1", True),
        ("  select count(*) FROM alert", True),
        ("SELECT id FROM milestone WHERE id = 1 FOR UPDATE", True),  # a commit frees it too
        ("WITH scheduled AS (SELECT 1) SELECT * FROM scheduled", True),
        ("WITH gone AS (DELETE FROM alert RETURNING id) SELECT * FROM gone", False),
        ("WITH x AS (SELECT 1) INSERT INTO alert SELECT * FROM x", False),
        ("SELECT updated_at FROM background_task", True),
        ("INSERT INTO alert (id) VALUES (1)", False),
        ("UPDATE milestone SET overdue_since = NULL", False),
        ("SAVEPOINT sa_savepoint_1", False),
        ("SET LOCAL lock_timeout = 1000", False),
    ],
)
def test_which_statements_read(statement: str, reads: bool) -> None:
    assert _reads(statement) is reads
