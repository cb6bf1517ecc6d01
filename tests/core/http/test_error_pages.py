"""The error pages themselves survive what caused them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.web import login


def test_a_failed_flush_still_gets_the_translated_page_with_its_layout(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(Role.applicant)
    login(client, user.email)

    def broken() -> str:
        db.session.add(User())  # NOT NULL columns missing: the flush fails
        db.session.flush()
        return "unreachable"

    monkeypatch.setitem(app.view_functions, "home.home", broken)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "システム側でエラーが発生しました" in html
    assert user.name in html  # the layout loaded the signed-in user after the failure


def test_a_wrong_method_says_which_methods_the_address_takes(client: FlaskClient) -> None:
    for path in ("/logout", "/api/v1/tokens"):
        response = client.put(path)
        assert response.status_code == 405
        assert "POST" in response.headers["Allow"]


def test_https_deployments_ask_browsers_to_stay_on_https(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE", 31_536_000)
    hsts = client.get("/login").headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains"
