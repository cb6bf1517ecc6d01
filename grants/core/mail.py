"""Sending e-mail: SMTP, or the log in development. Every feature that e-mails uses this
transport; what to say and when is the feature's."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any, Protocol

log = logging.getLogger("grants.mail")

ERROR_MAX = 500


@dataclass(frozen=True)
class Message:
    to: str
    to_name: str
    subject: str
    body: str
    alert_id: int | None = None
    message_id: str | None = None  # stable per alert (alert_message_id)


class MailError(Exception):
    """Sending failed. `fatal`: the server itself is unreachable, so stop this run."""

    def __init__(self, message: str, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


class Backend(Protocol):
    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


class LogBackend:
    """Development: the mail goes to the log (and, like any sent mail, to the admin outbox)."""

    def send(self, message: Message) -> None:
        log.info(
            "MAIL to=%s subject=%s message-id=%s\n%s",
            message.to,
            message.subject,
            message.message_id,
            message.body.rstrip(),
        )

    def close(self) -> None:
        return None


class SmtpBackend:
    """One SMTP connection per delivery run, opened on the first message."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config["MAIL_TIMEOUT_SECONDS"])
        self.sender = config["MAIL_SENDER"]
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: Message) -> None:
        try:
            email = self._email(message)
        except ValueError as error:  # e.g. a line break in the address: no header holds it
            raise MailError(describe_error(error), fatal=False) from error
        try:
            smtp = self._connection()
            smtp.send_message(email)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            raise MailError(describe_error(error), fatal=False) from error  # this message only
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as error:
            self.close()
            raise MailError(describe_error(error), fatal=True) from error
        except smtplib.SMTPResponseException as error:  # e.g. 451 after DATA
            self.close()
            raise MailError(describe_error(error), fatal=error.smtp_code == 421) from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailError(describe_error(error), fatal=True) from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = formataddr((message.to_name, message.to))
        email["Subject"] = message.subject
        email["Date"] = format_datetime(datetime.now().astimezone())
        email["Message-ID"] = message.message_id or make_msgid(domain=sender_domain(self.sender))
        email["Auto-Submitted"] = "auto-generated"
        if message.alert_id is not None:
            email["X-Grants-Alert"] = str(message.alert_id)
        email.set_content(message.body)
        return email


def sender_domain(address: str) -> str | None:
    return address.rpartition("@")[2].strip(" >") or None


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX]


def backend_from_config(config: Mapping[str, Any]) -> Backend:
    return SmtpBackend(config) if config["MAIL_BACKEND"] == "smtp" else LogBackend()
