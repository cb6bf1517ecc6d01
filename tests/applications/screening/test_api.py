"""/api/v1/screening and the officer's operations: screen, award, reject."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.applications.models import Application
from grants.awards.models import Grant, Milestone
from grants.core.http import schemas as common
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.applications import (
    TODAY,
    make_pools,
    ready_application,
    screened_application,
    submitted_application,
)
from tests.support.factories import make_org

OFFICER_OPERATIONS = ("screen", "award", "reject")


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "today", lambda: TODAY)


def count(model: type, **where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def audits(action: str) -> int:
    return count(AuditEvent, action=action)


def operate(api: ApiClient, application_id: int, operation: str, reason: str = "No.") -> Any:
    path = f"/api/v1/applications/{application_id}/{operation}"
    return api.post(path, json={"reason": reason} if operation == "reject" else None)


def state_of(application: Application) -> ApplicationState:
    db.session.expire_all()
    return db.session.get(Application, application.id).state


# ---- the queue -------------------------------------------------------------------------------


def test_queue_lists_waiting_applications_oldest_first(app: Flask, client: FlaskClient) -> None:
    first = submitted_application()
    second = screened_application()
    ready_application()  # a draft: not in the queue
    api = api_as(client, Role.officer)
    queue = api.get("/api/v1/screening").get_json()
    assert queue["total"] == 2
    assert [item["id"] for item in queue["items"]] == [
        first.application.id,
        second.application.id,
    ]
    assert queue["items"][1]["state"] == "screened_eligible"
    assert queue["items"][1]["organization_name"] == second.org.name
    assert queue["items"][0]["eligible"] is True
    by_program = api.get(f"/api/v1/screening?program_id={second.program.id}").get_json()
    assert [item["id"] for item in by_program["items"]] == [second.application.id]
    paged = api.get("/api/v1/screening?per_page=1&page=2").get_json()
    assert paged["total"] == 2 and [i["id"] for i in paged["items"]] == [second.application.id]
    for query in ("program_id=abc", "program_id=0", "per_page=101"):
        assert_error(api.get(f"/api/v1/screening?{query}"), 422)


def test_queue_says_which_the_officer_may_screen_now(app: Flask, client: FlaskClient) -> None:
    waiting = submitted_application()
    screened = screened_application()
    queue = api_as(client, Role.officer).get("/api/v1/screening").get_json()
    assert {item["id"]: item["may_screen"] for item in queue["items"]} == {
        waiting.application.id: True,
        screened.application.id: False,
    }


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_queue_is_for_officers(app: Flask, client: FlaskClient, role: Role) -> None:
    world = submitted_application()
    org = world.org if role == Role.applicant else None
    assert_error(api_as(client, role, org).get("/api/v1/screening"), 403, "forbidden")


# ---- who may screen, award, reject -----------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "other_applicant", Role.reviewer, Role.admin])
def test_officer_operations_are_forbidden_to_everyone_else(
    app: Flask, client: FlaskClient, who: str
) -> None:
    screened = screened_application()
    submitted = submitted_application()
    make_pools(screened.program)
    if who == "owner":
        api = ApiClient(client, screened.applicant)
    elif who == "other_applicant":
        api = api_as(client, Role.applicant, make_org())
    else:
        api = api_as(client, Role(who))
    events = count(AuditEvent)
    for world in (screened, submitted):
        for operation in OFFICER_OPERATIONS:
            response = operate(api, world.application.id, operation)
            error = assert_error(response, 403, "forbidden")
            if who == Role.admin and operation == "award":
                assert "管理者は資金を扱いません" in error["message"]
    assert count(AuditEvent) == events and count(Grant) == 0
    assert state_of(screened.application) == ApplicationState.screened_eligible
    assert state_of(submitted.application) == ApplicationState.submitted


def test_unknown_applications_are_404(app: Flask, client: FlaskClient) -> None:
    api = api_as(client, Role.officer)
    for operation in OFFICER_OPERATIONS:
        assert_error(operate(api, 999, operation), 404, "not_found")


# ---- screen ----------------------------------------------------------------------------------


def test_officer_screens_by_the_stored_trace(app: Flask, client: FlaskClient) -> None:
    eligible = submitted_application()
    ineligible = submitted_application(
        stage="phase1",
        eligible_cost=1_200_000_000,
        requested_subsidy=800_000_000,
        tranches=(200_000_000, 300_000_000, 300_000_000),
        lead=500_000_000,
    )
    api = api_as(client, Role.officer)
    response = operate(api, eligible.application.id, "screen")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "screened_eligible"
    assert response.get_json()["eligibility_trace"]["ok"] is True
    assert operate(api, ineligible.application.id, "screen").get_json()["state"] == (
        "screened_ineligible"
    )
    assert audits("application.screen") == 2
    assert_error(operate(api, eligible.application.id, "screen"), 409, "conflict")
    assert audits("application.screen") == 2


def test_a_draft_cannot_be_screened(app: Flask, client: FlaskClient) -> None:
    world = ready_application()
    assert_error(operate(api_as(client, Role.officer), world.application.id, "screen"), 409)
    assert state_of(world.application) == ApplicationState.draft


# ---- award -----------------------------------------------------------------------------------


def test_officer_awards_and_gets_the_grant(app: Flask, client: FlaskClient) -> None:
    world = screened_application()
    make_pools(world.program)
    api = api_as(client, Role.officer)
    response = operate(api, world.application.id, "award")
    assert response.status_code == 201, response.get_json()
    grant = response.get_json()
    # floor(3,000,000,001 x 2/3): the request of 2.4 billion is capped and rounded down.
    assert grant["award_amount"] == 2_000_000_000
    assert grant["number"] == f"{world.program.code}-0001" and grant["state"] == "active"
    assert grant["ruleset_version"] == 1 and grant["ruleset_id"] == world.ruleset.id
    assert grant["application_id"] == world.application.id
    assert [
        (m["sequence"], m["tranche_amount"], m["fiscal_year"]) for m in grant["milestones"]
    ] == [
        (1, 600_000_000, 2026),
        (2, 800_000_000, 2027),
        (3, 600_000_000, 2028),  # cut from the last milestone backwards
    ]
    first = grant["milestones"][0]
    assert first["state"] == "planned" and first["due_date"] == "2026-12-31"
    assert first["criteria"] == [{"metric": "IC50", "target": "<= 10", "unit": "nM"}]
    assert grant["award_trace"]["phase"]
    stored = db.session.get(Grant, grant["id"])
    assert stored.award_amount == 2_000_000_000 and len(stored.milestones) == 3
    assert state_of(world.application) == ApplicationState.awarded
    assert audits("grant.award") == 1 and audits("application.award") == 1
    assert_error(operate(api, world.application.id, "award"), 409, "conflict")
    assert count(Grant) == 1 and audits("grant.award") == 1


def test_award_before_screening_is_409(app: Flask, client: FlaskClient) -> None:
    world = submitted_application()
    make_pools(world.program)
    assert_error(operate(api_as(client, Role.officer), world.application.id, "award"), 409)
    assert count(Grant) == 0 and state_of(world.application) == ApplicationState.submitted


def test_award_refused_for_lack_of_budget_writes_nothing(app: Flask, client: FlaskClient) -> None:
    world = screened_application()
    make_pools(world.program, (2026, 2027))
    response = operate(api_as(client, Role.officer), world.application.id, "award")
    error = assert_error(response, 422)
    assert list(error["fields"]) == ["budget"]
    assert count(Grant) == 0 and count(Milestone) == 0 and audits("grant.award") == 0
    assert set(db.session.scalars(select(BudgetPool.committed))) == {0}
    assert state_of(world.application) == ApplicationState.screened_eligible


# ---- reject ----------------------------------------------------------------------------------


def test_officer_rejects_with_a_reason(app: Flask, client: FlaskClient) -> None:
    world = screened_application()
    api = api_as(client, Role.officer)
    response = operate(api, world.application.id, "reject", "  Outside the priorities.  ")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "rejected"
    assert response.get_json()["decision_reason"] == "Outside the priorities."
    assert audits("application.reject") == 1
    assert_error(operate(api, world.application.id, "reject", "Again"), 409, "conflict")
    owner = ApiClient(client, world.applicant)
    seen = owner.get(f"/api/v1/applications/{world.application.id}").get_json()
    assert seen["decision_reason"] == "Outside the priorities." and seen["state"] == "rejected"


@pytest.mark.parametrize(
    "sent", [{"reason": "   "}, {"reason": "x" * 2001}, {"reason": "a\x00b"}, {"reason": 5}, {}]
)
def test_rejection_needs_a_reason_and_writes_nothing(
    app: Flask, client: FlaskClient, sent: dict[str, Any]
) -> None:
    world = screened_application()
    api = api_as(client, Role.officer)
    response = api.post(f"/api/v1/applications/{world.application.id}/reject", json=sent)
    assert list(assert_error(response, 422)["fields"]) == ["reason"]
    assert audits("application.reject") == 0
    assert state_of(world.application) == ApplicationState.screened_eligible
