"""/api/v1 amendments: the grantee requests, an officer decides, the requester may withdraw."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.awards.models import Amendment, Milestone
from grants.core.calendar import fiscal_year
from grants.core.http.schemas import today
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import AmendmentState
from grants.extensions import db
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant


def _first_due() -> date:
    """Well after today, with ten more days still in the same fiscal year (same pool)."""
    due = today() + timedelta(days=60)
    while fiscal_year(due + timedelta(days=10)) != fiscal_year(due):
        due += timedelta(days=15)
    return due


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant(first_due=_first_due())


def _path(world: GrantWorld) -> str:
    return f"/api/v1/grants/{world.grant.id}/amendments"


def _move(world: GrantWorld, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": "due_date",
        "milestone_id": world.milestones[0].id,
        "new_due_date": (world.milestones[0].due_date + timedelta(days=10)).isoformat(),
        "reason": "治験施設の準備に時間がかかるため",
    }
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def _resplit(world: GrantWorld, first: int, second: int, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": "resplit",
        "new_split": [
            {"milestone_id": world.milestones[0].id, "amount": first},
            {"milestone_id": world.milestones[1].id, "amount": second},
        ],
        "reason": "Spending moves to the second stage.",
    }
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Amendment)) or 0


def _audits(action: str) -> int:
    return db.session.query(AuditEvent).filter_by(action=action).count()


def _requested(client: FlaskClient, world: GrantWorld) -> dict[str, Any]:
    response = ApiClient(client, world.applicant).post(_path(world), json=_move(world))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _refusers(client: FlaskClient, world: GrantWorld) -> dict[int, list[ApiClient]]:
    """Who may see the grant but not act (403), and who may not see it (404)."""
    return {
        403: [api_as(client, Role.admin)],
        404: [
            api_as(client, Role.applicant, make_org(OrgKind.startup)),
            api_as(client, Role.reviewer),
        ],
    }


# --- requests ----------------------------------------------------------------------------


def test_grantee_requests_a_new_due_date(world: GrantWorld, client: FlaskClient) -> None:
    body = _requested(client, world)
    assert body["kind"] == "due_date" and body["state"] == "requested"
    assert body["milestone_id"] == world.milestones[0].id and body["new_split"] is None
    assert body["requested_by_id"] == world.applicant.id
    assert _audits("amendment.request") == 1


def test_grantee_requests_a_resplit(world: GrantWorld, client: FlaskClient) -> None:
    data = _resplit(world, 50_000_000, 250_000_000)
    response = ApiClient(client, world.applicant).post(_path(world), json=data)
    assert response.status_code == 201, response.get_json()
    split = {item["milestone_id"]: item["amount"] for item in response.get_json()["new_split"]}
    assert split == {world.milestones[0].id: 50_000_000, world.milestones[1].id: 250_000_000}


def test_who_sees_the_amendments(world: GrantWorld, client: FlaskClient) -> None:
    created = _requested(client, world)
    for api in (
        ApiClient(client, world.applicant),
        ApiClient(client, world.reviewers[0]),
        api_as(client, Role.officer),
    ):
        assert [a["id"] for a in api.get(_path(world)).get_json()] == [created["id"]]
    for status, apis in _refusers(client, world).items():
        for api in apis:
            assert_error(api.get(_path(world)), status)


def test_who_may_not_request(world: GrantWorld, client: FlaskClient) -> None:
    refusers = _refusers(client, world)
    refusers[403] += [ApiClient(client, world.reviewers[0]), api_as(client, Role.officer)]
    for status, apis in refusers.items():
        for api in apis:
            assert_error(api.post(_path(world), json=_move(world)), status)
    assert _count() == 0 and _audits("amendment.request") == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": None}, "kind"),
        ({"kind": "extend"}, "kind"),
        ({"reason": None}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "why\x00"}, "reason"),
        ({"new_due_date": None}, "new_due_date"),
        ({"new_due_date": "next month"}, "new_due_date"),
        ({"new_due_date": "2020-01-01"}, "new_due_date"),
        ({"new_due_date": "2040-01-01"}, "new_due_date"),
        ({"milestone_id": 987654}, "milestone_id"),
        ({"milestone_id": "first"}, "milestone_id"),
    ],
)
def test_invalid_due_date_requests_name_the_field(
    world: GrantWorld, client: FlaskClient, changes: dict[str, Any], field: str
) -> None:
    data = _move(world, **changes)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
    error = assert_error(ApiClient(client, world.applicant).post(_path(world), json=data), 422)
    assert field in error["fields"], error
    assert _count() == 0


@pytest.mark.parametrize(
    ("first", "second", "changes", "field"),
    [
        (50_000_000, 200_000_000, {}, "new_split"),  # does not add up
        (100_000_000, 200_000_000, {}, "new_split"),  # the same as now
        (-1, 300_000_000, {}, "new_split.0.amount"),
        (1.5, 300_000_000, {}, "new_split.0.amount"),
        (0, 0, {"new_split": []}, "new_split"),
        (0, 0, {"new_split": "50/250"}, "new_split"),
    ],
)
def test_invalid_resplits_name_the_field(
    world: GrantWorld,
    client: FlaskClient,
    first: Any,
    second: Any,
    changes: dict[str, Any],
    field: str,
) -> None:
    data = _resplit(world, first, second, **changes)
    error = assert_error(ApiClient(client, world.applicant).post(_path(world), json=data), 422)
    assert field in error["fields"], error
    assert _count() == 0


def test_a_milestone_given_twice_is_422(world: GrantWorld, client: FlaskClient) -> None:
    twice = [{"milestone_id": world.milestones[0].id, "amount": 1}] * 2
    data = _resplit(world, 0, 0, new_split=twice)
    error = assert_error(ApiClient(client, world.applicant).post(_path(world), json=data), 422)
    assert "new_split" in error["fields"] and _count() == 0


def test_a_second_pending_request_for_a_milestone_is_422(
    world: GrantWorld, client: FlaskClient
) -> None:
    first = _requested(client, world)  # milestone 1's due date
    world.applicant.locale = Locale.en
    db.session.commit()
    api = ApiClient(client, world.applicant)
    later = (world.milestones[0].due_date + timedelta(days=20)).isoformat()
    error = assert_error(api.post(_path(world), json=_move(world, new_due_date=later)), 422)
    assert error["code"] == "unprocessable"
    assert list(error["fields"]) == ["milestone_id"]
    assert "already has an amendment request waiting" in error["fields"]["milestone_id"][0]
    # a re-split touching milestone 1 too: named by its amount's key, as bad amounts are
    data = _resplit(world, 50_000_000, 250_000_000)
    error = assert_error(api.post(_path(world), json=data), 422)
    assert list(error["fields"]) == [f"new_split_{world.milestones[0].id}"]
    assert _count() == 1
    assert api.post(f"/api/v1/amendments/{first['id']}/withdraw").status_code == 200
    assert api.post(_path(world), json=data).status_code == 201


def test_the_refusal_is_in_the_language_asked_for(world: GrantWorld, client: FlaskClient) -> None:
    _requested(client, world)
    api = ApiClient(client, world.applicant)
    response = api.post(_path(world), json=_move(world), headers={"Accept-Language": "ja"})
    message = assert_error(response, 422)["fields"]["milestone_id"][0]
    assert message.startswith("マイルストーン 1 には、決定待ちの変更申請があります（")
    assert "年" in message and "月" in message and "日申請）" in message


# --- decisions ---------------------------------------------------------------------------


def _decide_path(amendment: dict[str, Any]) -> str:
    return f"/api/v1/amendments/{amendment['id']}/decide"


def test_officer_approves_and_the_milestone_moves(world: GrantWorld, client: FlaskClient) -> None:
    amendment = _requested(client, world)
    api = api_as(client, Role.officer)
    response = api.post(_decide_path(amendment), json={"approve": True})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "approved"
    db.session.expire_all()
    moved = db.session.get(Milestone, world.milestones[0].id)
    assert moved is not None
    assert moved.due_date.isoformat() == amendment["new_due_date"]
    assert _audits("amendment.approve") == 1
    again = api.post(_decide_path(amendment), json={"approve": False, "note": "no"})
    assert_error(again, 409, "conflict")


def test_officer_declines_with_a_note(world: GrantWorld, client: FlaskClient) -> None:
    amendment = _requested(client, world)
    api = api_as(client, Role.officer)
    error = assert_error(api.post(_decide_path(amendment), json={"approve": False}), 422)
    assert "note" in error["fields"]
    assert db.session.get(Amendment, amendment["id"]).state == AmendmentState.requested  # type: ignore[union-attr]
    body = api.post(_decide_path(amendment), json={"approve": False, "note": "Too late."})
    assert body.get_json()["state"] == "declined"
    assert body.get_json()["decision_note"] == "Too late."


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "approve"), ({"approve": "perhaps"}, "approve"), ({"approve": True, "note": 3}, "note")],
)
def test_invalid_decisions_name_the_field(
    world: GrantWorld, client: FlaskClient, data: dict[str, Any], field: str
) -> None:
    amendment = _requested(client, world)
    error = assert_error(api_as(client, Role.officer).post(_decide_path(amendment), json=data), 422)
    assert field in error["fields"]
    assert _audits("amendment.approve") == _audits("amendment.decline") == 0


def test_who_may_not_decide(world: GrantWorld, client: FlaskClient) -> None:
    amendment = _requested(client, world)
    refusers = _refusers(client, world)
    refusers[403] += [ApiClient(client, world.applicant), ApiClient(client, world.reviewers[0])]
    for status, apis in refusers.items():
        for api in apis:
            assert_error(api.post(_decide_path(amendment), json={"approve": True}), status)
    unknown = api_as(client, Role.officer).post(
        "/api/v1/amendments/99999/decide", json={"approve": 1}
    )
    assert_error(unknown, 404, "not_found")
    db.session.expire_all()
    assert db.session.get(Amendment, amendment["id"]).state == AmendmentState.requested  # type: ignore[union-attr]


# --- withdrawal --------------------------------------------------------------------------


def test_the_requester_withdraws(world: GrantWorld, client: FlaskClient) -> None:
    amendment = _requested(client, world)
    api = ApiClient(client, world.applicant)
    path = f"/api/v1/amendments/{amendment['id']}/withdraw"
    response = api.post(path)
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    assert _audits("amendment.withdraw") == 1
    assert_error(api.post(path), 409, "conflict")


def test_who_may_not_withdraw(world: GrantWorld, client: FlaskClient) -> None:
    amendment = _requested(client, world)
    path = f"/api/v1/amendments/{amendment['id']}/withdraw"
    colleague = make_user(Role.applicant, world.grantee)
    refusers = _refusers(client, world)
    refusers[403] += [
        ApiClient(client, colleague),
        ApiClient(client, world.reviewers[0]),
        api_as(client, Role.officer),
    ]
    for status, apis in refusers.items():
        for api in apis:
            assert_error(api.post(path), status)
    assert _audits("amendment.withdraw") == 0
