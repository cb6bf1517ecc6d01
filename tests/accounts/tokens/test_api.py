"""Personal API tokens: shown once, stored hashed, revocable, last use recorded; 401 without."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts import service as accounts
from grants.accounts.tokens.models import ApiToken
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_user


def test_requests_without_a_valid_token_get_401(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/programs")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="grants"'
    bad = {"Authorization": "Bearer gt_not-a-token"}
    assert_error(client.get("/api/v1/programs", headers=bad), 401)
    basic = {"Authorization": "Basic dXNlcjpwdw=="}
    assert_error(client.get("/api/v1/programs", headers=basic), 401)


def test_the_token_is_stored_hashed_and_records_its_last_use(
    app: Flask, client: FlaskClient
) -> None:
    api = api_as(client, Role.applicant)
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != api.secret and api.secret not in stored.token_hash
    assert stored.last_used_at is None
    assert api.get("/api/v1/programs").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_create_list_and_revoke_my_tokens(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.reviewer)
    created = api.post("/api/v1/tokens", json={"name": "accounting export"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["token"].startswith("gt_") and body["name"] == "accounting export"
    listed = api.get("/api/v1/tokens").get_json()
    assert {t["name"] for t in listed} == {"tests", "accounting export"}
    assert all("token" not in t for t in listed)
    second = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/tokens", headers=second).status_code == 200
    assert api.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert_error(client.get("/api/v1/tokens", headers=second), 401)
    assert_error(api.delete(f"/api/v1/tokens/{body['id']}"), 409, "conflict")
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"api_token.create", "api_token.revoke"} <= actions


@pytest.mark.parametrize("role", [Role.officer, Role.admin])
def test_officers_and_administrators_create_tokens_on_the_web_only(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    """A token cannot give a second factor: the API refuses, saying where to go instead."""
    api = ApiClient(client, make_user(role, locale=Locale.en))
    response = api.post("/api/v1/tokens", json={"name": "export"})
    error = assert_error(response, 403, "second_factor_required")
    assert "API tokens" in error["message"] and "10 minutes" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1  # its own
    assert api.get("/api/v1/tokens").status_code == 200  # reading and revoking still work


def test_a_user_cannot_revoke_anothers_token(app: Flask, client: FlaskClient) -> None:
    mine = api_as(client, Role.applicant)
    theirs = api_as(client, Role.applicant)
    their_id = theirs.get("/api/v1/tokens").get_json()[0]["id"]
    assert_error(mine.delete(f"/api/v1/tokens/{their_id}"), 404, "not_found")
    assert theirs.get("/api/v1/tokens").status_code == 200


def test_invalid_token_names_are_422_with_the_field(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.reviewer)
    error = assert_error(api.post("/api/v1/tokens", json={"name": ""}), 422, "unprocessable")
    assert "name" in error["fields"]
    assert "name" in assert_error(api.post("/api/v1/tokens", json={}), 422)["fields"]
    assert_error(api.post("/api/v1/tokens", json={"name": "x" * 101}), 422)


def test_a_deactivated_users_token_stops_working(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.applicant)
    user = api.user
    data = accounts.UserData(
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        organization_id=user.organization_id,
        active=False,
    )
    accounts.update_user(SYSTEM, user.id, data)
    assert_error(api.get("/api/v1/programs"), 401)


def test_create_token_from_the_command_line(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.officer)
    result = runner.invoke(args=["grants", "create-token", "--email", user.email, "--name", "ci"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("gt_")
    client = app.test_client()
    assert (
        client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    unknown = runner.invoke(
        args=["grants", "create-token", "--email", "nobody@x.jp", "--name", "a"]
    )
    assert unknown.exit_code != 0 and "nobody@x.jp" in unknown.output
