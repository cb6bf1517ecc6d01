"""E-mail for alerts: routing by preference, rendering in the recipient's language, delivery.

Each new alert is routed first, by its recipient's preference for its kind (one UPDATE for
all of them): e-mailed at once (delivery "now"), kept for the daily digest (alerts.digest),
or never e-mailed ("off"; the inbox shows it all the same). A preference changed later
applies to the alerts that come after.

Delivery takes one due alert at a time, sends it, and records the outcome in its own
committed transaction right after the send: a success sets emailed_at (never sent
again), a failure counts the attempt and sets next_attempt_at with exponential backoff
(never given up, never lost). On PostgreSQL the alert is claimed with FOR UPDATE SKIP
LOCKED and stays locked while it is sent, so two deliverers never send the same alert;
on SQLite (one writer at a time) the claim is not held during the send, so as not to
block the database, and the scheduler lease keeps deliverers to one.

Each alert's e-mail has a stable Message-ID, <alert-<id>.<instance>@<host>> (a digest's,
<digest-<id>.<instance>@<host>>): when a send is retried because the server's reply was
lost after it had accepted the message, the copy is recognisably the same message
(threading and de-duplicating clients and archives treat the two as one).
<instance> is a hash of the installation's secret key and address, so that alert ids of
two installations never give the same id. Every e-mail links to the preference of its kind
through a signed link that works without signing in (alerts.preferences.links).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from sqlalchemy import func, or_, select, true, update

from grants.accounts.models import User
from grants.alerts.inbox.texts import advice, describe, link_label, subject_link
from grants.alerts.models import Alert, NotificationPreference
from grants.alerts.preferences import links
from grants.alerts.rules import retry_delay
from grants.core.actors import Actor, SystemActor
from grants.core.alert_kinds import AlertKind, Delivery, KindLabel, kind_label
from grants.core.db import dialect_name, use_case
from grants.core.errors import NotAllowed
from grants.core.i18n import translate
from grants.core.mail import (
    Backend,
    MailError,
    Message,
    backend_from_config,
    describe_error,
    sender_domain,
)
from grants.core.problems import N_
from grants.extensions import db

log = logging.getLogger("grants.mail")

ERROR_MAX = 500
A = Alert.__table__
P = NotificationPreference.__table__


def alert_message_id(alert_id: int, config: Mapping[str, Any]) -> str:
    """<alert-<id>.<instance>@<host>>: the same for every attempt to send one alert's e-mail.

    <host> is the sender's domain (else the host of MAIL_BASE_URL); <instance> is an HMAC of
    the installation's address under its secret key, which identifies the installation
    without revealing anything about the key."""
    return message_id("alert", alert_id, config)


def message_id(what: str, number: int, config: Mapping[str, Any]) -> str:
    """<what-<number>.<instance>@<host>>, as alert_message_id says."""
    base = str(config["MAIL_BASE_URL"])
    host = sender_domain(str(config["MAIL_SENDER"])) or urlsplit(base).hostname or "localhost"
    key = str(config.get("SECRET_KEY") or "").encode("utf-8")
    instance = hmac.new(key, f"grants-alert-mail {base}".encode(), hashlib.sha256)
    return f"<{what}-{number}.{instance.hexdigest()[:16]}@{host}>"


# --- routing --------------------------------------------------------------------------------


def route() -> int:
    """Route every alert not routed yet by its recipient's preference for its kind (at once
    when they chose nothing); how many. The caller commits."""
    chosen = (
        select(P.c.delivery)
        .where(P.c.user_id == A.c.user_id, P.c.kind == A.c.kind)
        .scalar_subquery()
    )
    statement = (
        update(A)
        .where(A.c.delivery.is_(None))
        .values(delivery=func.coalesce(chosen, str(Delivery.now)))
    )
    return db.session.execute(statement).rowcount


# --- rendering ----------------------------------------------------------------------------


@contextmanager
def mail_context(settings: Mapping[str, Any]) -> Iterator[None]:
    """A request context on MAIL_BASE_URL, so that url_for builds absolute links."""
    with current_app.test_request_context(base_url=settings["MAIL_BASE_URL"]):
        yield


def render(alert: Alert, settings: Mapping[str, Any], now: datetime) -> Message:
    """The alert's e-mail in its recipient's language (templates/alerts/email/alert_*.txt),
    its preference link signed at `now`."""
    user = alert.user
    locale = str(user.locale)
    with mail_context(settings):
        context = {
            "alert": alert,
            "milestone": alert.milestone,
            "brand": translate(N_("Milestone Grants"), locale),
            "greeting": translate(N_("Dear %(name)s,", name=user.name), locale),
            "kind": kind_label(alert.kind, locale),
            "summary": describe(alert, locale),
            "advice": advice(alert, locale),
            "inbox_label": translate(N_("All your alerts:"), locale),
            "inbox": url_for("alerts.inbox", _external=True),
            "footer": translate(FOOTER, locale),
            "link": None,
            "link_label": None,
            "preferences": preference_link(user, AlertKind(alert.kind), settings, now),
        }
        link = subject_link(alert, user.role)
        if link is not None:
            context["link"] = url_for(link.endpoint, **link.values, _external=True)
            context["link_label"] = link_label(link, locale)
        subject = render_template("alerts/email/alert_subject.txt", **context)
        body = render_template("alerts/email/alert_body.txt", **context)
    message_id = alert_message_id(alert.id, settings)
    return Message(user.email, user.name, " ".join(subject.split()), body, alert.id, message_id)


FOOTER = N_("This message was sent automatically by Milestone Grants. Please do not reply to it.")


@dataclass(frozen=True)
class PreferenceLink:
    label: str
    url: str


def preference_link(
    user: User, kind: AlertKind, settings: Mapping[str, Any], now: datetime
) -> PreferenceLink:
    """The signed one-click link to `user`'s choice for `kind` (in a mail context)."""
    token = links.sign(user.id, kind, str(settings["SECRET_KEY"]), now)
    label = N_(
        "Choose how “%(kind)s” alerts reach you (at once, in a daily digest or not at all):",
        kind=KindLabel(kind),
    )
    url = url_for("preferences.link", token=token, _external=True)
    return PreferenceLink(translate(label, str(user.locale)), url)


