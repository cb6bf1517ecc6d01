"""The error pages themselves survive what caused them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.domain.accounts import Role
from grants.extensions import db
from grants.models import User
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

    monkeypatch.setitem(app.view_functions, "main.home", broken)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "システム側でエラーが発生しました" in html
    assert user.name in html  # the layout loaded the signed-in user after the failure
