"""Who performs a use case: a signed-in user, or the system (CLI, scheduler)."""

from __future__ import annotations

from dataclasses import dataclass

from grants.accounts.models import User
from grants.core.identity import Role


@dataclass(frozen=True)
class SystemActor:
    """The system itself: command-line tools and scheduled jobs. Acts with admin rights."""

    label: str = "system"
    role: Role = Role.admin
    id: None = None
    organization_id: None = None


SYSTEM = SystemActor()

Actor = User | SystemActor


def actor_label(actor: Actor) -> str:
    return actor.email if isinstance(actor, User) else actor.label
