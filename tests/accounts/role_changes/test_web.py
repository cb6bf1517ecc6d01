"""The role changes page: one administrator asks on the account form, another confirms."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.role_changes.models import RoleChange
from grants.accounts.role_changes.rules import RoleChangeState
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.matrix import refused, routes, statuses
from tests.support.web import login, post_form


def _form(**values: object) -> dict[str, object]:
    return {
        "email": "new-officer@example.jp",
        "name": "New Officer",
        "role": "officer",
        "locale": "en",
        "organization_id": 0,
        "active": "y",
        "password": "a-long-password",
        **values,
    }


def _change() -> RoleChange:
    db.session.expire_all()
    return db.session.scalars(select(RoleChange)).one()


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "role_changes") == [
        ("GET", "/admin/role-changes"),
        ("POST", "/admin/role-changes/1/confirm"),
        ("POST", "/admin/role-changes/1/refuse"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = type("World", (), {"applicant": make_user(Role.applicant)})()
    paths = routes(app, "role_changes")
    page, confirm, refuse = paths
    table = statuses(client, world, paths)
    refused(table, "applicant_other_org", "grantee", "reviewer", "officer")
    assert table["admin"] == {page: 200, confirm: 404, refuse: 404}


def test_one_administrator_asks_and_another_confirms(app: Flask, client: FlaskClient) -> None:
    asking, confirming = make_user(Role.admin, locale=Locale.en), make_user(Role.admin)
    login(client, asking.email)
    response = post_form(client, "/admin/users/new", _form())
    assert response.status_code == 302
    created = client.get(response.headers["Location"]).get_data(as_text=True)  # its page
    assert "The new role takes effect when a second administrator confirms it" in created
    assert 'id="pending-role-change"' in created
    users = client.get("/admin/users").get_data(as_text=True)
    assert "Program officer: waiting for a second administrator" in users
    officer = db.session.scalars(select(User).filter_by(email="new-officer@example.jp")).one()
    assert (officer.role, officer.active) == (Role.officer, False)

    change = _change()
    page = client.get("/admin/role-changes").get_data(as_text=True)
    assert "Waiting for a second administrator" in page and "Another administrator" in page
    assert f"/admin/role-changes/{change.id}/confirm" not in page  # not the one who asked
    assert post_form(client, f"/admin/role-changes/{change.id}/confirm", {}).status_code == 403
    form = client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert 'id="pending-role-change"' in form

    second = app.test_client()
    login(second, confirming.email)
    page = second.get("/admin/role-changes").get_data(as_text=True)
    assert f"/admin/role-changes/{change.id}/confirm" in page
    response = post_form(second, f"/admin/role-changes/{change.id}/confirm", {})
    assert response.status_code == 302
    assert _change().state == RoleChangeState.confirmed
    db.session.refresh(officer)
    assert officer.active is True
    assert post_form(second, f"/admin/role-changes/{change.id}/confirm", {}).status_code == 409


def test_a_single_administrator_is_shown_the_command(app: Flask, client: FlaskClient) -> None:
    only = make_user(Role.admin, locale=Locale.en)
    reviewer = make_user(Role.reviewer)
    login(client, only.email)
    data = _form(email=reviewer.email, name=reviewer.name, role="admin")
    assert post_form(client, f"/admin/users/{reviewer.id}", data).status_code == 302
    change = _change()
    page = client.get("/admin/role-changes").get_data(as_text=True)
    assert f"flask grants confirm-role-change {change.id}" in page
    response = post_form(client, f"/admin/role-changes/{change.id}/refuse", {})
    assert response.status_code == 302
    assert _change().state == RoleChangeState.refused
    db.session.refresh(reviewer)
    assert reviewer.role == Role.reviewer
