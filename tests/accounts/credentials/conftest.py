"""Fixtures of the credential tests: the outbox of e-mails sent at once."""

from __future__ import annotations

import pytest

from tests.support.mails import Outbox


@pytest.fixture
def outbox(caplog: pytest.LogCaptureFixture) -> Outbox:
    return Outbox(caplog)
