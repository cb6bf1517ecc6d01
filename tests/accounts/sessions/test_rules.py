"""Idle and absolute session timeouts, from the timestamps a session holds."""

from __future__ import annotations

import pytest

from grants.accounts.sessions.rules import Expiry, SessionPolicy
from grants.core.identity import Role

SETTINGS = {
    "SESSION_IDLE_MINUTES": {"officer": 30, "admin": 30, "applicant": 480, "reviewer": 480},
    "SESSION_ABSOLUTE_HOURS": 12,
}
NOW = 1_800_000_000.0
MINUTE, HOUR = 60, 3600


@pytest.mark.parametrize(
    ("role", "idle_minutes"),
    [(Role.officer, 30), (Role.admin, 30), (Role.applicant, 480), (Role.reviewer, 480)],
)
def test_idle_timeouts_by_role(role: Role, idle_minutes: int) -> None:
    policy = SessionPolicy.of(SETTINGS)
    signed_in = NOW - HOUR
    almost = NOW - idle_minutes * MINUTE + 1
    assert policy.expiry(role, signed_in, almost, NOW) is None
    assert policy.expiry(role, signed_in, NOW - idle_minutes * MINUTE, NOW) == Expiry.idle


def test_the_absolute_timeout_ends_even_a_busy_session() -> None:
    policy = SessionPolicy.of(SETTINGS)
    assert policy.expiry(Role.applicant, NOW - 12 * HOUR + 1, NOW, NOW) is None
    assert policy.expiry(Role.applicant, NOW - 12 * HOUR, NOW, NOW) == Expiry.absolute


def test_missing_or_future_timestamps_end_the_session() -> None:
    policy = SessionPolicy.of(SETTINGS)
    assert policy.expiry(Role.applicant, None, NOW, NOW) == Expiry.absolute
    assert policy.expiry(Role.applicant, NOW, None, NOW) == Expiry.idle
    assert policy.expiry(Role.applicant, NOW + 5, NOW, NOW) == Expiry.absolute
    assert policy.expiry(Role.applicant, NOW, NOW + 5, NOW) == Expiry.idle


def test_the_last_seen_time_is_written_at_most_once_a_minute() -> None:
    policy = SessionPolicy.of(SETTINGS)
    assert not policy.seen_again(NOW - 59, NOW)
    assert policy.seen_again(NOW - 60, NOW)
