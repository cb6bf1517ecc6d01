"""Who performs a use case: a signed-in user, or the system (CLI, scheduler).

Core knows a person only by what every use case reads of them (the `Person` protocol);
the accounts feature's User model is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from grants.core.identity import Role


class Person(Protocol):
    """A signed-in user as the use cases see them."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...

    @property
    def organization_id(self) -> int | None: ...

    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """The system itself: command-line tools and scheduled jobs. Acts with admin rights."""

    label: str = "system"
    role: Role = Role.admin
    id: None = None
    organization_id: None = None


SYSTEM = SystemActor()

Actor = Person | SystemActor


def actor_label(actor: Actor) -> str:
    return actor.label if isinstance(actor, SystemActor) else actor.email
