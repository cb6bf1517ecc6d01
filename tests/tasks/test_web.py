"""Background task pages: starting from the what-if and exports pages, progress, results."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import User
from grants.core.identity import Locale, Role
from grants.rulesets import service as rulesets
from grants.tasks import service as background
from grants.tasks.rules import TaskKind, TaskState
from tests.support.factories import make_org, make_user
from tests.support.grants import make_grant
from tests.support.matrix import REVIEWERS, WHO, anonymous_goes_to_login, routes, switch, user_for
from tests.support.tasks import (
    draft_without_relaxation,
    make_task,
    reload,
    run_queued,
    task_count,
    task_settings,
)
from tests.support.web import login, login_english, post_form
from tests.support.whatif import make_whatif_world

TASK_ID = re.compile(r"/tasks/(\d+)$")


@pytest.fixture(autouse=True)
def _own_result_folder(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(app.config, "TASK_RESULT_FOLDER", str(tmp_path / "task-results"))


def _task_id(response: TestResponse) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = TASK_ID.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _report(html: str) -> str:
    """The what-if report's markup, links aside (they point at their own page)."""
    report = html[html.index("<h2>Summary</h2>") : html.index("</main>")]
    return re.sub(r'href="[^"]*"', "", report).strip()


def _status(client: FlaskClient, method: str, path: str) -> int:
    """The status code, the body read and closed (a download holds a file open)."""
    if method == "GET":
        return client.get(path, buffered=True).status_code
    return post_form(client, path, {}).status_code


