"""The daily digest with time travel: once a day per person from the digest hour (Tokyo), with
every digest alert since the last one, in their language, exactly once whatever reruns,
retries or a second scheduler do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.alerts import jobs
from grants.alerts.delivery import service as mail
from grants.alerts.digest import service as digests
from grants.alerts.models import Alert, NotificationDigest
from grants.alerts.preferences import service as preferences
from grants.core import lease, notify
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import TOKYO
from grants.core.errors import NotAllowed
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.web import login

K = AlertKind
DAY = date(2026, 10, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Tokyo wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
        yield running


def send(now: datetime, **kwargs: object) -> digests.DigestReport:
    report = digests.send_digests(SYSTEM, now, current_app.config, **kwargs)  # type: ignore[arg-type]
    db.session.expire_all()
    return report


def digest_reader(locale: Locale = Locale.ja) -> User:
    """An officer who chose the digest for the two kinds these tests record."""
    officer = make_user(Role.officer, locale=locale)
    chosen = {"application_submitted": "digest", "amendment_requested": "digest"}
    preferences.set_preferences(officer, chosen)
    return officer


def tell(user: User, kind: AlertKind = K.application_submitted, subject_id: int = 1) -> int:
    [alert_id] = notify.record(
        SYSTEM, [user.id], kind, SubjectType.application, subject_id, today=DAY
    )
    db.session.commit()
    return alert_id


def test_nothing_is_sent_before_the_digest_hour(app: Flask, server: SmtpServer) -> None:
    reader = digest_reader()
    tell(reader)
    report = send(at(DAY, 7, 59))
    assert report.gathered == [] and report.sent == []
    assert server.mailbox.received == []
    assert db.session.scalar(select(Alert.delivery)) == "digest"  # routed already


def test_one_mail_a_day_with_every_digest_alert_since_the_last(
    app: Flask, server: SmtpServer
) -> None:
    reader = digest_reader()
    first = [tell(reader, subject_id=1), tell(reader, K.amendment_requested, subject_id=2)]
    report = send(at(DAY, 8, 0))
    assert len(report.gathered) == 1 and report.sent == report.gathered
    [message] = server.mailbox.received
    assert "本日の通知のまとめ（2 件）" in message["Subject"]
    assert "X-Grants-Alert" not in message
    body = message.get_content()
    assert "[応募の提出]" in body and "[計画変更の申請]" in body
    assert body.count("/settings/notifications/link/") == 2  # one per kind in it
    assert all(db.session.get(Alert, a).emailed_at is not None for a in first)
    # later the same day: nothing more, however often the job runs
    late = tell(reader, subject_id=3)
    for hour in (9, 15, 23):
        assert send(at(DAY, hour)).sent == []
    assert len(server.mailbox.received) == 1
    # the next day, only what came since
    next_day = DAY + timedelta(days=1)
    assert send(at(next_day, 7)).sent == []
    assert len(send(at(next_day, 8, 5)).sent) == 1
    second = server.mailbox.received[1]
    assert "（1 件）" in second["Subject"]
    assert db.session.get(Alert, late).digest_id != db.session.get(Alert, first[0]).digest_id


def test_the_digest_is_in_its_reader_s_language_and_alerts_at_once_stay_out(
    app: Flask, server: SmtpServer
) -> None:
    reader = digest_reader(Locale.en)
    tell(reader)
    at_once = tell(reader, K.tranche_ready)  # not chosen: e-mailed on its own
    send(at(DAY, 9))
    [digest] = server.mailbox.received
    assert "Your daily digest of alerts (1)" in digest["Subject"]
    assert f"Dear {reader.name}," in digest.get_content()
    assert "[Application submitted]" in digest.get_content()
    assert db.session.get(Alert, at_once).digest_id is None
    assert mail.deliver(SYSTEM, utcnow(), current_app.config).sent == [at_once]


def test_a_day_runs_once_per_person_and_day(app: Flask, server: SmtpServer) -> None:
    readers = [digest_reader(), digest_reader()]
    for reader in readers:
        tell(reader)
    assert len(send(at(DAY, 8)).gathered) == 2
    for reader in readers:
        tell(reader, subject_id=2)
    assert send(at(DAY, 8, 30)).gathered == []  # had their day's digest: tomorrow's
    assert db.session.scalar(select(func.count(NotificationDigest.id))) == 2
    assert sorted(str(m["To"]) for m in server.mailbox.received) == sorted(
        f"{r.name} <{r.email}>" for r in readers
    )


def test_a_failed_digest_is_retried_as_the_same_message(app: Flask, server: SmtpServer) -> None:
    reader = digest_reader()
    alert_id = tell(reader)
    server.mailbox.refuse = True
    report = send(at(DAY, 8))
    assert report.failed and not report.sent
    digest = db.session.scalars(select(NotificationDigest)).one()
    assert digest.emailed_at is None and digest.next_attempt_at is not None
    assert db.session.get(Alert, alert_id).emailed_at is None
    server.mailbox.refuse = False
    assert send(at(DAY, 8, 0) + timedelta(seconds=30)).sent == []  # waits for the backoff
    assert send(at(DAY, 8, 2)).sent == [digest.id]
    [message] = server.mailbox.received
    assert str(message["Message-ID"]) == mail.message_id("digest", digest.id, app.config)
    assert db.session.get(Alert, alert_id).emailed_at is not None


def test_closed_accounts_get_no_digest(app: Flask, server: SmtpServer) -> None:
    reader = digest_reader()
    tell(reader)
    reader.active = False
    db.session.commit()
    assert send(at(DAY, 8)).gathered == []
    assert server.mailbox.received == []


def test_only_the_scheduler_sends_digests(app: Flask) -> None:
    with pytest.raises(NotAllowed):
        digests.send_digests(make_user(Role.admin), utcnow(), current_app.config)


def test_the_job_sends_under_the_lease_only(app: Flask, server: SmtpServer) -> None:
    reader = digest_reader()
    tell(reader)
    lease.acquire(lease.SCHEDULER, "other", utcnow(), timedelta(minutes=5))
    assert jobs.send_digests(app, "me", at(DAY, 9)) is None
    lease.release(lease.SCHEDULER, "other", utcnow())
    report = jobs.send_digests(app, "me", at(DAY, 9))
    assert report is not None and len(report.sent) == 1


def test_two_schedulers_at_once_send_each_digest_once(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Concurrent digest runs race only on PostgreSQL; SQLite serialises them.")
    readers = [digest_reader() for _ in range(4)]
    for reader in readers:
        tell(reader)
    sent: list[str] = []
    lock = threading.Lock()

    class Recorder:
        def send(self, message: mail.Message) -> None:
            with lock:
                sent.append(message.to)

        def close(self) -> None:
            return None

    barrier = threading.Barrier(3)

    def work() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            digests.send_digests(SYSTEM, at(DAY, 8), current_app.config, Recorder())
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(sent) == sorted(r.email for r in readers)
    assert db.session.scalar(select(func.count(NotificationDigest.id))) == 4


def test_the_outbox_shows_a_digested_alert_with_its_digest(
    app: Flask, server: SmtpServer, client: FlaskClient
) -> None:
    reader = digest_reader()
    tell(reader)
    send(at(DAY, 8))
    login(client, make_user(Role.admin).email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "本日の通知のまとめ（1 件）" in page and reader.email in page
