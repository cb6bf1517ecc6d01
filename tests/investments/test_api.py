"""/api/v1 investments: recorded by one officer, verified by another; only officers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.awards.models import Investment
from grants.awards.termination import service as terminations
from grants.core.http.schemas import today
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.investments import service as investments
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import officer
from tests.support.factories import make_org
from tests.support.grants import GrantWorld, make_grant


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


def _payload(world: GrantWorld, **changes: Any) -> dict[str, Any]:
    data = {
        "vc_organization_id": world.vc.id,
        "amount": 50_000_000,
        "paid_on": (today() - timedelta(days=3)).isoformat(),
        "evidence": "振込 2026-0042",
    }
    return {**data, **changes}


def _path(world: GrantWorld) -> str:
    return f"/api/v1/grants/{world.grant.id}/investments"


def _count(action: str | None = None) -> int:
    if action is not None:
        return db.session.query(AuditEvent).filter_by(action=action).count()
    return db.session.scalar(select(func.count()).select_from(Investment)) or 0


def _recorded(world: GrantWorld) -> Investment:
    recorder = officer()
    return investments.record_investment(
        recorder, world.grant.id, world.vc.id, 30_000_000, today(), "振込 1", today()
    )


def _refusers(client: FlaskClient, world: GrantWorld) -> dict[int, list[ApiClient]]:
    return {
        403: [
            ApiClient(client, world.applicant),
            ApiClient(client, world.reviewers[0]),
            api_as(client, Role.admin),
        ],
        404: [
            api_as(client, Role.applicant, make_org(OrgKind.startup)),
            api_as(client, Role.reviewer),
        ],
    }


def test_officer_records_and_lists_investments(world: GrantWorld, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    response = api.post(_path(world), json=_payload(world))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["amount"] == 50_000_000 and body["verified"] is False
    assert body["vc_organization_id"] == world.vc.id and body["vc_name"] == world.vc.name
    assert body["recorded_by_id"] == api.user.id and body["verified_at"] is None
    listed = api.get(_path(world)).get_json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert _count("investment.record") == 1


def test_who_may_not_see_or_record_investments(world: GrantWorld, client: FlaskClient) -> None:
    _recorded(world)
    for status, apis in _refusers(client, world).items():
        for api in apis:
            assert_error(api.get(_path(world)), status)
            assert_error(api.post(_path(world), json=_payload(world)), status)
    assert _count() == 1 and _count("investment.record") == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "50000000"}, "amount"),
        ({"vc_organization_id": "x"}, "vc_organization_id"),
        ({"paid_on": "yesterday"}, "paid_on"),
        ({"paid_on": None}, "paid_on"),
        ({"evidence": ""}, "evidence"),
        ({"evidence": "x" * 501}, "evidence"),
        ({"evidence": "   "}, "evidence"),
        ({"evidence": "振込\x00"}, "evidence"),
        ({"vc_organization_id": 0}, "vc_organization_id"),
    ],
)
def test_invalid_investments_name_the_field_and_write_nothing(
    world: GrantWorld, client: FlaskClient, changes: dict[str, Any], field: str
) -> None:
    data = {k: v for k, v in _payload(world, **changes).items() if v is not None}
    error = assert_error(api_as(client, Role.officer).post(_path(world), json=data), 422)
    assert field in error["fields"], error
    assert _count() == 0 and _count("investment.record") == 0


def test_service_checks_name_the_field(world: GrantWorld, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    stranger_vc = make_org(OrgKind.vc)
    cases = {
        "vc_organization_id": _payload(world, vc_organization_id=stranger_vc.id),
        "paid_on": _payload(world, paid_on=(today() + timedelta(days=2)).isoformat()),
    }
    for field, data in cases.items():
        assert field in assert_error(api.post(_path(world), json=data), 422)["fields"]
    assert _count() == 0


def test_a_duplicate_reference_is_422_on_the_evidence(
    world: GrantWorld, client: FlaskClient
) -> None:
    api = api_as(client, Role.officer)
    assert api.post(_path(world), json=_payload(world, evidence="X-1")).status_code == 201
    error = assert_error(api.post(_path(world), json=_payload(world, evidence="X-1")), 422)
    assert list(error["fields"]) == ["evidence"]
    assert "X-1" in error["fields"]["evidence"][0]
    assert _count() == 1 and _count("investment.record") == 1


@pytest.mark.parametrize(
    ("language", "amount"), [("ja", "（{day}に5,000万円）"), ("en", "(¥50,000,000 paid in on")]
)
def test_a_duplicate_reference_is_named_in_the_callers_language(
    world: GrantWorld, client: FlaskClient, language: str, amount: str
) -> None:
    api = api_as(client, Role.officer)
    assert api.post(_path(world), json=_payload(world, evidence="X-1")).status_code == 201
    again = api.post(
        _path(world), json=_payload(world, evidence="X-1"), headers={"Accept-Language": language}
    )
    paid = today() - timedelta(days=3)  # as _payload says
    expected = amount.format(day=f"{paid.year}年{paid.month}月{paid.day}日")
    assert expected in assert_error(again, 422)["fields"]["evidence"][0]


def test_a_closed_grant_takes_no_investment(world: GrantWorld, client: FlaskClient) -> None:
    terminations.terminate(officer(), world.grant.id, "No-go.", today())
    assert_error(api_as(client, Role.officer).post(_path(world), json=_payload(world)), 409)
    assert _count() == 0


def test_another_officer_verifies(world: GrantWorld, client: FlaskClient) -> None:
    investment = _recorded(world)
    path = f"/api/v1/investments/{investment.id}/verify"
    verifier = api_as(client, Role.officer)
    response = verifier.post(path)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["verified"] is True and body["verified_by_id"] == verifier.user.id
    assert _count("investment.verify") == 1
    assert_error(verifier.post(path), 409, "conflict")


def test_the_recorder_may_not_verify(world: GrantWorld, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    recorded = api.post(_path(world), json=_payload(world)).get_json()
    assert_error(api.post(f"/api/v1/investments/{recorded['id']}/verify"), 403, "forbidden")
    assert _count("investment.verify") == 0


def test_who_may_not_verify(world: GrantWorld, client: FlaskClient) -> None:
    path = f"/api/v1/investments/{_recorded(world).id}/verify"
    for status, apis in _refusers(client, world).items():
        for api in apis:
            assert_error(api.post(path), status)
    assert_error(api_as(client, Role.officer).post("/api/v1/investments/987654/verify"), 404)
    assert _count("investment.verify") == 0
    assert db.session.scalar(select(Investment.verified_at)) is None
