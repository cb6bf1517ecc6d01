"""The e-mails sent at once through the log transport (MAIL_BACKEND = "log", as in tests).

grants.core.mail.LogBackend writes each message to the "grants.mail" logger; `Outbox` reads
them back from pytest's log capture, whichever thread sent them (a live server's too).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

_RECORD = re.compile(
    r"MAIL to=(?P<to>\S+) subject=(?P<subject>.*?) message-id=(?P<id>\S+)\n(?P<body>.*)", re.S
)
_LINK = re.compile(r"https?://\S+/(?:invitation|password/reset)/[A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    message_id: str
    body: str

    @property
    def link(self) -> str | None:
        """The invitation or reset link the e-mail holds, if any."""
        found = _LINK.search(self.body)
        return found.group(0) if found else None

    @property
    def path(self) -> str:
        """The link's path, to open it with a test client."""
        assert self.link, f"no link in the e-mail to {self.to}"
        return urlsplit(self.link).path


class Outbox:
    """What was sent since the test began (or since `clear`)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog
        caplog.set_level(logging.INFO, logger="grants.mail")

    @property
    def mails(self) -> list[SentMail]:
        found = []
        for record in self._caplog.records:
            match = _RECORD.match(record.getMessage()) if record.name == "grants.mail" else None
            if match:
                found.append(SentMail(match["to"], match["subject"], match["id"], match["body"]))
        return found

    def to(self, address: str) -> list[SentMail]:
        return [mail for mail in self.mails if mail.to == address]

    def last(self, address: str) -> SentMail:
        sent = self.to(address)
        assert sent, f"nothing was sent to {address}"
        return sent[-1]

    def clear(self) -> None:
        self._caplog.clear()
