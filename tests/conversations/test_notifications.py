"""A post tells the other side once, in their language, by the way they chose, and says
neither the text nor the author: an internal note never reaches the grantee's inbox or mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.alerts.delivery import service as mail
from grants.alerts.preferences import service as preferences
from grants.conversations import service
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.api import ApiClient
from tests.support.factories import make_user, uploads
from tests.support.grants import make_grant
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.web import login_english

TODAY = date(2026, 10, 1)


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        yield running


def _deliver() -> mail.DeliveryReport:
    report = mail.deliver(SYSTEM, utcnow(), current_app.config)
    db.session.expire_all()
    return report


def test_mail_and_inbox_tell_of_a_message_without_its_text(
    app: Flask, client: FlaskClient, server: SmtpServer
) -> None:
    world = make_grant()
    world.applicant.locale = Locale.en
    officer = make_user(Role.officer, locale=Locale.ja)
    db.session.commit()
    milestone = world.milestones[0].id

    def post(author: User, body: str, internal: bool = False) -> None:
        service.post_message(
            author, "milestone", milestone, body, internal, [], TODAY, upload_folder=uploads()
        )

    post(officer, "SECRET internal note", internal=True)
    post(officer, "Shared question")
    preferences.set_preferences(world.reviewers[1], {"message_posted": "off"})
    post(world.applicant, "Our answer")
    # the note: one reviewer (the other turned them off); the question: the grantee; the
    # answer: the officer and that reviewer
    assert len(_deliver().sent) == 1 + 1 + 2
    assert _deliver().sent == []  # a rerun sends nothing again
    by_address = {m["To"].addresses[0].addr_spec: m for m in server.mailbox.received}
    assert set(by_address) == {world.applicant.email, world.reviewers[0].email, officer.email}
    to_grantee = by_address[world.applicant.email].get_body().get_content()
    assert "A new message about milestone 1" in to_grantee
    assert "/conversations/messages/" in to_grantee
    assert "新しいメッセージ" in by_address[officer.email].get_body().get_content()
    for message in server.mailbox.received:
        text = message.get_body().get_content()
        for said in ("SECRET", "Shared question", "Our answer"):
            assert said not in text
    assert officer.name not in to_grantee
    login_english(client, world.applicant)
    inbox = client.get("/alerts").get_data(as_text=True)
    assert "A new message about milestone 1" in inbox and "SECRET" not in inbox
    api = ApiClient(client, world.applicant).get("/api/v1/alerts").get_data(as_text=True)
    assert "SECRET" not in api and "message_posted" in api
