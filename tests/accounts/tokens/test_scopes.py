"""API tokens have a scope (read, or read and write) and an expiry chosen at creation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select, update

from grants.accounts.tokens import service as tokens
from grants.accounts.tokens.models import ApiToken
from grants.accounts.tokens.rules import (
    TokenScope,
    allows,
    expires_at,
    expiry_problem,
    latest_expiry,
)
from grants.core.actors import SYSTEM
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, assert_error
from tests.support.factories import make_user
from tests.support.second_factor import no_second_factor_given
from tests.support.web import login, post_form

TODAY = date(2026, 10, 15)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


@pytest.mark.parametrize(
    ("expires_on", "refused"),
    [
        (TODAY, True),  # 0 days
        (TODAY - timedelta(days=1), True),
        (TODAY + timedelta(days=1), False),
        (TODAY + timedelta(days=90), False),
        (date(2027, 10, 15), False),  # a year
        (date(2027, 10, 16), True),  # a year and a day
    ],
)
def test_the_expiry_is_from_tomorrow_to_a_year(expires_on: date, refused: bool) -> None:
    assert (expiry_problem(expires_on, TODAY) is not None) is refused


def test_a_year_from_the_29th_of_february_is_the_28th() -> None:
    assert latest_expiry(date(2028, 2, 29)) == date(2029, 2, 28)


def test_a_token_works_through_its_last_day_in_tokyo() -> None:
    # 2026-10-16 00:00 in Tokyo is 2026-10-15 15:00 UTC
    assert expires_at(TODAY) == datetime(2026, 10, 15, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_a_read_token_reads(method: str) -> None:
    assert allows(TokenScope.read, method) and allows(TokenScope.read_write, method)


@pytest.mark.parametrize("method", WRITES)
def test_only_a_read_write_token_writes(method: str) -> None:
    assert not allows(TokenScope.read, method) and allows(TokenScope.read_write, method)


def test_an_expiry_out_of_range_writes_nothing(app: Flask) -> None:
    user = make_user()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for day, words in ((TODAY, "tomorrow"), (date(2028, 1, 1), "within a year")):
        with pytest.raises(RuleViolation) as refused:
            tokens.create_token(
                user, user, "x", TokenScope.read, day, TODAY, step_up=no_second_factor_given()
            )
        assert words in refused.value.fields["expires_on"][0]
    with pytest.raises(RuleViolation) as both:
        tokens.create_token(user, user, "", "admin", TODAY, TODAY, step_up=no_second_factor_given())  # type: ignore[arg-type]
    assert set(both.value.fields) == {"name", "scope", "expires_on"}
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def _sample(part: str) -> str:
    """A value the URL part accepts: 1 for an id, the first of a choice (<any(a, b):name>)."""
    if part.startswith("<any("):
        return part.removeprefix("<any(").split(",")[0].split(")")[0].strip()
    return "1" if part.startswith("<") else part


def _write_routes(app: Flask) -> list[tuple[str, str]]:
    """Every API route that changes something, with a sample value for each variable."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = "/".join(_sample(part) for part in rule.rule.split("/"))
        found += [(method, path) for method in sorted(set(rule.methods or ()) & set(WRITES))]
    return sorted(found)


def test_a_read_token_is_refused_every_write_of_every_route(
    app: Flask, client: FlaskClient
) -> None:
    routes = _write_routes(app)
    assert len(routes) > 30 and ("DELETE", "/api/v1/tokens/1") in routes
    for role in (Role.officer, Role.admin):
        reader = ApiClient(client, make_user(role, locale=Locale.en), TokenScope.read)
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        for method, path in routes:
            response = client.open(
                path,
                method=method,
                json={},
                headers={"Authorization": f"Bearer {reader.secret}"},
            )
            error = assert_error(response, 403, "read_only_token")
            assert "may only read" in error["message"], (method, path)
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
        assert reader.get("/api/v1/tokens").status_code == 200  # reading is fine


def test_a_read_write_token_writes(app: Flask, client: FlaskClient) -> None:
    writer = ApiClient(client, make_user(Role.applicant), TokenScope.read_write)
    created = writer.post("/api/v1/tokens", json={"name": "second"})
    assert created.status_code == 201
    assert created.get_json()["scope"] == "read"  # a new token reads unless told otherwise


