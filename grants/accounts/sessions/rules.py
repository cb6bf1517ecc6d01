"""When a signed-in session ends by itself: idle too long, or open too long."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from grants.core.identity import Role

# The last-seen time in the session is written again at most this often (every request
# would rewrite the cookie on every page).
SEEN_PRECISION_SECONDS = 60


class Expiry(StrEnum):
    idle = "idle"
    absolute = "absolute"


@dataclass(frozen=True)
class SessionPolicy:
    """Idle timeouts by role and the absolute timeout after sign-in."""

    idle: Mapping[Role, timedelta]
    absolute: timedelta

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> SessionPolicy:
        """From the settings SESSION_IDLE_MINUTES (by role) and SESSION_ABSOLUTE_HOURS."""
        minutes = settings["SESSION_IDLE_MINUTES"]
        idle = {role: timedelta(minutes=int(minutes[str(role)])) for role in Role}
        return cls(idle, timedelta(hours=int(settings["SESSION_ABSOLUTE_HOURS"])))

    def expiry(
        self, role: Role, signed_in_at: float | None, seen_at: float | None, now: float
    ) -> Expiry | None:
        """Why a session of `role` signed in at `signed_in_at` and last seen at `seen_at`
        (seconds since the epoch; None: a session without them, from before they were kept)
        has ended at `now`, or None while it lasts. A time ahead of `now` is not trusted."""
        if signed_in_at is None or not (now - self.absolute.total_seconds() < signed_in_at <= now):
            return Expiry.absolute
        if seen_at is None or not (now - self.idle[role].total_seconds() < seen_at <= now):
            return Expiry.idle
        return None

    def seen_again(self, seen_at: float, now: float) -> bool:
        """Whether the last-seen time is worth writing again."""
        return now - seen_at >= SEEN_PRECISION_SECONDS
