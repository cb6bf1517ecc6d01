"""A real SMTP server on loopback for mail tests (aiosmtpd), and reading what it received."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """The aiosmtpd handler: keeps every accepted message; `refuse` answers 451 instead."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    reject_recipients: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.reject_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def by_alert(self) -> dict[int, int]:
        """How many messages arrived per alert id (the X-Grants-Alert header)."""
        counts: dict[int, int] = {}
        for message in self.received:
            alert_id = int(message["X-Grants-Alert"])
            counts[alert_id] = counts.get(alert_id, 0) + 1
        return counts


class SmtpServer:
    """Start, stop and restart a server on one fixed loopback port."""

    def __init__(self, mailbox: Mailbox, port: int) -> None:
        self.mailbox = mailbox
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(Mailbox(), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
