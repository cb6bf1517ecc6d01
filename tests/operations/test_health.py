"""GET /healthz and /readyz, and what every address answers while the database is away:
503 with Retry-After (an error page, or the JSON error), then service again by itself."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.test import TestResponse

from grants import create_app
from grants.core import lease
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support import pgcluster
from tests.support.api import ApiClient, assert_error
from tests.support.databases import scratch_database
from tests.support.factories import make_user
from tests.support.queries import count_queries
from tests.support.web import login


def test_healthz_answers_without_the_database_or_a_cookie(client: FlaskClient) -> None:
    with count_queries() as statements:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert statements == []


def test_readyz_without_migrations_is_not_ready(client: FlaskClient) -> None:
    """The test database is made from the models, not migrated: no alembic version."""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "not at head"


@pytest.fixture
def migrated(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with scratch_database(database_url, tmp_path, "grants_ready") as url:
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            db.session.remove()
        yield app
        with app.app_context():
            db.engine.dispose()


def test_readyz_on_a_migrated_database_is_ready(migrated: Flask) -> None:
    response = migrated.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "scheduler": "not expected"},
    }
    assert "Retry-After" not in response.headers


def test_readyz_wants_a_fresh_lease_where_a_scheduler_is_expected(migrated: Flask) -> None:
    migrated.config["SCHEDULER_EXPECTED"] = True
    client = migrated.test_client()

    def scheduler() -> tuple[int, str]:
        response = client.get("/readyz")
        return response.status_code, response.get_json()["checks"]["scheduler"]

    assert scheduler() == (503, "no fresh lease")
    with migrated.app_context():
        lease.acquire(lease.SCHEDULER, "s1", utcnow(), timedelta(seconds=60))
    assert scheduler() == (200, "ok")
    with migrated.app_context():
        lease.acquire(lease.SCHEDULER, "s1", utcnow() - timedelta(minutes=5), timedelta(seconds=60))
    assert scheduler() == (503, "no fresh lease")  # its holder stopped renewing it


# --- outages --------------------------------------------------------------------------------


def _assert_unavailable_page(response: TestResponse, text: str) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "text/html" in response.content_type
    assert text in response.get_data(as_text=True)


def _assert_outage(client: FlaskClient, api: ApiClient) -> None:
    _assert_unavailable_page(client.get("/", headers={"Accept-Language": "en"}), "database")
    _assert_unavailable_page(
        client.get("/", headers={"Accept-Language": "ja"}), "データベースに接続できません"
    )
    response = api.get("/api/v1/alerts", headers={"Accept-Language": "en"})
    assert response.headers["Retry-After"] == "30"
    assert "database" in assert_error(response, 503, "unavailable")["message"]
    missing = client.get("/no-such-page", headers={"Accept-Language": "en"})
    _assert_unavailable_page(missing, "database")  # the 404 page could not read the user
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"] == "unreachable"
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def _assert_service(client: FlaskClient, api: ApiClient) -> None:
    assert client.get("/").status_code == 200
    assert api.get("/api/v1/alerts").status_code == 200
    assert client.get("/readyz").get_json()["checks"]["database"] == "ok"


def test_an_unreachable_sqlite_file_is_a_503_then_service_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'grants.sqlite3'}"
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        user = make_user(Role.applicant, locale=Locale.en)
        api, email = ApiClient(app.test_client(), user), user.email
        db.session.remove()
    client = app.test_client()
    login(client, email)
    _assert_service(client, api)
    folder.rename(tmp_path / "moved")  # the file is gone...
    with app.app_context():
        db.engine.dispose()  # ...and so are the open connections to it
    _assert_outage(client, api)
    (tmp_path / "moved").rename(folder)
    _assert_service(client, api)  # no restart, no dispose: the next connection works
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(folder)


def test_a_postgresql_outage_is_a_503_then_service_resumes(
    app: Flask, client: FlaskClient, pg_cluster: pgcluster.Cluster | None
) -> None:
    if pg_cluster is None:
        pytest.skip("Stops and restarts the throwaway PostgreSQL cluster (GRANTS_TEST_DATABASE).")
    user = make_user(Role.applicant, locale=Locale.en)
    api = ApiClient(client, user)
    login(client, user.email)
    _assert_service(client, api)
    db.session.remove()
    pg_cluster.pause()
    try:
        _assert_outage(client, api)
    finally:
        pg_cluster.resume()
    _assert_service(client, api)  # the pool's stale connections are noticed and replaced
