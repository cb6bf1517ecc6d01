"""The settings page for personal API tokens: created and shown once, listed, revoked."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.tokens.models import ApiToken
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.web import csrf_token, login, post_form

_SECRET = re.compile(r'id="new-token" type="text" readonly value="(gt_[^"]+)"')


@pytest.mark.parametrize("role", list(Role))
def test_every_role_creates_uses_and_revokes_a_token(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    user = make_user(role)
    login(client, user.email)
    page = post_form(client, "/settings/tokens", {"name": "dashboard"})
    assert page.status_code == 200
    secret = _SECRET.search(page.get_data(as_text=True)).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.user_id == user.id and secret not in stored.token_hash
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/tokens", headers=headers).status_code == 200
    listing = client.get("/settings/tokens").get_data(as_text=True)
    assert "dashboard" in listing and secret not in listing  # shown once only
    assert "Bearer &lt;token&gt;" in listing
    revoked = post_form(client, f"/settings/tokens/{stored.id}/revoke", {}, follow_redirects=True)
    assert revoked.status_code == 200
    assert client.get("/api/v1/tokens", headers=headers).status_code == 401


def test_a_name_is_required(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.applicant).email)
    page = post_form(client, "/settings/tokens", {"name": ""})
    assert page.status_code == 422 and 'id="name-error"' in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_another_users_token_cannot_be_revoked(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.officer)
    login(client, owner.email)
    post_form(client, "/settings/tokens", {"name": "mine"})
    token_id = db.session.scalar(select(ApiToken.id))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, make_user(Role.officer).email)
    assert post_form(client, f"/settings/tokens/{token_id}/revoke", {}).status_code == 404
    assert db.session.scalar(select(ApiToken.revoked_at)) is None


def test_anonymous_is_sent_to_sign_in_and_csrf_is_required(app: Flask, client: FlaskClient) -> None:
    response = client.get("/settings/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, make_user(Role.applicant).email)
    assert client.post("/settings/tokens", data={"name": "x"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
