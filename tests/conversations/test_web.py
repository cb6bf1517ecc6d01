"""Conversation pages: posting, what each party sees, errors beside the field, the matrix."""

from __future__ import annotations

import io
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.conversations import service
from grants.conversations.models import Message, ReadMarker
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user, uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import OUTSIDERS, refused, statuses
from tests.support.web import login, login_english, post_form

TODAY = date(2026, 10, 1)


def _thread(world: GrantWorld) -> str:
    return f"/conversations/milestone/{world.milestones[0].id}"


def test_the_officer_notes_and_asks_and_the_grantee_sees_only_the_question(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    officer = make_user(Role.officer)
    login(client, officer.email)
    note = {"body": "Internal: the numbers look off", "internal": "y"}
    assert post_form(client, _thread(world), note).status_code == 302
    question = {"body": "Which assay did you use? https://example.jp/guide <b>bold</b>"}
    assert post_form(client, _thread(world), question).status_code == 302
    page = client.get(_thread(world)).get_data(as_text=True)
    assert "Internal: the numbers look off" in page and "Which assay" in page
    post_form(client, "/logout", {})
    login_english(client, world.applicant)
    page = client.get(_thread(world)).get_data(as_text=True)
    assert "Which assay" in page and "the numbers look off" not in page
    assert '<a href="https://example.jp/guide" rel="noopener noreferrer">' in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert 'name="internal"' not in page  # no internal notes for the grantee
    marker = db.session.scalar(select(ReadMarker).where(ReadMarker.user_id == world.applicant.id))
    assert marker is not None  # the page was read
    answer = {"body": "The ELISA assay.", "internal": "y"}  # "internal" ignored: not theirs
    assert post_form(client, _thread(world), answer).status_code == 302
    stored = db.session.scalar(select(Message).where(Message.body == "The ELISA assay."))
    assert stored is not None and not stored.internal
    grant_page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert _thread(world) in grant_page


def test_bad_input_shows_beside_the_field_and_keeps_nothing(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    login_english(client, world.applicant)
    for body in ("", "x" * 10_001, "ring\x07"):
        response = post_form(client, _thread(world), {"body": body})
        assert response.status_code == 422, body
    bad_file = {"body": "see file", "files": (io.BytesIO(b"MZ"), "tool.exe")}
    response = post_form(client, _thread(world), bad_file, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "only PDF, PNG, JPEG, CSV, XLSX and DOCX" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert client.get("/conversations/milestone/999999").status_code == 404


def test_a_file_is_downloaded_by_the_messages_readers_only(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    login(client, world.applicant.email)
    upload = {"body": "report", "files": (io.BytesIO(b"%PDF-1.4 r"), "report.pdf")}
    response = post_form(client, _thread(world), upload, content_type="multipart/form-data")
    assert response.status_code == 302
    [attachment] = db.session.scalar(select(Message)).attachments
    download = client.get(f"/conversations/files/{attachment.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 r"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()
    note = service.post_message(
        make_user(Role.officer),
        "milestone",
        world.milestones[0].id,
        "memo",
        True,
        [("memo.pdf", io.BytesIO(b"%PDF-1.4 m"), "application/pdf")],
        TODAY,
        upload_folder=uploads(),
    )
    assert client.get(f"/conversations/files/{note.attachments[0].id}").status_code == 404
    assert client.get(f"/conversations/messages/{note.id}").status_code == 404


def test_messages_cannot_be_edited_or_deleted(app: Flask) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("conversations.")]
    assert {r.endpoint for r in rules} == {
        "conversations.show",
        "conversations.message",
        "conversations.download",
    }
    for rule in rules:
        assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}
    api = [r for r in app.url_map.iter_rules() if "messages" in r.rule or "message-" in r.rule]
    for rule in api:
        assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}, rule.rule


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    shared = service.post_message(
        world.applicant,
        "milestone",
        world.milestones[0].id,
        "shared",
        False,
        [("a.pdf", io.BytesIO(b"%PDF-1.4 a"), "application/pdf")],
        TODAY,
        upload_folder=uploads(),
    )
    thread = _thread(world)
    paths = [
        ("GET", thread),
        ("POST", thread),
        ("GET", f"/conversations/messages/{shared.id}"),
        ("GET", f"/conversations/files/{shared.attachments[0].id}"),
    ]
    table = statuses(client, world, paths, lambda _m, _p: {"body": "hello"})
    refused(table, *OUTSIDERS, "reviewer_conflicted", status=404)
    refused(table, "admin", status=403)
    for party in ("grantee", "reviewer", "officer"):
        assert list(table[party].values()) == [200, 302, 302, 200], party
    assert db.session.scalar(select(func.count()).select_from(Message)) == 4


def test_an_applications_thread_is_linked_both_ways(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    application = world.grant.application_id
    thread = f"/conversations/application/{application}"
    login(client, make_user(Role.officer).email)
    assert thread in client.get(f"/officer/screening/{application}").get_data(as_text=True)
    assert f'href="/officer/screening/{application}"' in client.get(thread).get_data(as_text=True)
    post_form(client, "/logout", {})
    login(client, world.applicant.email)
    assert thread in client.get(f"/applications/{application}").get_data(as_text=True)
    assert f'href="/applications/{application}"' in client.get(thread).get_data(as_text=True)


def test_an_unknown_kind_of_thread_is_not_found(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    login(client, make_user(Role.officer).email)
    assert client.get(f"/conversations/grant/{world.grant.id}").status_code == 404
    response = post_form(client, f"/conversations/grant/{world.grant.id}", {"body": "hi"})
    assert response.status_code == 404
