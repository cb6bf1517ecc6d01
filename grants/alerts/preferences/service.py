"""Choosing how each kind of alert is e-mailed: at once, in the daily digest, or not at all.

The actor chooses for themselves only: signed in, or through the signed link of an e-mail
(alerts.preferences.links), which proves who they are for that one change. Each change is
audited with what it was before.
"""

from __future__ import annotations

from collections.abc import Mapping

from grants.alerts.models import NotificationPreference
from grants.alerts.preferences.queries import Preference, preferences_of
from grants.core import audit
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, Delivery
from grants.core.db import insert_for, use_case
from grants.core.errors import NotAllowed, RuleViolation
from grants.core.models import utcnow
from grants.core.problems import N_, Problem
from grants.extensions import db

P = NotificationPreference.__table__


@use_case
def set_preferences(
    actor: Actor, preferences: Mapping[str, str], *, via_link: bool = False
) -> list[Preference]:
    """Set how the kinds named in `preferences` (kind -> now, digest or off) are e-mailed to
    the actor; the other kinds keep theirs. Answers all of the actor's preferences.
    `via_link`: chosen through an e-mail's signed link (the audit row says so)."""
    if actor.id is None:
        raise NotAllowed(N_("Only a person has e-mail preferences."))
    chosen = _checked(preferences)
    current = {p.kind: p.delivery for p in preferences_of(actor)}
    changed = {kind: delivery for kind, delivery in chosen.items() if current.get(kind) != delivery}
    if changed:
        before = {str(kind): str(current.get(kind, Delivery.now)) for kind in changed}
        after = {str(kind): str(delivery) for kind, delivery in changed.items()}
        for kind, delivery in changed.items():
            _upsert(actor.id, kind, delivery)
        audit.record(actor, "notification.preferences", actor, before, after | _how(via_link))
        db.session.commit()
    return preferences_of(actor)


def _checked(preferences: Mapping[str, str]) -> dict[AlertKind, Delivery]:
    errors: dict[str, list[Problem]] = {}
    chosen: dict[AlertKind, Delivery] = {}
    for key, value in preferences.items():
        if key not in set(AlertKind):
            errors[f"preferences.{key}"] = [N_("There is no such kind of alert.")]
        elif value not in set(Delivery):
            errors[f"preferences.{key}"] = [N_("Choose at once, daily digest or not at all.")]
        else:
            chosen[AlertKind(key)] = Delivery(value)
    if errors:
        raise RuleViolation(N_("The e-mail preferences could not be saved."), errors)
    return chosen


def _upsert(user_id: int, kind: AlertKind, delivery: Delivery) -> None:
    now = utcnow()
    statement = (
        insert_for(P)
        .values(user_id=user_id, kind=kind, delivery=delivery, updated_at=now)
        .on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"delivery": delivery, "updated_at": now}
        )
    )
    db.session.execute(statement)


def _how(via_link: bool) -> dict[str, str]:
    return {"via": "link"} if via_link else {}
