"""The audit log for administrators' scripts: the same filters as its page, paginated."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from grants.audit import queries as audit_queries
from grants.audit.queries import FILTER_MAX, AuditFilters
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import ErrorSchema, PageArgs, page_schema

blp = ApiBlueprint(
    "api_audit",
    __name__,
    url_prefix="/api/v1/audit-events",
    description="The audit log (administrators).",
)


def _text(description: str) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=FILTER_MAX), metadata={"description": description}
    )


class AuditArgs(PageArgs):
    actor = _text("Part of the actor's e-mail address, or system.")
    action = _text("An action (tranche.release), or a family of them (tranche).")
    object_type = _text("The object's table, e.g. grant_award, user_account, evidence_file.")
    object_id = _text("The object's id.")
    date_from = fields.Date(metadata={"description": "From this day (Japan time), included."})
    date_to = fields.Date(metadata={"description": "To this day (Japan time), included."})


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the system."})
    actor_label = fields.String(required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


@blp.get("")
@blp.arguments(AuditArgs, location="query")
@blp.response(200, page_schema(AuditEventSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Not an administrator.")
@blp.alt_response(422, schema=ErrorSchema, description="A filter out of range.")
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """Audit events matching the filters, newest first."""
    filters = AuditFilters(
        actor=args.get("actor"),
        action=args.get("action"),
        object_type=args.get("object_type"),
        object_id=args.get("object_id"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
    )
    page = audit_queries.events_page(api_actor(), filters, args["page"], args["per_page"])
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}
