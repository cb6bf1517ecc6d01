"""The caller's own alerts: list (all or unread), mark one or all read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marshmallow import Schema, fields

from grants.alerts.inbox import queries as inbox_queries
from grants.alerts.inbox import service as alerts
from grants.alerts.inbox import texts
from grants.alerts.models import Alert
from grants.core.alert_kinds import AlertKind
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.filters import current_locale
from grants.core.http.schemas import list_args, listed, page_schema
from grants.core.models import utcnow

blp = ApiBlueprint("api_alerts", __name__, url_prefix="/api/v1/alerts", description="My alerts.")


ALERT_ARGS = list_args(
    inbox_queries.ALERTS,
    "AlertArgs",
    extra={
        "unread": fields.Boolean(
            load_default=False, metadata={"description": "Only unread alerts (state=unread)."}
        )
    },
)


class AlertSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": [str(k) for k in AlertKind]})
    tier = fields.Integer(required=True)
    subject_type = fields.String(required=True)
    subject_id = fields.Integer(required=True)
    grant_id = fields.Integer(allow_none=True)
    milestone_id = fields.Integer(allow_none=True)
    text = fields.Function(
        lambda alert: texts.describe(alert, current_locale()),
        required=True,
        metadata={"description": "In my language."},
    )
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class ReadAllSchema(Schema):
    marked = fields.Integer(required=True)


@blp.get("")
@blp.arguments(ALERT_ARGS.schema, location="query")
@blp.response(200, page_schema(AlertSchema))
def list_alerts(args: dict[str, Any]) -> dict[str, Any]:
    """My alerts, newest first unless `sort` says otherwise; filters: `state` (unread or
    read; `unread=true` is state=unread), `kind`, `program_id` and `q` (in the grant's
    number and the milestone's title)."""
    asked = ALERT_ARGS.query(args)
    if args["unread"] and asked.state is None:
        asked = replace(asked, state=inbox_queries.UNREAD)
    return listed(inbox_queries.alert_list(api_actor(), asked))


@blp.post("/<int:alert_id>/read")
@blp.response(200, AlertSchema)
def mark_read(alert_id: int) -> Alert:
    """Mark one of my alerts read; anyone else's answers 404."""
    return alerts.mark_read(api_actor(), alert_id, utcnow())


@blp.post("/read-all")
@blp.response(200, ReadAllSchema)
def mark_all_read() -> dict[str, int]:
    return {"marked": alerts.mark_all_read(api_actor(), utcnow())}
