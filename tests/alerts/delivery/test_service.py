"""E-mail delivery to a real SMTP server on loopback: language, outages, crashes, exactly once."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.delivery import service as mail
from grants.alerts.models import Alert
from grants.awards.models import Milestone
from grants.core import mail as transport
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind
from grants.core.errors import NotAllowed
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.alerts import alert_row, all_alerts, run_scan, staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.smtp import SmtpServer, smtp_server

DUE = date(2026, 9, 30)
OVERDUE_DAY = date(2026, 10, 1)


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
        yield running


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    world.officer = staff(Role.officer, Locale.en)
    return world


def deliver(now: datetime | None = None, **kwargs: object) -> mail.DeliveryReport:
    report = mail.deliver(SYSTEM, now or utcnow(), current_app.config, **kwargs)  # type: ignore[arg-type]
    db.session.expire_all()
    return report


def test_each_recipient_gets_the_mail_in_their_language(
    world: GrantWorld, server: SmtpServer
) -> None:
    run_scan(OVERDUE_DAY)  # overdue: the (ja) applicant and the (en) officer
    report = deliver()
    assert len(report.sent) == 2
    by_rcpt = {str(m["To"]): m for m in server.mailbox.received}
    ja = next(m for to, m in by_rcpt.items() if world.applicant.email in to)
    en = next(m for to, m in by_rcpt.items() if world.officer.email in to)
    assert "期日超過" in ja["Subject"] and "MS-TEST-0001 #1" in ja["Subject"]
    assert "2026年9月30日" in ja.get_content()
    assert "Overdue" in en["Subject"]
    assert "30 Sep 2026" in en.get_content()
    assert "Dear " in en.get_content()
    assert all(a.emailed_at is not None and a.email_attempts == 1 for a in all_alerts())
    assert deliver().sent == []  # nothing twice


def test_the_mail_links_to_the_milestone_and_the_inbox(
    world: GrantWorld, server: SmtpServer, app: Flask
) -> None:
    run_scan(DUE - 7 * timedelta(days=1))
    deliver()
    [message] = server.mailbox.received
    body = message.get_content()
    assert "http://127.0.0.1:5000/alerts" in body
    milestone = world.milestones[0]
    assert f"http://127.0.0.1:5000/grants/{world.grant.id}#milestone-{milestone.id}" in body


def _alert_row(user: User, kind: AlertKind, tier: int, milestone: Milestone) -> Alert:
    return alert_row(user, kind, tier, milestone, OVERDUE_DAY)


def test_each_mail_links_to_the_page_where_its_recipient_acts(world: GrantWorld) -> None:
    first, second, _third = world.milestones
    base = "http://127.0.0.1:5000"
    at_first = f"{base}/grants/{world.grant.id}#milestone-{first.id}"
    review = f"{base}/milestones/{first.id}/review"
    officer = world.officer
    assert officer is not None
    cases = [
        (world.applicant, AlertKind.due_soon, 1, first, at_first),
        (world.applicant, AlertKind.overdue, 1, first, at_first),
        (officer, AlertKind.escalation, 1, first, at_first),
        (world.reviewers[0], AlertKind.review_waiting, 1, first, review),
        (officer, AlertKind.review_waiting, 2, first, at_first),
        (officer, AlertKind.tranche_waiting, 1, second,
         f"{base}/officer/milestones/{second.id}/release"),
    ]  # fmt: skip
    for user, kind, tier, milestone, link in cases:
        body = mail.render(
            _alert_row(user, kind, tier, milestone), current_app.config, utcnow()
        ).body
        lines = [line for line in body.splitlines() if "127.0.0.1:5000" in line]
        assert lines[0].endswith(f" {link}"), (kind, tier, lines)
    english = mail.render(
        _alert_row(officer, AlertKind.tranche_waiting, 2, second), current_app.config, utcnow()
    ).body
    assert "Release the tranche: " in english


class LostReply:
    """The server accepts the message, but its reply never arrives: the send "fails"."""

    def __init__(self, inner: mail.Backend) -> None:
        self.inner = inner

    def send(self, message: mail.Message) -> None:
        self.inner.send(message)
        raise mail.MailError("SMTPServerDisconnected: Connection unexpectedly closed", False)

    def close(self) -> None:
        self.inner.close()


def test_a_resend_after_a_lost_reply_is_the_same_message(
    world: GrantWorld, server: SmtpServer, app: Flask
) -> None:
    run_scan(OVERDUE_DAY)  # two alerts: the applicant and the officer
    now = utcnow()
    report = deliver(now, backend=LostReply(transport.SmtpBackend(app.config)))
    assert len(report.failed) == 2 and report.sent == []
    assert len(deliver(now + timedelta(seconds=61)).sent) == 2  # retried after the backoff
    received = server.mailbox.received
    assert len(received) == 4
    ids: dict[int, set[str]] = {}
    for message in received:
        ids.setdefault(int(message["X-Grants-Alert"]), set()).add(str(message["Message-ID"]))
    assert all(len(found) == 1 for found in ids.values()), ids  # each resent as itself
    alert_ids = sorted(ids)
    assert len({found.pop() for found in ids.values()}) == 2  # two alerts, two ids
    for alert_id in alert_ids:
        message_id = mail.alert_message_id(alert_id, app.config)
        assert re.fullmatch(rf"<alert-{alert_id}\.[0-9a-f]{{16}}@localhost>", message_id)


def test_the_message_id_is_stable_per_alert_and_installation(app: Flask) -> None:
    config = dict(app.config)
    first = mail.alert_message_id(7, config)
    assert first == mail.alert_message_id(7, config)  # every attempt, every process
    assert first != mail.alert_message_id(8, config)
    other = {**config, "SECRET_KEY": "another installation"}
    assert mail.alert_message_id(7, other) != first  # same id elsewhere: another message
    assert "testing-secret" not in first  # the key itself is not revealed
    named = {**config, "MAIL_SENDER": "Grants <grants@example.jp>"}
    assert mail.alert_message_id(7, named).endswith("@example.jp>")


def test_an_outage_then_recovery_delivers_each_alert_exactly_once(
    world: GrantWorld, server: SmtpServer
) -> None:
    staff(Role.officer)
    run_scan(OVERDUE_DAY)
    alerts = all_alerts()
    assert len(alerts) == 3
    server.stop()
    now = utcnow()
    report = deliver(now)
    assert report.stopped_early and len(report.failed) == 1 and report.sent == []
    failed = db.session.get(Alert, report.failed[0])
    assert failed.email_attempts == 1
    assert failed.next_attempt_at == now + timedelta(seconds=60)
    assert "Connection" in failed.last_error or "refused" in failed.last_error.lower()
    server.start()
    later = deliver(now + timedelta(seconds=30))  # the failed one waits for its backoff
    assert sorted(later.sent) == sorted(a.id for a in alerts if a.id != failed.id)
    final = deliver(now + timedelta(seconds=61))
    assert final.sent == [failed.id]
    assert deliver(now + timedelta(days=1)).sent == []
    assert server.mailbox.by_alert() == {a.id: 1 for a in alerts}


def test_a_refusing_server_backs_off_exponentially_then_delivers_once(
    world: GrantWorld, server: SmtpServer
) -> None:
    run_scan(OVERDUE_DAY)
    server.mailbox.refuse = True
    now = utcnow()
    for attempt, delay in enumerate((60, 120, 240), start=1):
        report = deliver(now)
        assert len(report.failed) == 2 and not report.stopped_early
        assert {a.email_attempts for a in all_alerts()} == {attempt}
        assert {a.next_attempt_at for a in all_alerts()} == {now + timedelta(seconds=delay)}
        assert deliver(now + timedelta(seconds=delay - 1)).failed == []  # still waiting
        now += timedelta(seconds=delay)
    server.mailbox.refuse = False
    assert len(deliver(now).sent) == 2
    assert server.mailbox.by_alert() == {a.id: 1 for a in all_alerts()}
    assert {a.email_attempts for a in all_alerts()} == {4}


def test_a_rejected_recipient_does_not_hold_up_the_others(
    world: GrantWorld, server: SmtpServer
) -> None:
    run_scan(OVERDUE_DAY)
    server.mailbox.reject_recipients = {world.applicant.email}
    report = deliver()
    assert len(report.sent) == 1 and len(report.failed) == 1 and not report.stopped_early
    [message] = server.mailbox.received
    assert world.officer.email in str(message["To"])


class Killed(BaseException):
    """The process dies mid-run (like SIGKILL): nothing after this line runs."""


class DyingBackend:
    """Sends `survive` messages through `inner`, then the process 'dies'."""

    def __init__(self, inner: mail.Backend, survive: int) -> None:
        self.inner, self.survive = inner, survive

    def send(self, message: mail.Message) -> None:
        if self.survive == 0:
            raise Killed
        self.inner.send(message)
        self.survive -= 1

    def close(self) -> None:
        self.inner.close()


def test_a_crash_between_scan_and_delivery_is_healed_by_the_next_run(
    world: GrantWorld, server: SmtpServer, app: Flask
) -> None:
    staff(Role.officer)
    run_scan(OVERDUE_DAY)  # alerts created; the process dies before delivering
    assert all(a.emailed_at is None for a in all_alerts())
    db.session.remove()
    with pytest.raises(Killed):  # the next run dies after one e-mail
        deliver(backend=DyingBackend(transport.SmtpBackend(app.config), survive=1))
    db.session.remove()
    assert len(deliver().sent) == 2  # the run after that sends the rest
    assert server.mailbox.by_alert() == {a.id: 1 for a in all_alerts()}


class AcceptedThenKilled:
    """The server accepts the message, then the process dies before recording that it did."""

    def __init__(self, inner: mail.Backend) -> None:
        self.inner = inner

    def send(self, message: mail.Message) -> None:
        self.inner.send(message)
        raise Killed

    def close(self) -> None:
        self.inner.close()


def test_a_crash_after_the_server_accepted_resends_the_same_message(
    world: GrantWorld, server: SmtpServer, app: Flask
) -> None:
    """At least once, never lost: the alert stays unsent in the database, so the next run
    sends it again, and the copy carries the same Message-ID for clients to merge."""
    run_scan(OVERDUE_DAY)
    first = min(alert.id for alert in all_alerts())
    db.session.remove()
    with pytest.raises(Killed):
        deliver(backend=AcceptedThenKilled(transport.SmtpBackend(app.config)))
    db.session.remove()
    assert [int(m["X-Grants-Alert"]) for m in server.mailbox.received] == [first]
    assert db.session.get(Alert, first).emailed_at is None  # the bookkeeping never committed
    assert sorted(deliver().sent) == sorted(alert.id for alert in all_alerts())
    copies = [m for m in server.mailbox.received if int(m["X-Grants-Alert"]) == first]
    assert len(copies) == 2
    assert {str(m["Message-ID"]) for m in copies} == {mail.alert_message_id(first, app.config)}
    assert server.mailbox.by_alert() == {
        alert.id: 1 + (alert.id == first) for alert in all_alerts()
    }


def test_the_log_backend_logs_and_keeps_the_mail_for_the_outbox(
    world: GrantWorld, caplog: pytest.LogCaptureFixture
) -> None:
    run_scan(DUE - timedelta(days=30))
    with caplog.at_level(logging.INFO, logger="grants.mail"):
        report = deliver()
    [alert] = all_alerts()
    assert report.sent == [alert.id]
    assert f"MAIL to={world.applicant.email}" in caplog.text
    assert alert.email_to == world.applicant.email
    assert "期日間近" in alert.email_subject
    assert "2026年9月30日" in alert.email_body


def test_inactive_recipients_are_not_mailed(world: GrantWorld) -> None:
    run_scan(DUE - timedelta(days=30))
    world.applicant.active = False
    db.session.commit()
    assert deliver().sent == []


def test_only_the_system_delivers(world: GrantWorld) -> None:
    with pytest.raises(NotAllowed):
        mail.deliver(world.officer, utcnow(), current_app.config)


class SlowRecorder:
    """Records sends from several threads; each send takes a little while."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message: mail.Message) -> None:
        time.sleep(0.02)
        with self.lock:
            self.sent.append(int(message.alert_id or 0))

    def close(self) -> None:
        return None


