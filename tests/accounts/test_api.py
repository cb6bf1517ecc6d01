"""The admin API: organisations, user accounts and role changes; administrators only, every
change and every read of an account audited."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.models import Organization, User
from grants.accounts.role_changes.models import RoleChange
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user, valid_corporate_number
from tests.support.mails import Outbox

ADMIN_ROUTES = [
    ("GET", "/api/v1/organizations"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations/1"),
    ("PUT", "/api/v1/organizations/1"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/1"),
    ("PUT", "/api/v1/users/1"),
    ("POST", "/api/v1/users/1/activate"),
    ("POST", "/api/v1/users/1/deactivate"),
    ("GET", "/api/v1/role-changes"),
    ("POST", "/api/v1/role-changes/1/confirm"),
    ("POST", "/api/v1/role-changes/1/refuse"),
    ("GET", "/api/v1/certified-vcs/certifications"),
    ("POST", "/api/v1/certified-vcs/certifications"),
    ("POST", "/api/v1/certified-vcs/certifications/1/revoke"),
    ("POST", "/api/v1/certified-vcs/import"),
]

ORG = {"name": "さくらバイオ株式会社", "kind": "startup"}
USER = {"email": "new@example.jp", "name": "New Person", "role": "reviewer", "locale": "en"}


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_routes_are_all_listed(app: Flask) -> None:
    prefixes = ("/api/v1/organizations", "/api/v1/users", "/api/v1/role-changes")
    found = {
        (method, "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/")))
        for rule in app.url_map.iter_rules()
        # GET /api/v1/certified-vcs is the registry every user reads (applications)
        if rule.rule.startswith((*prefixes, "/api/v1/certified-vcs/"))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert found == set(ADMIN_ROUTES)


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.officer])
def test_refused_to_everyone_but_administrators(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    make_org()
    api = api_as(client, role)
    before = _count(AuditEvent)
    for method, path in ADMIN_ROUTES:
        response = client.open(path, method=method, json={}, headers=api._headers(None))
        assert response.status_code in (403, 422), (method, path, response.status_code)
        if response.status_code == 422:  # the body is checked before the role: say so
            assert method in ("POST", "PUT"), (method, path)
    for method, path in ADMIN_ROUTES:
        body = _valid_body(path)
        response = client.open(path, method=method, json=body, headers=api._headers(None))
        if path.endswith("/import"):
            continue  # a file is needed before anything: see test_certified_vcs_api
        assert_error(response, 403, "forbidden")
    assert _count(AuditEvent) == before  # nothing written, nothing read


def _valid_body(path: str) -> dict[str, object]:
    if path.startswith("/api/v1/organizations"):
        return ORG
    if path.startswith("/api/v1/users") and not path.endswith(("activate", "deactivate")):
        return USER
    if path.endswith("/certifications"):
        return {"organization_id": 1, "certified_on": "2026-04-01"}
    if path.endswith("/revoke"):
        return {"revoked_on": "2026-04-01"}
    return {}


def test_anonymous_gets_401(app: Flask, client: FlaskClient) -> None:
    for method, path in ADMIN_ROUTES:
        response = client.open(path, method=method, json={})
        assert_error(response, 401, "unauthorized")


def test_organisations_are_listed_created_and_changed(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    number = valid_corporate_number(4242)
    created = api.post("/api/v1/organizations", json={**ORG, "corporate_number": number})
    assert created.status_code == 201, created.get_json()
    org = created.get_json()
    assert org["corporate_number"] == number and org["listed"] is False
    # 法人番号 as typed: full width and dashes are read as plain digits
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    changed = api.put(
        f"/api/v1/organizations/{org['id']}",
        json={**ORG, "name": "Sakura", "corporate_number": f"{wide[:4]}-{wide[4:]}"},
    )
    assert changed.status_code == 200 and changed.get_json()["corporate_number"] == number
    listed = api.get("/api/v1/organizations?q=Saku").get_json()
    assert [o["id"] for o in listed["items"]] == [org["id"]] and listed["total"] == 1
    assert api.get(f"/api/v1/organizations/{org['id']}").get_json()["name"] == "Sakura"
    assert_error(api.get("/api/v1/organizations/999"), 404)
    assert _actions()[-2:] == ["organization.create", "organization.update"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1234567890123", "check digit"),
        ("123456789012", "exactly 13 digits"),
        ("12345678901ab", "digits only"),
    ],
)
def test_a_wrong_corporate_number_is_422_and_writes_nothing(
    app: Flask, client: FlaskClient, number: str, message: str
) -> None:
    api = ApiClient(client, make_user(Role.admin, locale=Locale.en))
    before = _count(Organization)
    response = api.post("/api/v1/organizations", json={**ORG, "corporate_number": number})
    error = assert_error(response, 422, "unprocessable")
    assert message in error["fields"]["corporate_number"][0]
    assert _count(Organization) == before


def test_bad_organisation_input_is_422(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    taken = make_org()
    for body, field in (
        ({**ORG, "kind": "bank"}, "kind"),
        ({"kind": "startup"}, "name"),
        ({**ORG, "name": "x" * 201}, "name"),
        ({**ORG, "corporate_number": taken.corporate_number}, "corporate_number"),
    ):
        error = assert_error(api.post("/api/v1/organizations", json=body), 422)
        assert field in error["fields"], (body, error)


def test_users_are_invited_read_changed_and_deactivated(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_user(Role.admin)
    api = ApiClient(client, admin)
    org = make_org()
    outbox = Outbox(caplog)
    invited = api.post("/api/v1/users", json={**USER, "organization_id": org.id})
    assert invited.status_code == 201, invited.get_json()
    user = invited.get_json()
    assert user["role"] == "reviewer" and user["active"] is True
    assert user["pending_role_change"] is None and "password" not in str(user)
    assert user["invitation_sent"] is True
    assert outbox.last("new@example.jp").link  # the owner sets the password through it
    read = api.get(f"/api/v1/users/{user['id']}").get_json()
    assert read["email"] == "new@example.jp" and read["organization_id"] == org.id
    listed = api.get("/api/v1/users?q=new@").get_json()
    assert [u["id"] for u in listed["items"]] == [user["id"]]
    changed = api.put(f"/api/v1/users/{user['id']}", json={**USER, "name": "Renamed"})
    assert changed.get_json()["name"] == "Renamed"
    stopped = api.post(f"/api/v1/users/{user['id']}/deactivate")
    assert stopped.status_code == 200 and stopped.get_json()["active"] is False
    started = api.post(f"/api/v1/users/{user['id']}/activate")  # a reviewer: at once
    assert started.get_json()["active"] is True
    actions = _actions()
    assert {"user.create", "user.view", "user.list", "user.update"} <= set(actions)
    views = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["user.view", "user.list"]))
    ).all()
    assert {e.actor_id for e in views} == {admin.id}


def test_bad_user_input_is_422_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    existing = make_user()
    before = _count(User)
    for body, field in (
        ({**USER, "email": "not an address"}, "email"),
        ({**USER, "email": existing.email}, "email"),
        ({**USER, "role": "superuser"}, "role"),
        ({**USER, "organization_id": 999}, "organization_id"),
        ({**USER, "locale": "fr"}, "locale"),
        ({**USER, "name": ""}, "name"),
    ):
        error = assert_error(api.post("/api/v1/users", json=body), 422)
        assert field in error["fields"], (body, error)
    assert _count(User) == before
    assert_error(api.get("/api/v1/users/999"), 404)
    assert_error(api.post("/api/v1/users/999/activate"), 404)


def test_an_officer_invited_by_api_waits_for_a_second_administrator(
    app: Flask, client: FlaskClient
) -> None:
    first = ApiClient(client, make_user(Role.admin))
    second = ApiClient(client, make_user(Role.admin))
    invited = first.post("/api/v1/users", json={**USER, "role": "officer"}).get_json()
    assert invited["role"] == "officer" and invited["active"] is False
    pending = invited["pending_role_change"]
    assert pending["role"] == "officer" and pending["requested_by_id"] == first.user.id
    waiting = second.get("/api/v1/role-changes").get_json()
    assert [c["id"] for c in waiting["items"]] == [pending["id"]]
    assert_error(first.post(f"/api/v1/role-changes/{pending['id']}/confirm"), 403, "forbidden")
    confirmed = second.post(f"/api/v1/role-changes/{pending['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "confirmed"
    user = second.get(f"/api/v1/users/{invited['id']}").get_json()
    assert user["active"] is True and user["pending_role_change"] is None
    assert_error(second.post(f"/api/v1/role-changes/{pending['id']}/confirm"), 409, "conflict")
    decided = second.get("/api/v1/role-changes?state=confirmed").get_json()
    assert decided["total"] == 1
    assert_error(second.get("/api/v1/role-changes?state=lost"), 422)


def test_a_promotion_and_a_reactivation_by_api_wait_too(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    reviewer, dormant = make_user(Role.reviewer), make_user(Role.officer, active=False)
    body = {"email": reviewer.email, "name": reviewer.name, "role": "admin", "locale": "ja"}
    promoted = api.put(f"/api/v1/users/{reviewer.id}", json=body).get_json()
    assert promoted["role"] == "reviewer" and promoted["pending_role_change"]["role"] == "admin"
    again = api.put(f"/api/v1/users/{reviewer.id}", json={**body, "role": "officer"})
    assert "role" in assert_error(again, 422)["fields"]
    woken = api.post(f"/api/v1/users/{dormant.id}/activate").get_json()
    assert woken["active"] is False and woken["pending_role_change"]["role"] == "officer"
    refused = api.post(f"/api/v1/role-changes/{woken['pending_role_change']['id']}/refuse")
    assert refused.get_json()["state"] == "refused"
    assert _count(RoleChange) == 2


def test_the_last_administrator_is_not_deactivated(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    error = assert_error(api.post(f"/api/v1/users/{api.user.id}/deactivate"), 422)
    assert "active" in error["fields"]


def test_an_organisation_kind_vc_can_be_made(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.admin)
    created = api.post("/api/v1/organizations", json={**ORG, "kind": "vc"}).get_json()
    assert created["kind"] == "vc"
    assert db.session.get(Organization, created["id"]).kind == OrgKind.vc
