"""The credential e-mails: said in the recipient's language and sent at once.

The edges call `send` right after the use case that returned the e-mails committed. Links
hold secrets, so these e-mails never wait in the database's outbox: if the transport fails,
`send` says so and the page (or the command) asks to try again. Each message has a stable
Message-ID, <credentials-KEY.INSTANCE@HOST>, KEY naming the link or the audit event it is
about. The log transport of development writes a message whole, link included, to the log:
that log is development's mailbox; production sends by SMTP.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from grants.accounts.credentials.rules import ChangeWay, LinkPurpose, MailKind
from grants.accounts.credentials.service import CredentialMail
from grants.core.calendar import TOKYO, format_date
from grants.core.i18n import translate
from grants.core.mail import MailError, Message, backend_from_config, sender_domain
from grants.core.problems import N_, Problem

log = logging.getLogger("grants.credentials")

_LINK_ENDPOINTS = {
    LinkPurpose.invitation: "credentials.invitation",
    LinkPurpose.reset: "credentials.reset",
}


@dataclass(frozen=True)
class Moment:
    """A stored UTC time as a date and time in Tokyo, in the reader's language."""

    value: datetime

    def localised(self, locale: str) -> str:
        local = self.value.astimezone(TOKYO)
        return f"{format_date(local.date(), locale)} {local:%H:%M}"


def send(mails: Sequence[CredentialMail], settings: Mapping[str, Any]) -> bool:
    """Send `mails` now through the configured transport; False when one could not be sent
    (logged without its content). `settings`: the MAIL_* settings and SECRET_KEY."""
    backend = backend_from_config(settings)
    try:
        for mail in mails:
            try:
                backend.send(render(mail, settings))
            except MailError as error:
                log.warning("the %s e-mail could not be sent: %s", mail.kind, error)
                return False
    finally:
        backend.close()
    return True


def link_url(mail: CredentialMail, settings: Mapping[str, Any]) -> str:
    """The address the e-mail's link opens (on MAIL_BASE_URL)."""
    assert mail.purpose is not None and mail.secret is not None, "not a link's e-mail"
    return _url(_LINK_ENDPOINTS[mail.purpose], settings, secret=mail.secret)


def render(mail: CredentialMail, settings: Mapping[str, Any]) -> Message:
    """The e-mail in its recipient's language (templates/accounts/credentials/email/)."""
    locale = mail.locale
    context = {
        "brand": translate(N_("Milestone Grants"), locale),
        "subject": translate(_SUBJECTS[mail.kind], locale),
        "greeting": translate(
            N_("Dear %(name)s,", name=mail.name) if mail.name else N_("Hello,"), locale
        ),
        "paragraphs": [translate(text, locale) for text in _paragraphs(mail)],
        "link": link_url(mail, settings) if mail.secret else None,
        "after_link": [translate(text, locale) for text in _after_link(mail)],
        "forgot": _url("credentials.forgot", settings) if _tells_what_if_not(mail) else None,
        "forgot_label": translate(
            N_(
                "If you did not do this, choose a new password at once on this page, and "
                "tell your administrator:"
            ),
            locale,
        ),
        "footer": translate(
            N_(
                "This message was sent automatically by Milestone Grants. "
                "Please do not reply to it."
            ),
            locale,
        ),
    }
    environment = current_app.jinja_env
    subject = environment.get_template("accounts/credentials/email/subject.txt").render(context)
    body = environment.get_template("accounts/credentials/email/body.txt").render(context)
    return Message(
        mail.to, mail.name, " ".join(subject.split()), body, message_id=message_id(mail, settings)
    )