# --- delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    stopped_early: bool = False  # the server was unreachable: the rest waits for the next run


@use_case
def deliver(
    actor: Actor,
    now: datetime,
    settings: Mapping[str, Any],
    backend: Backend | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """E-mail alerts that are due (never sent, and not waiting for a retry), oldest first.

    `settings`: the MAIL_* settings (and SECRET_KEY, for the Message-ID)."""
    if not isinstance(actor, SystemActor):
        raise NotAllowed(N_("Only the scheduler delivers alerts."))
    backend = backend or backend_from_config(settings)
    limit = settings["MAIL_BATCH_LIMIT"] if limit is None else limit
    report = DeliveryReport()
    route()
    db.session.commit()
    try:
        while len(report.sent) + len(report.failed) < limit:
            alert = _claim(now)
            if alert is None:
                break
            if not _deliver_one(alert, backend, now, settings, report):
                report.stopped_early = True
                break
    finally:
        db.session.rollback()
        backend.close()
    return report


def _claim(now: datetime) -> Alert | None:
    query = (
        select(Alert)
        .join(User, User.id == Alert.user_id)
        .where(
            Alert.delivery == Delivery.now,
            Alert.emailed_at.is_(None),
            or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now),
            User.active == true(),
        )
        .order_by(Alert.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Alert)
    )
    return db.session.scalar(query)


def _deliver_one(
    alert: Alert,
    backend: Backend,
    now: datetime,
    settings: Mapping[str, Any],
    report: DeliveryReport,
) -> bool:
    """Send one claimed alert and commit the outcome; False when the run should stop."""
    alert_id, attempts = alert.id, alert.email_attempts
    delay = retry_wait(attempts, settings)
    try:
        message = render(alert, settings, now)
    except Exception as error:  # a broken template must not block the other alerts
        log.exception("rendering alert %s failed", alert_id)
        _failed(alert_id, attempts, now + delay, describe_error(error))
        report.failed.append(alert_id)
        return True
    if dialect_name() != "postgresql":
        db.session.commit()  # SQLite: do not hold the single write lock while talking SMTP
    try:
        backend.send(message)
    except MailError as error:
        log.warning("e-mail for alert %s failed: %s", alert_id, error)
        _failed(alert_id, attempts, now + delay, str(error))
        report.failed.append(alert_id)
        return not error.fatal
    _sent(alert_id, attempts, now, message)
    report.sent.append(alert_id)
    return True


def _sent(alert_id: int, attempts: int, now: datetime, message: Message) -> None:
    db.session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.emailed_at.is_(None))
        .values(
            emailed_at=now,
            email_attempts=attempts + 1,
            next_attempt_at=None,
            last_error=None,
            email_to=message.to,
            email_subject=message.subject[:300],
            email_body=message.body,
        )
    )
    db.session.commit()


def retry_wait(attempts: int, settings: Mapping[str, Any]) -> timedelta:
    """How long the alert waits after this attempt, if it fails."""
    base, most = settings["MAIL_RETRY_BASE_SECONDS"], settings["MAIL_RETRY_MAX_SECONDS"]
    return retry_delay(attempts + 1, base, most)


def _failed(alert_id: int, attempts: int, retry_at: datetime, error: str) -> None:
    db.session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.emailed_at.is_(None))
        .values(email_attempts=attempts + 1, next_attempt_at=retry_at, last_error=error[:ERROR_MAX])
    )
    db.session.commit()
