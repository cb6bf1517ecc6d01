"""The daily digest: one e-mail a day per person, with the alerts they chose to receive that way.

From NOTIFICATION_DIGEST_HOUR (Tokyo) on, a run gathers each active person's digest alerts
not e-mailed in a digest yet into that person's digest of the day (one row per user and
Tokyo day: the unique key makes the gathering happen once, whatever reruns or a second
scheduler do); alerts that come later wait for the next day's. Then it e-mails the digests
not sent yet, as the deliverer e-mails alerts (alerts.delivery.service): one at a time, the
outcome committed right after the send, retried with backoff, one Message-ID for every
attempt. Alerts are routed by preference first, so that a digest run alone routes them too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import render_template, url_for
from sqlalchemy import literal, or_, select, true, update

from grants.accounts.models import User
from grants.alerts.delivery.service import (
    ERROR_MAX,
    FOOTER,
    PreferenceLink,
    mail_context,
    message_id,
    preference_link,
    retry_wait,
    route,
)
from grants.alerts.inbox.texts import SUBJECT_LOADS, advice, describe, link_label, subject_link
from grants.alerts.models import Alert, NotificationDigest
from grants.core.actors import Actor, SystemActor
from grants.core.alert_kinds import AlertKind, Delivery, kind_label
from grants.core.calendar import TOKYO
from grants.core.db import dialect_name, insert_select_if_absent, use_case
from grants.core.errors import NotAllowed
from grants.core.i18n import translate
from grants.core.mail import Backend, MailError, Message, backend_from_config, describe_error
from grants.core.problems import N_
from grants.extensions import db

log = logging.getLogger("grants.mail")

A = Alert.__table__
D = NotificationDigest.__table__
U = User.__table__


@dataclass
class DigestReport:
    day: date
    gathered: list[int] = field(default_factory=list)  # digests made by this run
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    stopped_early: bool = False  # the server was unreachable: the rest waits for the next run


@use_case
def send_digests(
    actor: Actor, now: datetime, settings: Mapping[str, Any], backend: Backend | None = None
) -> DigestReport:
    """Gather today's digests once the digest hour has come, then e-mail those not sent.

    `settings`: NOTIFICATION_DIGEST_HOUR, the MAIL_* settings and SECRET_KEY."""
    if not isinstance(actor, SystemActor):
        raise NotAllowed(N_("Only the scheduler sends the digests."))
    local = now.astimezone(TOKYO)
    report = DigestReport(local.date())
    route()
    if local.hour >= int(settings["NOTIFICATION_DIGEST_HOUR"]):
        report.gathered = _gather(report.day, now)
    db.session.commit()
    backend = backend or backend_from_config(settings)
    try:
        while len(report.sent) + len(report.failed) < int(settings["MAIL_BATCH_LIMIT"]):
            digest = _claim(now)
            if digest is None:
                break
            if not _send_one(digest, backend, now, settings, report):
                report.stopped_early = True
                break
    finally:
        db.session.rollback()
        backend.close()
    return report


def _gather(day: date, now: datetime) -> list[int]:
    """Make the day's digest of every active person with digest alerts waiting, unless they
    have one for the day already, and put the waiting alerts in it; the new digests' ids."""
    waiting = (
        select(
            A.c.user_id,
            literal(day, D.c.day.type),
            literal(now, D.c.created_at.type),
            literal(0, D.c.email_attempts.type),
        )
        .join(U, U.c.id == A.c.user_id)
        .where(A.c.delivery == Delivery.digest, A.c.digest_id.is_(None), U.c.active == true())
        .distinct()
        .order_by(A.c.user_id)
    )
    columns = ("user_id", "day", "created_at", "email_attempts")
    insert = insert_select_if_absent(D, columns, waiting, ("user_id", "day"), ("id", "user_id"))
    made = {user_id: digest_id for digest_id, user_id in db.session.execute(insert)}
    if made:
        digest_of_day = (
            select(D.c.id).where(D.c.user_id == A.c.user_id, D.c.day == day).scalar_subquery()
        )
        db.session.execute(
            update(A)
            .where(
                A.c.delivery == Delivery.digest,
                A.c.digest_id.is_(None),
                A.c.user_id.in_(sorted(made)),
            )
            .values(digest_id=digest_of_day)
        )
    return sorted(made.values())


