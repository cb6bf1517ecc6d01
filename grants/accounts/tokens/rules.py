"""What a personal API token may do (its scope) and for how long (its expiry)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from grants.core.calendar import TOKYO
from grants.core.problems import N_, Problem

DEFAULT_DAYS: Final = 90
# Requests that only read: a read token may send these, and no other.
READING_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenScope(StrEnum):
    read = "read"
    read_write = "read_write"


def allows(scope: TokenScope, method: str) -> bool:
    """Whether a token of `scope` may send a request with `method`."""
    return scope == TokenScope.read_write or method.upper() in READING_METHODS


def default_expiry(today: date) -> date:
    return today + timedelta(days=DEFAULT_DAYS)


def latest_expiry(today: date) -> date:
    """A year from today: the same day next year (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def expiry_problem(expires_on: date, today: date) -> Problem | None:
    """Why a token cannot expire on `expires_on` when made on `today`: it works through that
    day, so at least tomorrow, and at most a year from today."""
    if expires_on <= today:
        return N_("A token expires tomorrow at the earliest.")
    if expires_on > latest_expiry(today):
        return N_("A token expires within a year at the latest.")
    return None


def expires_at(expires_on: date) -> datetime:
    """The moment a token stops working: the end of `expires_on` in Tokyo, in UTC."""
    return datetime.combine(expires_on + timedelta(days=1), time(), TOKYO).astimezone(UTC)


class TokenStatus(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


def status(revoked_at: datetime | None, expires: datetime, now: datetime) -> TokenStatus:
    if revoked_at is not None:
        return TokenStatus.revoked
    return TokenStatus.expired if now >= expires else TokenStatus.active