def test_parallel_deliverers_never_send_the_same_alert_twice(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Two deliverers at once need row locks (FOR UPDATE SKIP LOCKED) on PostgreSQL; "
            "on SQLite the scheduler lease keeps deliverers to one."
        )
    for index in range(3):
        world = make_grant(code=f"MS-P{index}")
        make_user(Role.applicant, world.grantee)
    for _ in range(3):
        staff(Role.officer)
    run_scan(OVERDUE_DAY)
    total = len(all_alerts())
    recorder = SlowRecorder()
    barrier = threading.Barrier(4)

    def work() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            mail.deliver(SYSTEM, utcnow(), current_app.config, backend=recorder)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(recorder.sent) == total
    assert Counter(recorder.sent).most_common(1)[0][1] == 1
    assert db.session.scalar(select(Alert).where(Alert.emailed_at.is_(None))) is None


def test_an_address_no_header_can_hold_fails_that_alert_only(
    world: GrantWorld, server: SmtpServer
) -> None:
    run_scan(OVERDUE_DAY)  # the applicant and the officer
    broken = db.session.get(User, world.applicant.id)
    broken.email = "a\r\nBcc: someone@example.jp"  # stored before addresses were checked
    db.session.commit()
    report = deliver()
    assert len(report.sent) == 1 and len(report.failed) == 1
    assert [str(m["To"]) for m in server.mailbox.received] == [
        f"{world.officer.name} <{world.officer.email}>"
    ]
    failed = next(a for a in all_alerts() if a.id == report.failed[0])
    assert failed.emailed_at is None and failed.next_attempt_at is not None
    assert failed.last_error