def _claim(now: datetime) -> NotificationDigest | None:
    query = (
        select(NotificationDigest)
        .join(User, User.id == NotificationDigest.user_id)
        .where(
            NotificationDigest.emailed_at.is_(None),
            or_(
                NotificationDigest.next_attempt_at.is_(None),
                NotificationDigest.next_attempt_at <= now,
            ),
            User.active == true(),
        )
        .order_by(NotificationDigest.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=NotificationDigest)
    )
    return db.session.scalar(query)


def _send_one(
    digest: NotificationDigest,
    backend: Backend,
    now: datetime,
    settings: Mapping[str, Any],
    report: DigestReport,
) -> bool:
    """Send one claimed digest and commit the outcome; False when the run should stop."""
    digest_id, attempts = digest.id, digest.email_attempts
    retry_at = now + retry_wait(attempts, settings)
    try:
        message = render(digest, settings, now)
    except Exception as error:  # a broken template must not block the other digests
        log.exception("rendering digest %s failed", digest_id)
        _failed(digest_id, attempts, retry_at, describe_error(error))
        report.failed.append(digest_id)
        return True
    if dialect_name() != "postgresql":
        db.session.commit()  # SQLite: do not hold the single write lock while talking SMTP
    try:
        backend.send(message)
    except MailError as error:
        log.warning("e-mail for digest %s failed: %s", digest_id, error)
        _failed(digest_id, attempts, retry_at, str(error))
        report.failed.append(digest_id)
        return not error.fatal
    _sent(digest_id, attempts, now, message)
    report.sent.append(digest_id)
    return True


@dataclass(frozen=True)
class DigestItem:
    kind: str
    summary: str
    advice: str
    link: str | None
    link_label: str | None


def render(digest: NotificationDigest, settings: Mapping[str, Any], now: datetime) -> Message:
    """The digest's e-mail in its recipient's language (templates/alerts/email/digest_*.txt):
    each alert as the inbox says it, and a signed preference link for each kind in it."""
    user = digest.user
    locale = str(user.locale)
    alerts = list(
        db.session.scalars(
            select(Alert)
            .where(Alert.digest_id == digest.id)
            .options(*SUBJECT_LOADS)
            .order_by(Alert.id)
        )
    )
    with mail_context(settings):
        items = [_item(alert, user, locale) for alert in alerts]
        kinds = sorted({AlertKind(a.kind) for a in alerts}, key=list(AlertKind).index)
        preferences: list[PreferenceLink] = [
            preference_link(user, kind, settings, now) for kind in kinds
        ]
        context = {
            "brand": translate(N_("Milestone Grants"), locale),
            "greeting": translate(N_("Dear %(name)s,", name=user.name), locale),
            "title": translate(
                N_("Your daily digest of alerts (%(count)d)", count=len(items)), locale
            ),
            "intro": translate(N_("Your alerts since the last digest:"), locale),
            "items": items,
            "inbox_label": translate(N_("All your alerts:"), locale),
            "inbox": url_for("alerts.inbox", _external=True),
            "preferences": preferences,
            "footer": translate(FOOTER, locale),
        }
        subject = render_template("alerts/email/digest_subject.txt", **context)
        body = render_template("alerts/email/digest_body.txt", **context)
    return Message(
        user.email,
        user.name,
        " ".join(subject.split()),
        body,
        message_id=message_id("digest", digest.id, settings),
    )


def _item(alert: Alert, user: User, locale: str) -> DigestItem:
    link = subject_link(alert, user.role)
    return DigestItem(
        kind=kind_label(alert.kind, locale),
        summary=describe(alert, locale),
        advice=advice(alert, locale),
        link=url_for(link.endpoint, **link.values, _external=True) if link else None,
        link_label=link_label(link, locale) if link else None,
    )


def _sent(digest_id: int, attempts: int, now: datetime, message: Message) -> None:
    db.session.execute(
        update(D)
        .where(D.c.id == digest_id, D.c.emailed_at.is_(None))
        .values(
            emailed_at=now,
            email_attempts=attempts + 1,
            next_attempt_at=None,
            last_error=None,
            email_subject=message.subject[:300],
            email_body=message.body,
        )
    )
    db.session.execute(
        update(A).where(A.c.digest_id == digest_id, A.c.emailed_at.is_(None)).values(emailed_at=now)
    )
    db.session.commit()


def _failed(digest_id: int, attempts: int, retry_at: datetime, error: str) -> None:
    db.session.execute(
        update(D)
        .where(D.c.id == digest_id, D.c.emailed_at.is_(None))
        .values(email_attempts=attempts + 1, next_attempt_at=retry_at, last_error=error[:ERROR_MAX])
    )
    db.session.commit()
