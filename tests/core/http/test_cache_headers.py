"""No cache keeps what a signed-in user or an API token was shown; HSTS covers subdomains."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from tests.support.api import ApiClient
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.web import login


def _get_routes(app: Flask, prefix: str) -> list[str]:
    """Every GET address under `prefix`, each id replaced by 1."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()) and rule.rule.startswith(prefix):
            found.add(re.sub(r"<[^>]+>", "1", rule.rule))
    return sorted(found)


@pytest.mark.parametrize("role", [Role.officer, Role.admin, Role.applicant])
def test_every_page_a_signed_in_user_sees_is_no_store(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    make_grant()
    login(client, make_user(role).email)
    checked = 0
    for path in _get_routes(app, "/"):
        if path.startswith(("/static", "/api/", "/calendar/")):
            continue
        response = client.get(path, buffered=True)  # a streamed export is read in the request
        if response.mimetype in ("text/html", "application/json"):
            assert "no-store" in response.headers.get("Cache-Control", ""), path
            checked += 1
    assert checked > 20


def test_every_api_answer_is_no_store(app: Flask, client: FlaskClient) -> None:
    make_grant()
    api = ApiClient(client, make_user(Role.officer))
    paths = _get_routes(app, "/api/v1/")
    assert len(paths) > 20
    for path in paths:
        response = api.get(path, buffered=True)
        assert response.headers.get("Cache-Control") == "no-store", path
    refused = client.get("/api/v1/alerts")  # no token
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"


def _cache_control(client: FlaskClient, path: str) -> str:
    return str(client.get(path, buffered=True).headers.get("Cache-Control", ""))


def test_static_files_and_anonymous_pages_may_be_cached(client: FlaskClient) -> None:
    assert "no-store" not in _cache_control(client, "/static/css/app.css")
    assert "no-store" not in _cache_control(client, "/no-such-page")
    assert _cache_control(client, "/login") == "no-store"  # sign-in, always


def test_a_signed_in_users_static_files_may_be_cached(client: FlaskClient) -> None:
    login(client, make_user(Role.applicant).email)
    assert "no-store" not in _cache_control(client, "/static/css/app.css")


def test_hsts_includes_subdomains_unless_turned_off(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE", 31_536_000)
    hsts = client.get("/login").headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains"
    monkeypatch.setitem(app.config, "HSTS_INCLUDE_SUBDOMAINS", False)
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"
