"""/api/v1/grants: who sees which grants, filters, details with money, termination, budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.models import ConflictDeclaration
from grants.awards.models import Grant, Milestone
from grants.awards.termination import service as terminations
from grants.core.calendar import fiscal_year
from grants.core.http.schemas import today
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import approve, officer, sibling_grant
from tests.support.factories import make_org
from tests.support.grants import GrantWorld, make_grant


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    """The first milestone is a month overdue (flagged, as the scan does); the others later."""
    world = make_grant(first_due=today() - timedelta(days=30))
    world.milestones[0].overdue_since = today() - timedelta(days=29)
    db.session.commit()
    return world


def _ids(body: dict[str, Any]) -> set[int]:
    return {item["id"] for item in body["items"]}


def _grant(grant_id: int) -> Grant:
    db.session.expire_all()
    grant = db.session.get(Grant, grant_id)
    assert grant is not None
    return grant


# --- the list ----------------------------------------------------------------------------


def test_each_role_lists_the_grants_it_may_see(world: GrantWorld, client: FlaskClient) -> None:
    sibling = sibling_grant(world, "MS-TEST-0002")
    other = make_grant(code="OTHER", first_due=today() + timedelta(days=90))
    mine = {world.grant.id, sibling.grant.id}
    everything = mine | {other.grant.id}
    assert _ids(ApiClient(client, world.applicant).get("/api/v1/grants").get_json()) == mine
    assert _ids(ApiClient(client, world.reviewers[0]).get("/api/v1/grants").get_json()) == mine
    assert _ids(ApiClient(client, other.reviewers[0]).get("/api/v1/grants").get_json()) == {
        other.grant.id
    }
    assert _ids(api_as(client, Role.officer).get("/api/v1/grants").get_json()) == everything
    assert _ids(api_as(client, Role.admin).get("/api/v1/grants").get_json()) == everything
    stranger = api_as(client, Role.applicant, make_org(OrgKind.startup))
    assert stranger.get("/api/v1/grants").get_json()["total"] == 0
    assert api_as(client, Role.reviewer).get("/api/v1/grants").get_json()["total"] == 0
    assert api_as(client, Role.applicant).get("/api/v1/grants").get_json()["total"] == 0


def test_list_items_carry_money_and_the_next_milestone(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, today())
    body = api_as(client, Role.officer).get("/api/v1/grants").get_json()
    (item,) = body["items"]
    assert item["number"] == "MS-TEST-0001" and item["state"] == "active"
    assert item["award_amount"] == 600_000_000 and item["released"] == 100_000_000
    assert item["remaining"] == 500_000_000
    assert item["next_milestone"]["id"] == world.milestones[1].id
    assert item["overdue"] is False and item["program_code"] == "MS-TEST"


def test_filters_status_program_overdue_and_fiscal_year(
    world: GrantWorld, client: FlaskClient
) -> None:
    later = make_grant(code="LATER", first_due=today() + timedelta(days=400))
    closed = sibling_grant(world, "MS-TEST-0003")
    terminations.terminate(officer(), closed.grant.id, "No-go.", today())
    api = api_as(client, Role.officer)

    def ids(query: str) -> set[int]:
        response = api.get(f"/api/v1/grants?{query}")
        assert response.status_code == 200, response.get_json()
        return _ids(response.get_json())

    assert ids("status=terminated") == {closed.grant.id}
    assert ids("status=active") == {world.grant.id, later.grant.id}
    assert ids(f"program={later.program.id}") == {later.grant.id}
    assert ids("overdue=true") == {world.grant.id}
    assert ids("overdue=false") == {later.grant.id, closed.grant.id}
    later_year = later.milestones[0].fiscal_year
    assert ids(f"fiscal_year={later_year}") >= {later.grant.id}
    assert world.grant.id not in ids(f"fiscal_year={world.milestones[-1].fiscal_year + 3}")
    assert ids(f"overdue=true&program={later.program.id}") == set()
    # Evidence submitted for the first milestone clears its flag: not overdue.
    world.milestones[0].state = MilestoneState.submitted
    world.milestones[0].overdue_since = None
    db.session.commit()
    assert ids("overdue=true") == set()


def test_list_is_paginated(world: GrantWorld, client: FlaskClient) -> None:
    for n in range(2, 5):
        sibling_grant(world, f"MS-TEST-000{n}")
    body = api_as(client, Role.officer).get("/api/v1/grants?per_page=3&page=2").get_json()
    assert body["total"] == 4 and body["page"] == 2 and len(body["items"]) == 1
    assert body["items"][0]["number"] == "MS-TEST-0004"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("overdue=maybe", "overdue"),
        ("fiscal_year=abc", "fiscal_year"),
        ("fiscal_year=99999", "fiscal_year"),
        ("program=0", "program"),
        ("per_page=0", "per_page"),
    ],
)
def test_bad_filters_are_422(
    world: GrantWorld, client: FlaskClient, query: str, field: str
) -> None:
    error = assert_error(api_as(client, Role.officer).get(f"/api/v1/grants?{query}"), 422)
    assert field in error["fields"]


# --- one grant ---------------------------------------------------------------------------


def test_grant_details_with_milestones_money_and_rule_set(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    world.milestones[0].overdue_since = None  # evidence came: no longer overdue
    releases.release(officer(), world.milestones[0].id, today())
    body = ApiClient(client, world.applicant).get(f"/api/v1/grants/{world.grant.id}").get_json()
    assert body["released"] == 100_000_000 and body["remaining"] == 500_000_000
    assert body["ruleset"]["version"] == 1 and body["ruleset"]["id"] == world.ruleset.id
    assert body["program"]["code"] == "MS-TEST" and body["title"] == "抗菌薬候補の開発"
    assert body["co_investors"] == [
        {
            "organization_id": world.vc.id,
            "name": world.vc.name,
            "committed_amount": 600_000_000,
            "is_lead": True,
        }
    ]
    first, second, _third = body["milestones"]
    assert first["state"] == "approved" and first["disbursement"]["amount"] == 100_000_000
    assert first["overdue"] is False and first["overdue_since"] is None
    assert second["tranche_amount"] == 200_000_000 and second["state"] == "planned"
    assert second["fiscal_year"] == fiscal_year(world.milestones[1].due_date)
    assert second["due_date"] == world.milestones[1].due_date.isoformat()
    assert second["disbursement"] is None and second["criteria"][0]["metric"] == "IC50"


def test_an_overdue_milestone_is_flagged(world: GrantWorld, client: FlaskClient) -> None:
    body = api_as(client, Role.officer).get(f"/api/v1/grants/{world.grant.id}").get_json()
    assert [m["overdue"] for m in body["milestones"]] == [True, False, False]
    assert body["milestones"][0]["overdue_since"] == (today() - timedelta(days=29)).isoformat()
    assert body["overdue"] is True and body["next_milestone"]["sequence"] == 1


def test_who_may_open_a_grant(world: GrantWorld, client: FlaskClient) -> None:
    for path in (f"/api/v1/grants/{world.grant.id}", f"/api/v1/grants/{world.grant.id}/milestones"):
        assert ApiClient(client, world.applicant).get(path).status_code == 200
        assert ApiClient(client, world.reviewers[0]).get(path).status_code == 200
        assert api_as(client, Role.officer).get(path).status_code == 200
        stranger = api_as(client, Role.applicant, make_org(OrgKind.startup))
        assert_error(stranger.get(path), 404, "not_found")
        assert_error(api_as(client, Role.reviewer).get(path), 404, "not_found")
        assert_error(api_as(client, Role.admin).get(path), 403, "forbidden")
    assert_error(api_as(client, Role.officer).get("/api/v1/grants/999999"), 404, "not_found")
    assert_error(api_as(client, Role.officer).get("/api/v1/grants/99999999999999999999"), 404)


def test_a_conflicted_assigned_reviewer_still_sees_the_grant(
    world: GrantWorld, client: FlaskClient
) -> None:
    reviewer = world.reviewers[0]
    db.session.add(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="x"))
    db.session.commit()
    response = ApiClient(client, reviewer).get(f"/api/v1/grants/{world.grant.id}")
    assert response.status_code == 200


def test_milestones_of_a_grant(world: GrantWorld, client: FlaskClient) -> None:
    body = (
        ApiClient(client, world.applicant)
        .get(f"/api/v1/grants/{world.grant.id}/milestones")
        .get_json()
    )
    assert [m["sequence"] for m in body] == [1, 2, 3]
    assert [m["id"] for m in body] == [m.id for m in world.milestones]


# --- termination -------------------------------------------------------------------------


def _committed(world: GrantWorld) -> int:
    db.session.expire_all()
    query = select(func.sum(BudgetPool.committed)).where(BudgetPool.program_id == world.program.id)
    return int(db.session.scalar(query) or 0)


def test_officer_terminates_a_grant(world: GrantWorld, client: FlaskClient) -> None:
    path = f"/api/v1/grants/{world.grant.id}/terminate"
    response = api_as(client, Role.officer).post(path, json={"reason": "No-go at milestone 1."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "terminated" and body["termination_reason"] == "No-go at milestone 1."
    assert {m["state"] for m in body["milestones"]} == {"cancelled"}
    assert _committed(world) == 0
    assert db.session.query(AuditEvent).filter_by(action="grant.terminate").count() == 1
    again = api_as(client, Role.officer).post(path, json={"reason": "again"})
    assert_error(again, 409, "conflict")


def test_who_may_not_terminate(world: GrantWorld, client: FlaskClient) -> None:
    path = f"/api/v1/grants/{world.grant.id}/terminate"
    data = {"reason": "No-go."}
    assert_error(ApiClient(client, world.applicant).post(path, json=data), 403, "forbidden")
    assert_error(ApiClient(client, world.reviewers[0]).post(path, json=data), 403, "forbidden")
    assert_error(api_as(client, Role.admin).post(path, json=data), 403, "forbidden")
    stranger = api_as(client, Role.applicant, make_org(OrgKind.startup))
    assert_error(stranger.post(path, json=data), 404, "not_found")
    assert_error(api_as(client, Role.reviewer).post(path, json=data), 404, "not_found")
    assert _grant(world.grant.id).state == GrantState.active
    assert _committed(world) == 600_000_000


@pytest.mark.parametrize(
    "data", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {"reason": "x\x00"}]
)
def test_termination_needs_a_reason(
    world: GrantWorld, client: FlaskClient, data: dict[str, Any]
) -> None:
    path = f"/api/v1/grants/{world.grant.id}/terminate"
    error = assert_error(api_as(client, Role.officer).post(path, json=data), 422)
    assert "reason" in error["fields"]
    assert _grant(world.grant.id).state == GrantState.active
    assert db.session.query(AuditEvent).filter_by(action="grant.terminate").count() == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(Milestone).where(Milestone.state == "cancelled")
        )
        == 0
    )


# --- budget pools ------------------------------------------------------------------------


def test_budget_by_programme_and_fiscal_year(world: GrantWorld, client: FlaskClient) -> None:
    other = make_grant(code="OTHER")
    for role in (Role.officer, Role.admin):
        rows = api_as(client, role).get("/api/v1/budget-pools").get_json()
        assert {row["program_code"] for row in rows} == {"MS-TEST", "OTHER"}
    api = api_as(client, Role.officer)
    rows = api.get(f"/api/v1/budget-pools?program={other.program.id}").get_json()
    assert {row["program_id"] for row in rows} == {other.program.id}
    year = world.milestones[0].fiscal_year
    rows = api.get(f"/api/v1/budget-pools?fiscal_year={year}&program={world.program.id}")
    (row,) = rows.get_json()
    assert row["fiscal_year"] == year and row["appropriation"] == 10_000_000_000
    committed = sum(m.tranche_amount for m in world.milestones if m.fiscal_year == year)
    assert row["committed"] == committed and row["released"] == 0
    assert row["available"] == 10_000_000_000 - committed


def test_budget_is_for_officers_and_admins(world: GrantWorld, client: FlaskClient) -> None:
    assert_error(ApiClient(client, world.applicant).get("/api/v1/budget-pools"), 403)
    assert_error(ApiClient(client, world.reviewers[0]).get("/api/v1/budget-pools"), 403)
    error = assert_error(
        api_as(client, Role.officer).get("/api/v1/budget-pools?fiscal_year=x"), 422
    )
    assert "fiscal_year" in error["fields"]