def test_expired_and_revoked_tokens_get_401_with_the_bearer_challenge(
    app: Flask, client: FlaskClient
) -> None:
    api = ApiClient(client, make_user(Role.applicant, locale=Locale.en))
    assert api.get("/api/v1/tokens").status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    response = api.get("/api/v1/tokens", headers={"Accept-Language": "en"})
    error = assert_error(response, 401, "unauthorized")
    assert error["message"] == "This API token has expired: create a new one."
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="grants", error="invalid_token"')

    other = ApiClient(client, api.user)
    token_id = db.session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
    assert other.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    revoked = other.get("/api/v1/tokens")  # no user known: the installation's language
    assert assert_error(revoked, 401)["message"] == "このAPIトークンは取り消されています。"
    assert 'error="invalid_token"' in revoked.headers["WWW-Authenticate"]

    unknown = client.get("/api/v1/tokens", headers={"Authorization": "Bearer gt_forged"})
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    missing = client.get("/api/v1/tokens")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="grants"'  # no token sent


def test_the_api_creates_with_scope_and_expiry_and_lists_them(
    app: Flask, client: FlaskClient
) -> None:
    api = ApiClient(client, make_user(Role.applicant))  # officers create tokens on the web
    last_day = _today() + timedelta(days=30)
    created = api.post(
        "/api/v1/tokens",
        json={"name": "nightly", "scope": "read_write", "expires_on": last_day.isoformat()},
    ).get_json()
    assert created["scope"] == "read_write" and created["status"] == "active"
    assert created["expires_at"].startswith((last_day + timedelta(days=1)).isoformat()[:8])
    default = api.post("/api/v1/tokens", json={"name": "default"}).get_json()
    left = datetime.fromisoformat(default["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89) < left <= timedelta(days=91)
    listed = {t["name"]: t for t in api.get("/api/v1/tokens").get_json()}
    assert listed["tests"]["last_used_at"] is not None and listed["nightly"]["last_used_at"] is None
    assert {t["scope"] for t in listed.values()} == {"read", "read_write"}
    for body, field in (
        ({"name": "x", "scope": "admin"}, "scope"),
        ({"name": "x", "expires_on": _today().isoformat()}, "expires_on"),
        ({"name": "x", "expires_on": (_today() + timedelta(days=400)).isoformat()}, "expires_on"),
        ({"name": "x", "expires_on": "soon"}, "expires_on"),
    ):
        assert field in assert_error(api.post("/api/v1/tokens", json=body), 422)["fields"]
    assert len(api.get("/api/v1/tokens").get_json()) == 3


def test_the_settings_page_chooses_scope_and_expiry(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.reviewer, locale=Locale.en)
    login(client, user.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    default = (_today() + timedelta(days=90)).isoformat()
    assert f'value="{default}"' in page
    read = re.search(r'<input[^>]*name="scope"[^>]*value="read"[^>]*>', page)
    assert read and "checked" in read.group()  # read only unless chosen
    too_late = (_today() + timedelta(days=366)).isoformat()
    refused = post_form(
        client, "/settings/tokens", {"name": "x", "scope": "read", "expires_on": too_late}
    )
    assert refused.status_code == 422
    assert "A token expires within a year at the latest." in refused.get_data(as_text=True)
    made = post_form(
        client, "/settings/tokens", {"name": "sync", "scope": "read_write", "expires_on": default}
    )
    assert made.status_code == 200
    listed = client.get("/settings/tokens").get_data(as_text=True)
    assert "Read and change data" in listed and "Never" in listed
    token = db.session.scalars(select(ApiToken)).one()
    assert token.scope == TokenScope.read_write


def test_the_command_line_chooses_scope_and_expiry(app: Flask, runner: FlaskCliRunner) -> None:
    user = make_user(Role.officer)
    last_day = (_today() + timedelta(days=7)).isoformat()
    args = ["grants", "create-token", "--email", user.email, "--name", "ci"]
    made = runner.invoke(args=[*args, "--scope", "read_write", "--expires-on", last_day])
    assert made.exit_code == 0, made.output
    assert f"read_write, until {last_day}" in made.output
    too_late = (_today() + timedelta(days=500)).isoformat()
    refused = runner.invoke(args=[*args, "--expires-on", too_late])
    assert refused.exit_code == 1 and "expires_on" in refused.output
    token = db.session.scalars(select(ApiToken)).one()
    assert token.scope == TokenScope.read_write


def test_the_system_makes_tokens_of_any_user(app: Flask) -> None:
    user = make_user()
    token, _secret = tokens.create_token(
        SYSTEM,
        user,
        "ops",
        TokenScope.read,
        TODAY + timedelta(days=1),
        TODAY,
        step_up=no_second_factor_given(),
    )
    assert token.user_id == user.id
