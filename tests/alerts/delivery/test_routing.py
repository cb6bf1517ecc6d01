"""Each recipient's preference routes their alerts: e-mailed at once, kept for the digest, or
never e-mailed; every e-mail is in its recipient's language with a signed link to the
preference of its kind, which opens without a sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.alerts.delivery import service as mail
from grants.alerts.inbox import queries as inbox
from grants.alerts.models import Alert
from grants.alerts.preferences import service as preferences
from grants.alerts.preferences.queries import preference_of
from grants.core import notify
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind, Delivery, SubjectType
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.events import evidence_submitted, make_cast, milestone_approved
from tests.support.factories import make_user
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.web import csrf_token

K = AlertKind
TODAY = date(2026, 10, 1)


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        yield running


def deliver() -> mail.DeliveryReport:
    report = mail.deliver(SYSTEM, utcnow(), current_app.config)
    db.session.expire_all()
    return report


def _tell(user_id: int, kind: AlertKind, subject_id: int = 1) -> int:
    [alert_id] = notify.record(
        SYSTEM, [user_id], kind, SubjectType.application, subject_id, today=TODAY
    )
    db.session.commit()
    return alert_id


def test_each_alert_goes_the_way_its_recipient_chose(app: Flask, server: SmtpServer) -> None:
    officer = make_user(Role.officer)
    preferences.set_preferences(
        officer, {"application_submitted": "now", "amendment_requested": "digest", "overdue": "off"}
    )
    now, digest, off = (_tell(officer.id, kind) for kind in (
        K.application_submitted, K.amendment_requested, K.overdue))  # fmt: skip
    assert deliver().sent == [now]
    assert deliver().sent == []  # a rerun sends nothing twice
    routed = {row.id: row.delivery for row in db.session.execute(select(Alert.id, Alert.delivery))}
    assert routed == {now: Delivery.now, digest: Delivery.digest, off: Delivery.off}
    assert [int(m["X-Grants-Alert"]) for m in server.mailbox.received] == [now]
    assert db.session.get(Alert, off).emailed_at is None
    assert inbox.pending_count(make_user(Role.admin)) == 1  # the digest's; never the one off


def test_a_choice_applies_to_the_alerts_that_come_after_it(app: Flask, server: SmtpServer) -> None:
    officer = make_user(Role.officer)
    preferences.set_preferences(officer, {"application_submitted": "off"})
    first = _tell(officer.id, K.application_submitted, 1)
    assert deliver().sent == []
    preferences.set_preferences(officer, {"application_submitted": "now"})
    second = _tell(officer.id, K.application_submitted, 2)
    assert deliver().sent == [second]  # not the one routed off before: no flood of old mail
    assert db.session.get(Alert, first).delivery == Delivery.off


def test_event_mails_are_in_each_recipient_s_language(app: Flask, server: SmtpServer) -> None:
    cast = make_cast()
    cast.other_officer.locale = Locale.en
    db.session.commit()
    milestone_approved(cast)  # the grantee (ja) and the officers (one of them en)
    deliver()
    by_to = {str(m["To"]).rsplit("<", 1)[1].rstrip(">"): m for m in server.mailbox.received}
    approved = by_to[cast.world.applicant.email]
    assert (
        "マイルストーンの承認" in approved["Subject"] and "MS-TEST-0001 #1" in approved["Subject"]
    )
    assert "評価者が助成案件 MS-TEST-0001 のマイルストーン 1" in approved.get_content()
    ready = by_to[cast.other_officer.email]
    assert "Tranche ready" in ready["Subject"]
    body = ready.get_content()
    assert "its tranche of ¥100,000,000 is ready to release" in body
    assert "Release the tranche: http://127.0.0.1:5000/officer/milestones/" in body
    assert "Choose how “Tranche ready” alerts reach you" in body


def test_the_link_in_a_mail_opens_that_kind_s_choice_without_a_sign_in(
    app: Flask, server: SmtpServer, client: FlaskClient
) -> None:
    cast = make_cast()
    evidence_submitted(cast)
    deliver()
    reviewer = cast.world.reviewers[0]
    [message] = [m for m in server.mailbox.received if reviewer.email in str(m["To"])]
    body = message.get_content()
    assert "「エビデンスの提出」の通知の受け取り方" in body
    [url] = re.findall(r"http://127\.0\.0\.1:5000(/settings/notifications/link/\S+)", body)
    page = client.get(url)
    assert page.status_code == 200 and reviewer.email in page.get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client, url), "delivery": "off"})
    db.session.expire_all()
    assert preference_of(reviewer, K.evidence_submitted).delivery == Delivery.off