def message_id(mail: CredentialMail, settings: Mapping[str, Any]) -> str:
    """<credentials-KEY.INSTANCE@HOST>: INSTANCE tells this installation's messages apart
    (an HMAC of its address under its secret key, which reveals nothing of the key)."""
    base = str(settings["MAIL_BASE_URL"])
    host = sender_domain(str(settings["MAIL_SENDER"])) or urlsplit(base).hostname or "localhost"
    key = str(settings.get("SECRET_KEY") or "").encode("utf-8")
    instance = hmac.new(key, f"grants-credential-mail {base}".encode(), hashlib.sha256)
    return f"<credentials-{mail.key}.{instance.hexdigest()[:16]}@{host}>"


def _url(endpoint: str, settings: Mapping[str, Any], **values: Any) -> str:
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return str(settings["MAIL_BASE_URL"]).rstrip("/") + path


_SUBJECTS: Mapping[MailKind, Problem] = {
    MailKind.invitation: N_("Set the password of your new account"),
    MailKind.reset: N_("Choose a new password"),
    MailKind.reset_by_admin: N_("Choose a new password"),
    MailKind.no_account: N_("Password reset"),
    MailKind.password_changed: N_("Your password was changed"),
}


def _paragraphs(mail: CredentialMail) -> list[Problem]:
    """What comes before the link (if any)."""
    email = mail.to
    until = Moment(mail.expires_at) if mail.expires_at else None
    choose = N_(
        "Choose a new password with this link. It works once, until %(moment)s (Japan time):",
        moment=until,
    )
    if mail.kind == MailKind.invitation:
        return [
            N_("An account with the address %(email)s was made for you.", email=email),
            N_(
                "Choose your password with this link. It works once, until %(moment)s "
                "(Japan time):",
                moment=until,
            ),
        ]
    if mail.kind == MailKind.reset:
        return [
            N_(
                "Someone, probably you, asked to reset the password of your account (%(email)s).",
                email=email,
            ),
            choose,
        ]
    if mail.kind == MailKind.reset_by_admin:
        return [
            N_(
                "An administrator asked for the password of your account (%(email)s) to be "
                "reset, and you were signed out everywhere.",
                email=email,
            ),
            choose,
        ]
    if mail.kind == MailKind.no_account:
        return [
            N_(
                "Someone, probably you, asked to reset the password of the account with this "
                "address (%(email)s), but no active account uses it.",
                email=email,
            ),
            N_(
                "If you have an account, it may use another address: ask your administrator. "
                "If you did not ask, you can ignore this e-mail."
            ),
        ]
    return _notice(mail)


def _notice(mail: CredentialMail) -> list[Problem]:
    when = Moment(mail.changed_at) if mail.changed_at else None
    changed = {
        ChangeWay.settings: N_(
            "The password of your account (%(email)s) was changed in its security settings "
            "on %(moment)s (Japan time).",
            email=mail.to,
            moment=when,
        ),
        ChangeWay.invitation: N_(
            "The password of your account (%(email)s) was set with its invitation link on "
            "%(moment)s (Japan time).",
            email=mail.to,
            moment=when,
        ),
        ChangeWay.reset: N_(
            "The password of your account (%(email)s) was reset with a link sent by e-mail on "
            "%(moment)s (Japan time).",
            email=mail.to,
            moment=when,
        ),
    }[mail.through or ChangeWay.settings]
    lines = [changed, N_("Every other session of your account was ended.")]
    if mail.tokens_revoked:
        lines.append(
            N_("Your API tokens were revoked: create new ones in your settings if you need them.")
        )
    return lines


def _after_link(mail: CredentialMail) -> list[Problem]:
    if mail.kind == MailKind.invitation:
        return [N_("If you did not expect this e-mail, you can ignore it.")]
    if mail.kind == MailKind.reset:
        return [N_("If you did not ask for it, ignore this e-mail: your password stays as it is.")]
    if mail.kind == MailKind.reset_by_admin:
        return [N_("Your current password works until you choose a new one.")]
    return []


def _tells_what_if_not(mail: CredentialMail) -> bool:
    """The notice says where to go if the change was not its owner's doing."""
    return mail.kind == MailKind.password_changed
