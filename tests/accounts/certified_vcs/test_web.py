"""Admin pages for 認定VC certifications; forbidden to every other role."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.service import revoke_certification
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_org, make_user
from tests.support.programs import make_certified_vc
from tests.support.web import login, post_form


def cert_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("certified_vcs."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            methods = sorted((rule.methods or set()) & {"GET", "POST"})
            urls += [(method, path) for method in methods]
    return urls


def _admin(client: FlaskClient, locale: Locale = Locale.en) -> None:
    login(client, make_user(Role.admin, locale=locale).email)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(cert_urls(app)) == {
        ("GET", "/admin/certified-vcs"),
        ("GET", "/admin/certified-vcs/new"),
        ("POST", "/admin/certified-vcs/new"),
        ("GET", "/admin/certified-vcs/1/revoke"),
        ("POST", "/admin/certified-vcs/1/revoke"),
        ("GET", "/admin/certified-vcs/import"),
        ("POST", "/admin/certified-vcs/import"),
    }


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.officer])
def test_every_route_is_forbidden_to_other_roles(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    cert = make_certified_vc()
    assert cert.id == 1
    login(client, make_user(role).email)
    form = {
        "organization_id": str(cert.organization_id),
        "certified_on": "2030-01-01",
        "revoked_on": "2025-01-01",
    }
    for method, path in cert_urls(app):
        response = client.get(path) if method == "GET" else post_form(client, path, form)
        assert response.status_code == 403, (role, method, path)
    assert db.session.query(VcCertification).count() == 1
    assert db.session.get(VcCertification, 1).revoked_on is None


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for method, path in cert_urls(app):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nav_link_only_for_admins(client: FlaskClient) -> None:
    login(client, make_user(Role.officer).email)
    assert "/admin/certified-vcs" not in client.get("/").get_data(as_text=True)
    post_form(client, "/logout", {})
    _admin(client)
    assert "/admin/certified-vcs" in client.get("/").get_data(as_text=True)


def test_list_shows_vcs_with_status_and_history(client: FlaskClient) -> None:
    certified = make_org(OrgKind.vc, name="認定キャピタル")
    make_certified_vc(certified, certified_on=date(2020, 4, 1), note="第1回")
    revoked = make_org(OrgKind.vc, name="取消キャピタル")
    cert = make_certified_vc(revoked, certified_on=date(2020, 4, 1))
    revoke_certification(make_user(Role.admin), cert.id, date(2021, 10, 1), "取消理由")
    expired = make_org(OrgKind.vc, name="期限切れキャピタル")
    make_certified_vc(expired, certified_on=date(2018, 4, 1), expires_on=date(2021, 3, 31))
    make_org(OrgKind.vc, name="未認定キャピタル")
    make_org(OrgKind.startup, name="スタートアップ")
    _admin(client, Locale.ja)
    page = client.get("/admin/certified-vcs").get_data(as_text=True)
    assert "スタートアップ" not in page
    for name in ("認定キャピタル", "取消キャピタル", "期限切れキャピタル", "未認定キャピタル"):
        assert name in page
    for status in ("certified", "revoked", "expired", "not_certified"):
        assert f"cert-{status}" in page
    assert "2020年4月1日" in page and "2021年10月1日" in page and "2021年3月31日" in page
    assert "第1回" in page and "取消理由" in page
    assert page.count("/revoke") == 2  # only the certifications not yet revoked


def test_list_in_english_shows_english_dates_and_labels(client: FlaskClient) -> None:
    make_certified_vc(make_org(OrgKind.vc, name_en="Certified Capital"), date(2020, 4, 1))
    _admin(client)
    page = client.get("/admin/certified-vcs").get_data(as_text=True)
    assert "Certified Capital" in page and "1 Apr 2020" in page and ">Certified<" in page


def test_admin_adds_a_certification(client: FlaskClient) -> None:
    vc = make_org(OrgKind.vc, name="ベンチャーキャピタル")
    make_org(OrgKind.startup, name="スタートアップ")
    _admin(client)
    page = client.get(f"/admin/certified-vcs/new?organization_id={vc.id}").get_data(as_text=True)
    assert "ベンチャーキャピタル" in page and "スタートアップ" not in page
    assert (
        f'<option selected value="{vc.id}">' in page and "R8.4.1" in page
    )  # a date field that takes 令和 dates too
    response = post_form(
        client,
        "/admin/certified-vcs/new",
        {
            "organization_id": str(vc.id),
            "certified_on": "2024-04-01",
            "expires_on": "",
            "note": "第6回",
        },
    )
    assert response.status_code == 302
    cert = db.session.query(VcCertification).one()
    assert (cert.organization_id, cert.certified_on, cert.expires_on, cert.note) == (
        vc.id,
        date(2024, 4, 1),
        None,
        "第6回",
    )
    assert db.session.query(AuditEvent).filter_by(action="vc_certification.create").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"certified_on": ""}, "certified_on", "required"),
        ({"certified_on": "2024-02-30"}, "certified_on", "Not a valid date"),
        ({"expires_on": "next year"}, "expires_on", "Not a valid date"),
        ({"expires_on": "2024-04-01"}, "expires_on", "expire after"),
        ({"certified_on": "2019-01-01"}, "certified_on", "overlaps"),
        ({"organization_id": "abc"}, "organization_id", "could not coerce"),
        ({"organization_id": "STARTUP"}, "organization_id", "Not a valid choice"),
        ({"note": "x" * 501}, "note", "500"),
    ],
)
def test_bad_certification_input_re_renders_with_field_messages(
    client: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    vc = make_org(OrgKind.vc)
    startup = make_org(OrgKind.startup)
    make_certified_vc(vc, certified_on=date(2020, 1, 1))
    _admin(client)
    form = {"organization_id": str(vc.id), "certified_on": "2024-04-01", "note": ""}
    if changes.get("organization_id") == "STARTUP":
        changes = {"organization_id": str(startup.id)}
    response = post_form(client, "/admin/certified-vcs/new", form | changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.query(VcCertification).count() == 1


def test_admin_revokes_a_certification(client: FlaskClient) -> None:
    cert = make_certified_vc(certified_on=date(2020, 1, 1))
    _admin(client)
    page = client.get(f"/admin/certified-vcs/{cert.id}/revoke").get_data(as_text=True)
    assert 'name="revoked_on"' in page and "1 Jan 2020" in page
    response = post_form(
        client,
        f"/admin/certified-vcs/{cert.id}/revoke",
        {"revoked_on": "2025-10-01", "note": "中間評価"},
    )
    assert response.status_code == 302
    db.session.refresh(cert)
    assert cert.revoked_on == date(2025, 10, 1) and cert.note == "中間評価"
    page = client.get(f"/admin/certified-vcs/{cert.id}/revoke").get_data(as_text=True)
    assert 'name="revoked_on"' not in page and "1 Oct 2025" in page
    again = post_form(
        client, f"/admin/certified-vcs/{cert.id}/revoke", {"revoked_on": "2025-11-01"}
    )
    assert again.status_code == 409
    db.session.refresh(cert)
    assert cert.revoked_on == date(2025, 10, 1)
    assert db.session.query(AuditEvent).filter_by(action="vc_certification.revoke").count() == 1


@pytest.mark.parametrize(
    ("revoked_on", "message"),
    [("2019-12-31", "before it starts"), ("", "required"), ("yesterday", "Not a valid date")],
)
def test_bad_revocation_input_re_renders_with_field_messages(
    client: FlaskClient, revoked_on: str, message: str
) -> None:
    cert = make_certified_vc(certified_on=date(2020, 1, 1))
    _admin(client)
    response = post_form(
        client, f"/admin/certified-vcs/{cert.id}/revoke", {"revoked_on": revoked_on}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="revoked_on-error"' in page and message in page
    db.session.refresh(cert)
    assert cert.revoked_on is None


def test_unknown_certification_is_404(client: FlaskClient) -> None:
    _admin(client)
    assert client.get("/admin/certified-vcs/999/revoke").status_code == 404
    response = post_form(client, "/admin/certified-vcs/999/revoke", {"revoked_on": "2025-01-01"})
    assert response.status_code == 404
