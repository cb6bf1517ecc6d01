"""/api/v1 background tasks: 202 and a task to poll, then the what-if report or the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, Role
from grants.tasks import service as background
from grants.tasks.rules import TaskKind, TaskState
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.factories import make_org, make_user
from tests.support.grants import make_grant
from tests.support.tasks import (
    draft_without_relaxation,
    make_task,
    run_queued,
    task_count,
    task_settings,
)
from tests.support.whatif import make_whatif_world


@pytest.fixture(autouse=True)
def _own_result_folder(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(app.config, "TASK_RESULT_FOLDER", str(tmp_path / "task-results"))


def _officer(client: FlaskClient) -> ApiClient:
    return ApiClient(client, make_user(Role.officer, locale=Locale.en))


def test_an_export_task_gives_the_same_file_as_the_download(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(code="EX")
    api = _officer(client)
    started = api.post("/api/v1/exports/milestones/tasks", json={"program_id": world.program.id})
    assert started.status_code == 202, started.get_data(as_text=True)
    task = started.get_json()
    assert started.headers["Location"] == f"/api/v1/tasks/{task['id']}"
    assert task["kind"] == "export_milestones" and task["links"] == {
        "self": f"/api/v1/tasks/{task['id']}",
        "result": f"/api/v1/tasks/{task['id']}/result",
        "page": f"/tasks/{task['id']}",
    }
    assert task["state"] == "queued"
    run_queued()  # a worker of any server
    polled = api.get(task["links"]["self"]).get_json()
    assert (polled["state"], polled["done"], polled["total"], polled["percent"]) == (
        "done",
        3,
        3,
        100,
    )
    assert (polled["interrupted"], polled["restarted"], polled["error"]) == (False, False, None)

    result = api.get(task["links"]["result"], buffered=True)
    streamed = api.get(
        f"/api/v1/exports/milestones.csv?program_id={world.program.id}", buffered=True
    )
    assert result.status_code == 200 and result.mimetype == "text/csv"
    assert result.data == streamed.data and b"Grant number" in result.data
    assert result.headers["Content-Disposition"] == 'attachment; filename="milestones-EX.csv"'
    assert result.headers["Cache-Control"] == "no-store"


def test_an_export_task_without_a_body_exports_everything(app: Flask, client: FlaskClient) -> None:
    make_grant(code="EX")
    started = _officer(client).post("/api/v1/exports/disbursements/tasks")
    assert started.status_code == 202 and started.get_json()["kind"] == "export_disbursements"


def test_a_what_if_task_gives_the_same_report(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    api = ApiClient(client, w.officer)
    started = api.post(f"/api/v1/rulesets/{draft_id}/what-if/tasks")
    assert started.status_code == 202
    task = started.get_json()
    assert task["kind"] == "what_if"
    run_queued()
    result = api.get(task["links"]["result"])
    assert result.status_code == 200 and result.mimetype == "application/json"
    assert result.get_json() == api.get(f"/api/v1/rulesets/{draft_id}/what-if").get_json()
    assert result.get_json()["summary"]["newly_blocked"] == 1


def test_a_task_speaks_the_language_the_request_asked_for(app: Flask, client: FlaskClient) -> None:
    world = make_grant(code="EX")
    api = _officer(client)  # an English-speaking officer asking in Japanese
    started = api.post(
        "/api/v1/exports/milestones/tasks",
        json={"program_id": world.program.id},
        headers={"Accept-Language": "ja"},
    )
    run_queued()
    result = api.get(started.get_json()["links"]["result"], buffered=True)
    assert "助成番号".encode() in result.data and b"Grant number" not in result.data


def test_a_result_answers_409_until_done(app: Flask, client: FlaskClient) -> None:
    api = _officer(client)
    for state in (TaskState.queued, TaskState.running, TaskState.failed):
        task = make_task(api.user, state=state, error="boom" if state == "failed" else None)
        error = assert_error(api.get(f"/api/v1/tasks/{task.id}/result"), 409, "conflict")
        assert error["message"] == "The task has not finished yet."
    failed = api.get(f"/api/v1/tasks/{task.id}").get_json()
    assert (failed["state"], failed["error"]) == ("failed", "boom")


def test_a_task_whose_worker_stopped_says_so_and_restarts(app: Flask, client: FlaskClient) -> None:
    api = _officer(client)
    task = make_task(api.user, done=2, total=8, age=timedelta(hours=1), attempts=1)
    polled = api.get(f"/api/v1/tasks/{task.id}").get_json()
    assert (polled["state"], polled["interrupted"], polled["percent"]) == ("running", True, 25)
    run_queued()
    again = api.get(f"/api/v1/tasks/{task.id}").get_json()
    assert (again["state"], again["interrupted"], again["restarted"]) == ("done", False, True)


def test_tasks_are_their_owners_only(app: Flask, client: FlaskClient) -> None:
    make_grant(code="EX")
    owner = make_user(Role.officer)
    task = background.start_export(
        owner, TaskKind.export_milestones, background.Filters(), "en", task_settings()
    )
    for other in (
        _officer(client),
        api_as(client, Role.admin),
        api_as(client, Role.applicant, make_org()),
    ):
        assert_error(other.get(f"/api/v1/tasks/{task.id}"), 404, "not_found")
        assert_error(other.get(f"/api/v1/tasks/{task.id}/result"), 404, "not_found")
    assert_error(_officer(client).get("/api/v1/tasks/999999"), 404)
    assert client.get(f"/api/v1/tasks/{task.id}").status_code == 401


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer])
def test_only_officers_and_admins_start_exports(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    api = api_as(client, role, make_org())
    assert_error(api.post("/api/v1/exports/milestones/tasks", json={}), 403, "forbidden")
    assert task_count() == 0


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_only_officers_start_a_what_if(app: Flask, client: FlaskClient, role: Role) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    api = api_as(client, role, make_org())
    assert_error(api.post(f"/api/v1/rulesets/{draft_id}/what-if/tasks"), 403, "forbidden")
    assert task_count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"program_id": 999_999}, "program_id"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"program_id": "abc"}, "program_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_start_nothing(
    app: Flask, client: FlaskClient, body: dict[str, object], field: str
) -> None:
    make_grant(code="EX")
    error = assert_error(_officer(client).post("/api/v1/exports/milestones/tasks", json=body), 422)
    assert field in str(error["fields"])
    assert task_count() == 0


def test_unknown_targets_start_nothing(app: Flask, client: FlaskClient) -> None:
    api = _officer(client)
    assert_error(api.post("/api/v1/rulesets/999999/what-if/tasks"), 404, "not_found")
    assert_error(api.post("/api/v1/exports/invoices/tasks"), 404)
    assert task_count() == 0


def test_the_openapi_document_describes_both_results(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    result = spec["paths"]["/api/v1/tasks/{task_id}/result"]["get"]["responses"]
    assert set(result["200"]["content"]) == {"application/json", "text/csv"}
    assert "202" in spec["paths"]["/api/v1/exports/{name}/tasks"]["post"]["responses"]
    assert (
        "202" in spec["paths"]["/api/v1/rulesets/{ruleset_id}/what-if/tasks"]["post"]["responses"]
    )
