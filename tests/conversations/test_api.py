"""/api/v1 conversations: listing what the caller may read, posting (multipart), files."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from grants.awards.models import Amendment
from grants.conversations.models import Message
from grants.core.identity import Role
from grants.extensions import db
from tests.support.api import ApiClient, assert_error
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.matrix import conflicted_reviewer


def _send(api: ApiClient, path: str, data: dict[str, object]) -> TestResponse:
    return api.post(path, data=data, content_type="multipart/form-data")


def test_officer_and_grantee_talk_and_the_grantee_never_reads_the_note(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    officer = ApiClient(client, make_user(Role.officer))
    grantee = ApiClient(client, world.applicant)
    path = f"/api/v1/milestones/{world.milestones[0].id}/messages"
    note = _send(officer, path, {"body": "Internal note", "internal": "true"})
    assert note.status_code == 201 and note.get_json()["internal"] is True
    asked = _send(officer, path, {"body": "Shared question"})
    assert asked.status_code == 201
    answer = _send(grantee, path, {"body": "Answer", "files": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")})
    assert answer.status_code == 201
    [attachment] = answer.get_json()["attachments"]
    assert attachment["name"] == "x.pdf"
    listed = grantee.get(path).get_json()
    assert [m["body"] for m in listed] == ["Shared question", "Answer"]
    assert "Internal note" not in grantee.get(path).get_data(as_text=True)
    assert [m["body"] for m in officer.get(path).get_json()] == [
        "Internal note",
        "Shared question",
        "Answer",
    ]
    file = grantee.get(f"/api/v1/message-files/{attachment['id']}")
    assert file.status_code == 200 and file.data == b"%PDF-1.4 x"
    file.close()
    assert_error(_send(grantee, path, {"body": "x", "internal": "true"}), 403)


def test_bad_input_and_strangers_get_errors_and_nothing_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    grantee = ApiClient(client, world.applicant)
    path = f"/api/v1/milestones/{world.milestones[0].id}/messages"
    error = assert_error(_send(grantee, path, {"body": ""}), 422)
    assert "body" in error["fields"]
    assert_error(_send(grantee, path, {"body": "a\x1bb"}), 422)
    assert_error(_send(grantee, path, {"body": "x" * 10_001}), 422)
    bad = {"body": "x", "files": (io.BytesIO(b"not"), "a.pdf")}
    assert "files" in assert_error(_send(grantee, path, bad), 422)["fields"]
    assert_error(grantee.get("/api/v1/milestones/999999/messages"), 404)
    stranger = ApiClient(client, make_user(Role.applicant))
    assert_error(stranger.get(path), 404)
    assert_error(_send(stranger, path, {"body": "hi"}), 404)
    conflicted = ApiClient(client, conflicted_reviewer(world))
    assert_error(conflicted.get(path), 404)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_application_and_amendment_threads(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    grantee = ApiClient(client, world.applicant)
    officer = ApiClient(client, make_user(Role.officer))
    path = f"/api/v1/applications/{world.grant.application_id}/messages"
    assert _send(grantee, path, {"body": "About our application"}).status_code == 201
    assert _send(officer, path, {"body": "Officers only", "internal": "true"}).status_code == 201
    assert [m["body"] for m in grantee.get(path).get_json()] == ["About our application"]
    reviewer = ApiClient(client, world.reviewers[0])
    assert_error(reviewer.get(path), 404)
    amendment = Amendment(
        grant_id=world.grant.id,
        kind="due_date",
        state="requested",
        milestone_id=world.milestones[0].id,
        new_due_date=world.milestones[0].due_date,
        reason="r",
        requested_by_id=world.applicant.id,
    )
    db.session.add(amendment)
    db.session.commit()
    path = f"/api/v1/amendments/{amendment.id}/messages"
    assert _send(grantee, path, {"body": "Why the delay"}).status_code == 201
    assert [m["body"] for m in reviewer.get(path).get_json()] == ["Why the delay"]


def test_the_routes_are_documented(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for kind in (
        "applications/{application_id}",
        "milestones/{milestone_id}",
        "amendments/{amendment_id}",
    ):
        operations = spec["paths"][f"/api/v1/{kind}/messages"]
        assert set(operations) >= {"get", "post"}
        assert "multipart/form-data" in operations["post"]["requestBody"]["content"]