def _export_task(owner: User) -> int:
    make_grant(code="EX")
    task_id = background.start_export(
        owner, TaskKind.export_milestones, background.Filters(), "en", task_settings()
    ).id
    run_queued()
    return task_id


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "/tasks") == [
        ("GET", "/tasks"),
        ("GET", "/tasks/1"),
        ("GET", "/tasks/1/download"),
        ("GET", "/tasks/1/status.json"),
        ("POST", "/tasks/1/rerun"),
    ]
    assert ("POST", "/officer/rulesets/1/what-if/tasks") in routes(app, "/officer/rulesets/")


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Only the owner reads a task; other officers and admins are told it does not exist."""
    owner = make_user(Role.officer)
    task_id = _export_task(owner)
    world = make_grant(code="MX")
    paths = routes(app, "/tasks", ids=task_id)
    anonymous_goes_to_login(client, paths)
    forbidden = {"applicant_other_org": 403, "grantee": 403} | dict.fromkeys(REVIEWERS, 403)
    for who in WHO:
        switch(client, user_for(world, who))
        for method, path in paths:
            status = _status(client, method, path)
            allowed = 200 if path == "/tasks" else 404  # their own (empty) list
            assert status == forbidden.get(who, allowed), (who, method, path)
    switch(client, owner)
    for method, path in paths:
        assert _status(client, method, path) == (302 if method == "POST" else 200)
    assert task_count() == 2  # the owner's rerun only


def test_what_if_start_matrix(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    path = f"/officer/rulesets/{draft_without_relaxation(w)}/what-if/tasks"
    anonymous_goes_to_login(client, [("POST", path)])
    for who in WHO:
        switch(client, user_for(w.world, who))
        expected = 302 if who == "officer" else 403
        assert _status(client, "POST", path) == expected, who
    assert task_count() == 1


def test_posts_need_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    login(client, w.officer.email)
    assert client.post(f"/officer/rulesets/{draft_id}/what-if/tasks").status_code == 400
    assert client.post("/officer/exports/milestones/tasks").status_code == 400
    assert task_count() == 0
    task = make_task(w.officer, state=TaskState.failed)
    assert client.post(f"/tasks/{task.id}/rerun").status_code == 400
    assert task_count() == 1


def test_a_large_programme_runs_the_what_if_in_the_background(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    login_english(client, w.officer)
    direct = client.get(f"/officer/rulesets/{draft_id}/what-if").get_data(as_text=True)
    direct_all = client.get(f"/officer/rulesets/{draft_id}/what-if?all=1").get_data(as_text=True)

    monkeypatch.setitem(app.config, "WHAT_IF_INLINE_LIMIT", 2)  # the world has 3 subjects
    offer = client.get(f"/officer/rulesets/{draft_id}/what-if")
    html = offer.get_data(as_text=True)
    assert offer.status_code == 200 and 'data-count="3"' in html
    assert "would evaluate 3 open applications and active grants" in html
    assert f'action="/officer/rulesets/{draft_id}/what-if/tasks"' in html
    assert "Run the what-if in the background" in html and "<h2>Summary</h2>" not in html
    assert task_count() == 0  # the offer alone starts nothing

    task_id = _task_id(post_form(client, f"/officer/rulesets/{draft_id}/what-if/tasks", {}))
    assert 'data-state="queued"' in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert run_queued() == 1  # a worker of any server
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "What-if of a draft rule set · AMED-WI" in page and 'data-state="done"' in page
    assert _report(page) == _report(direct)
    everything = client.get(f"/tasks/{task_id}?all=1").get_data(as_text=True)
    assert _report(everything) == _report(direct_all)
    assert f'href="/tasks/{task_id}?all=1"' in page and "task-status.js" not in page


def test_an_unknown_rule_set_starts_nothing(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.officer).email)
    assert post_form(client, "/officer/rulesets/999999/what-if/tasks", {}).status_code == 404
    assert client.get("/officer/rulesets/999999/what-if").status_code == 404
    assert task_count() == 0


def test_an_export_prepared_in_the_background_is_the_same_file(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(code="EX")
    officer = make_user(Role.officer)
    login_english(client, officer)
    page = client.get("/officer/exports").get_data(as_text=True)
    assert 'action="/officer/exports/disbursements/tasks"' in page
    assert 'formaction="/officer/exports/milestones/tasks"' in page
    assert 'id="task-program_id"' in page and 'id="task-fiscal_year"' in page

    form = {"task-program_id": str(world.program.id), "task-fiscal_year": "2026"}
    task_id = _task_id(post_form(client, "/officer/exports/milestones/tasks", form))
    task = reload(task_id)
    assert task.params == {"program_id": world.program.id, "fiscal_year": 2026, "locale": "en"}
    run_queued()
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Milestone status (CSV) · EX · FY2026" in page
    assert f'href="/tasks/{task_id}/download"' in page and "milestones-EX-2026.csv" in page

    download = client.get(f"/tasks/{task_id}/download", buffered=True)
    streamed = client.get(
        f"/officer/exports/milestones.csv?program_id={world.program.id}&fiscal_year=2026",
        buffered=True,
    )
    assert download.status_code == 200 and download.data == streamed.data
    assert (
        download.headers["Content-Disposition"] == 'attachment; filename="milestones-EX-2026.csv"'
    )
    assert download.headers["Content-Disposition"] == streamed.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert download.mimetype == "text/csv"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"task-fiscal_year": "1999"}, "task-fiscal_year", "from 2000 to 2100."),
        ({"task-program_id": "999999"}, "task-program_id", "Not a valid choice."),
        ({"task-fiscal_year": "abc"}, "task-fiscal_year", "Not a valid integer value."),
    ],
)
def test_bad_filters_start_nothing(
    app: Flask, client: FlaskClient, form: dict[str, str], field: str, message: str
) -> None:
    make_grant(code="EX")
    login_english(client, make_user(Role.officer))
    response = post_form(client, "/officer/exports/disbursements/tasks", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert task_count() == 0


def test_a_running_task_shows_its_progress(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.officer)
    task = make_task(owner, done=1234, total=5000)
    login_english(client, owner)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '<progress id="task-progress"' in page and 'value="1234" max="5000"' in page
    assert "1,234 of 5,000 (24%)" in page and 'aria-live="polite"' in page
    assert f'data-status-url="/tasks/{task.id}/status.json"' in page
    assert '<script src="/static/js/task-status.js" defer></script>' in page
    assert f'href="/tasks/{task.id}" id="task-refresh"' in page and "Running" in page
    assert "task-rerun" not in page

    status = client.get(f"/tasks/{task.id}/status.json")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {
        "id": task.id,
        "state": "running",
        "label": "Running",
        "finished": False,
        "interrupted": False,
        "restarted": False,
        "done": 1234,
        "total": 5000,
        "percent": 24,
        "value": 1234,
        "max": 5000,
        "text": "1,234 of 5,000 (24%)",
    }


def test_a_queued_task_waits(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.officer)
    task = make_task(owner, state=TaskState.queued)
    login_english(client, owner)
    status = client.get(f"/tasks/{task.id}/status.json").get_json()
    assert (status["label"], status["text"], status["max"]) == (
        "Waiting to start",
        "Not started yet",
        1,
    )


def test_the_status_script_is_served(app: Flask, client: FlaskClient) -> None:
    script = client.get("/static/js/task-status.js", buffered=True)
    assert script.status_code == 200
    body = script.get_data(as_text=True)
    assert "statusUrl" in body and "fetch(" in body and "http" not in body  # no CDN


def test_a_failed_task_shows_why_and_runs_again(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_user(Role.officer)
    make_grant(code="EX")

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    write_file = background._write_file
    monkeypatch.setattr(background, "_write_file", broken)
    login_english(client, owner)
    task_id = _task_id(post_form(client, "/officer/exports/milestones/tasks", {}))
    run_queued()
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-state="failed"' in page and "Failed" in page
    assert "The task stopped because of an unexpected error." in page
    assert "disk on fire" not in page and "task-download" not in page
    assert f'action="/tasks/{task_id}/rerun"' in page
    assert client.get(f"/tasks/{task_id}/download", buffered=True).status_code == 409

    monkeypatch.setattr(background, "_write_file", write_file)
    again = _task_id(post_form(client, f"/tasks/{task_id}/rerun", {}))
    run_queued()
    assert again != task_id and reload(again).state is TaskState.done
    assert client.get(f"/tasks/{again}/download", buffered=True).status_code == 200


def test_a_task_whose_worker_stopped_says_it_restarts_by_itself(
    app: Flask, client: FlaskClient
) -> None:
    owner = make_user(Role.officer)
    task = make_task(
        owner, done=10, total=100, age=timedelta(minutes=30), attempts=1, claimed_by="gone"
    )
    before = (task.state, task.updated_at)
    login_english(client, owner)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-state="interrupted"' in page and "Waiting to restart" in page
    assert "The next free server starts it again by itself." in page
    assert "task-rerun" not in page  # no one needs to
    assert f'data-status-url="/tasks/{task.id}/status.json"' in page  # the page follows it
    assert client.get(f"/tasks/{task.id}/status.json").get_json()["interrupted"] is True
    after = reload(task.id)
    assert (after.state, after.updated_at) == before  # reading wrote nothing
    response = post_form(client, f"/tasks/{task.id}/rerun", {})
    assert response.status_code == 409 and task_count() == 1


def test_a_restarted_task_says_so(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.officer)
    task = make_task(owner, done=1, total=4, attempts=2, claimed_by="worker")
    login_english(client, owner)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-state="running"' in page and 'id="task-restarted"' in page
    assert "started again after the server running it stopped" in page
    assert client.get(f"/tasks/{task.id}/status.json").get_json()["restarted"] is True


def test_the_list_shows_my_tasks_only(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.officer)
    mine = make_task(owner, state=TaskState.done, total=3, done=3)
    theirs = make_task(make_user(Role.officer))
    login_english(client, owner)
    page = client.get("/tasks").get_data(as_text=True)
    assert f'href="/tasks/{mine.id}"' in page and f'href="/tasks/{theirs.id}"' not in page
    assert "Milestone status (CSV)" in page and "3 of 3 (100%)" in page
    switch(client, make_user(Role.admin, locale=Locale.en))
    assert "You have no background tasks." in client.get("/tasks").get_data(as_text=True)


def test_nav_link_for_officers_and_admins_only(app: Flask, client: FlaskClient) -> None:
    for role in (Role.applicant, Role.reviewer):
        switch(client, make_user(role, make_org()))
        assert 'href="/tasks"' not in client.get("/").get_data(as_text=True)
    for role in (Role.officer, Role.admin):
        switch(client, make_user(role))
        assert 'href="/tasks"' in client.get("/").get_data(as_text=True)


def _what_if_task(client: FlaskClient) -> tuple[int, int, User]:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    login_english(client, w.officer)
    task_id = _task_id(post_form(client, f"/officer/rulesets/{draft_id}/what-if/tasks", {}))
    run_queued()
    return task_id, draft_id, w.officer


def test_a_what_if_task_links_to_its_draft(app: Flask, client: FlaskClient) -> None:
    task_id, draft_id, _officer = _what_if_task(client)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    link = page[page.index('id="task-ruleset"') :].split("</dd>")[0]
    assert f'href="/officer/rulesets/{draft_id}"' in link and "草案" in link
    assert f'action="/tasks/{task_id}/rerun"' in page


def test_a_what_if_of_a_deleted_draft_cannot_run_again(app: Flask, client: FlaskClient) -> None:
    task_id, draft_id, officer = _what_if_task(client)
    rulesets.delete_draft(officer, draft_id)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "The draft rule set of this what-if no longer exists." in page
    assert f'href="/officer/rulesets/{draft_id}"' not in page
    assert f'action="/tasks/{task_id}/rerun"' not in page and 'id="task-rerun"' not in page
    response = post_form(client, f"/tasks/{task_id}/rerun", {})  # a page loaded before
    assert response.status_code == 409
    assert "no longer exists" in response.get_data(as_text=True)
    assert task_count() == 1


def test_status_json_of_someone_elses_or_a_missing_task_is_json(
    app: Flask, client: FlaskClient
) -> None:
    task = make_task(make_user(Role.officer))
    login_english(client, make_user(Role.officer))
    for path in (f"/tasks/{task.id}/status.json", "/tasks/999999/status.json"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/json", path
        assert response.get_json()["error"]["code"] == "not_found"
    switch(client, make_user(Role.applicant, make_org()))
    forbidden = client.get(f"/tasks/{task.id}/status.json")
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"/tasks/{task.id}").mimetype == "text/html"  # the page stays a page
