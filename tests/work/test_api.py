"""GET /api/v1/me/work: what the My work page shows, per role."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from grants.work import queries as work
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.work import Office


def _work(client: FlaskClient, office: Office, user: Any) -> dict[str, Any]:
    response = ApiClient(client, user).get("/api/v1/me/work")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_officer_gets_each_task_with_its_count_and_items(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    body = _work(client, office, office.officer)
    assert body["total"] == 6
    sections = {s["task"]: s for s in body["sections"]}
    assert list(sections) == [str(task) for task in work.TASKS[Role.officer]]
    assert {task: s["count"] for task, s in sections.items()} == dict.fromkeys(sections, 1)
    (release,) = sections["releases"]["items"]
    milestone = office.world.milestones[0]
    assert release["url"] == f"/officer/milestones/{milestone.id}/release"
    assert release["grant_number"] == office.world.grant.number
    assert release["amount"] == milestone.tranche_amount
    assert sections["releases"]["list_url"] == "/officer/milestones/awaiting-release"
    (short,) = sections["reviewers"]["items"]
    assert short["reviewers_missing"] == 1
    assert short["url"] == f"/officer/grants/{office.short.grant.id}/reviewers"
    (amendment,) = sections["amendments"]["items"]
    assert amendment["amendment_kind"] == "due_date" and amendment["waiting_since"]
    (investment,) = sections["investments"]["items"]
    assert investment["amount"] == 10_000_000 and sections["investments"]["list_url"] is None
    (overdue,) = sections["overdue"]["items"]
    assert overdue["waiting_since"] == office.short.milestones[0].overdue_since.isoformat()


def test_a_reviewer_gets_the_evidence_waiting_with_its_age(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    body = _work(client, office, office.world.reviewers[1])
    assert body["total"] == 1
    ((task, items),) = [(s["task"], s["items"]) for s in body["sections"]]
    assert task == "reviews"
    assert items[0]["url"] == f"/milestones/{office.world.milestones[1].id}/review"
    assert items[0]["waiting_since"]  # the round's submission time


def test_an_applicant_gets_the_evidence_due_and_the_changes_asked(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    body = _work(client, office, office.world.applicant)
    counts = {s["task"]: s["count"] for s in body["sections"]}
    assert counts == {"evidence": 1, "changes": 1, "messages": 0} and body["total"] == 2
    changes = next(s for s in body["sections"] if s["task"] == "changes")
    assert changes["items"][0]["url"] == f"/milestones/{office.sent_back.milestones[0].id}/evidence"


def test_an_administrator_has_nothing_and_a_stranger_is_refused(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    admin = api_as(client, Role.admin).get("/api/v1/me/work")
    assert admin.get_json() == {"total": 0, "sections": []}
    assert_error(client.get("/api/v1/me/work"), 401)


def test_the_openapi_document_describes_it(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/me/work"]["get"]
    assert "200" in operation["responses"]
