"""/api/v1/certified-vcs: the VCs with their certifications, certifying and revoking from a
date; administrators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.certified_vcs.models import VcCertification
from grants.core.calendar import tokyo_today
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user

CERTIFY = "/api/v1/certified-vcs/certifications"


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(VcCertification)) or 0


def test_a_vc_is_certified_listed_and_revoked_from_a_date(app: Flask, client: FlaskClient) -> None:
    vc = make_org(OrgKind.vc, name="ひかりキャピタル")
    make_org(OrgKind.startup)
    api = api_as(client, Role.admin)
    today = tokyo_today(datetime.now(UTC))
    body = {"organization_id": vc.id, "certified_on": (today - timedelta(days=30)).isoformat()}
    created = api.post(CERTIFY, json={**body, "note": "第6回"})
    assert created.status_code == 201, created.get_json()
    certification = created.get_json()
    assert certification["expires_on"] is None and certification["note"] == "第6回"
    listed = api.get(CERTIFY).get_json()
    assert [c["id"] for c in listed["items"]] == [certification["id"]] and listed["total"] == 1
    assert api.get(f"{CERTIFY}?organization_id={vc.id + 1}").get_json()["total"] == 0
    registry = api.get("/api/v1/certified-vcs").get_json()  # every user's view
    assert [row["status"] for row in registry["items"]] == ["certified"]
    revoke_on = (today - timedelta(days=1)).isoformat()
    revoked = api.post(
        f"{CERTIFY}/{certification['id']}/revoke", json={"revoked_on": revoke_on, "note": "取消"}
    )
    assert revoked.status_code == 200 and revoked.get_json()["revoked_on"] == revoke_on
    assert api.get("/api/v1/certified-vcs").get_json()["items"][0]["status"] == "revoked"
    assert api.get(CERTIFY).get_json()["items"][0]["revoked_on"] == revoke_on
    assert_error(
        api.post(f"{CERTIFY}/{certification['id']}/revoke", json={"revoked_on": revoke_on}), 409
    )
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"vc_certification.create", "vc_certification.revoke"} <= actions


def test_unknown_vcs_and_overlaps_are_422_and_write_nothing(
    app: Flask, client: FlaskClient
) -> None:
    vc, startup = make_org(OrgKind.vc), make_org(OrgKind.startup)
    api = ApiClient(client, make_user(Role.admin, locale=Locale.en))
    assert (
        api.post(CERTIFY, json={"organization_id": vc.id, "certified_on": "2026-04-01"}).status_code
        == 201
    )
    for body, field, words in (
        ({"organization_id": 99999, "certified_on": "2026-04-01"}, "organization_id", "venture"),
        (
            {"organization_id": startup.id, "certified_on": "2026-04-01"},
            "organization_id",
            "venture",
        ),
        ({"organization_id": vc.id, "certified_on": "2027-01-01"}, "certified_on", "overlaps"),
        (
            {"organization_id": vc.id, "certified_on": "2020-01-01", "expires_on": "2019-01-01"},
            "expires_on",
            "expire after",
        ),
        ({"organization_id": vc.id, "certified_on": "someday"}, "certified_on", None),
        ({"organization_id": "1", "certified_on": "2026-04-01"}, "organization_id", None),
    ):
        error = assert_error(api.post(CERTIFY, json=body), 422)
        assert field in error["fields"], (body, error)
        if words:
            assert words in error["fields"][field][0], error
    assert _count() == 1
    assert_error(api.post(f"{CERTIFY}/999/revoke", json={"revoked_on": "2026-04-01"}), 404)
    first = db.session.scalars(select(VcCertification.id)).one()
    early = assert_error(
        api.post(f"{CERTIFY}/{first}/revoke", json={"revoked_on": "2026-03-01"}), 422
    )
    assert "revoked_on" in early["fields"]
