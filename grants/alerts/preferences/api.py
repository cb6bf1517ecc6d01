"""My e-mail preferences: how each kind of alert I receive is e-mailed to me."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from grants.alerts.preferences import queries, service
from grants.alerts.preferences.queries import Preference
from grants.core.alert_kinds import AlertKind, Delivery
from grants.core.http.api import ApiBlueprint, api_actor

blp = ApiBlueprint(
    "api_notification_preferences",
    __name__,
    url_prefix="/api/v1/me/notification-preferences",
    description="My e-mail preferences for alerts.",
)

KINDS = [str(kind) for kind in AlertKind]
DELIVERIES = [str(delivery) for delivery in Delivery]


class PreferencesSchema(Schema):
    preferences = fields.Dict(
        keys=fields.String(validate=validate.OneOf(KINDS)),
        values=fields.String(validate=validate.OneOf(DELIVERIES)),
        required=True,
        metadata={
            "description": "Kind of alert -> how it is e-mailed: `now` (at once), `digest` "
            "(in the daily digest) or `off` (not at all; the inbox always shows it)."
        },
    )


@blp.get("")
@blp.response(200, PreferencesSchema)
def get_preferences() -> dict[str, Any]:
    """How each kind of alert my role receives is e-mailed to me (`now` unless I chose)."""
    return _dumped(queries.preferences_of(api_actor()))


@blp.put("")
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
def put_preferences(data: dict[str, Any]) -> dict[str, Any]:
    """Set the kinds given; the others keep theirs. Answers all of my preferences."""
    return _dumped(service.set_preferences(api_actor(), data["preferences"]))


def _dumped(preferences: list[Preference]) -> dict[str, Any]:
    return {"preferences": {str(p.kind): str(p.delivery) for p in preferences}}
