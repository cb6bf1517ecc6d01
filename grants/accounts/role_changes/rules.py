"""Which changes of an account's role wait for a second administrator.

Managing accounts gives no money power: making an account an active officer (money moves
are officer work) or an active administrator (who could then confirm their own requests
through a second account) takes effect only when another administrator confirms it.
Taking power away (a demotion, a deactivation) takes effect at once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

from grants.core.identity import Role

# The roles that need a second administrator's confirmation to be given.
CONFIRMED_ROLES: Final = frozenset({Role.officer, Role.admin})


class Access(NamedTuple):
    """What an account may do: its role, and whether it may sign in."""

    role: Role
    active: bool


class RoleChangeState(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    refused = "refused"


def needs_confirmation(before: Access | None, after: Access) -> bool:
    """Whether going from `before` (None: a new account) to `after` gives an account a
    confirmed role it does not hold now, active."""
    if not after.active or after.role not in CONFIRMED_ROLES:
        return False
    return before is None or not before.active or before.role != after.role
