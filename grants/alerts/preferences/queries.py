"""A person's e-mail preferences: how each kind of alert they receive reaches them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.models import NotificationPreference
from grants.alerts.preferences.rules import kinds_for
from grants.core.actors import Person
from grants.core.alert_kinds import AlertKind, Delivery
from grants.extensions import db

DEFAULT = Delivery.now


@dataclass(frozen=True)
class Preference:
    kind: AlertKind
    delivery: Delivery


def preferences_of(person: Person) -> list[Preference]:
    """How each kind that `person`'s role receives is e-mailed to them (at once unless they
    chose otherwise), in the vocabulary's order."""
    chosen = _chosen(person.id)
    return [Preference(kind, chosen.get(kind, DEFAULT)) for kind in kinds_for(person.role)]


def preference_of(person: Person, kind: AlertKind) -> Preference:
    """How `kind` is e-mailed to `person` (also a kind their role no longer receives: an
    e-mail sent before the role changed links to it)."""
    return Preference(kind, _chosen(person.id).get(kind, DEFAULT))


def _chosen(user_id: int) -> dict[AlertKind, Delivery]:
    query = select(NotificationPreference.kind, NotificationPreference.delivery).where(
        NotificationPreference.user_id == user_id
    )
    return {AlertKind(kind): Delivery(delivery) for kind, delivery in db.session.execute(query)}


def linked_person(user_id: int) -> User | None:
    """The active user a signed link names (None once the account is closed)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None
