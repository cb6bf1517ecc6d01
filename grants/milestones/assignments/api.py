"""Reviewers assigned to a grant, with conflict-of-interest eligibility (officers)."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate

from grants.accounts.models import User
from grants.awards import queries as grant_queries
from grants.awards.queries import require_role, visible_grant
from grants.core.conflicts import ConflictReason
from grants.core.errors import DomainError
from grants.core.http.api import ApiBlueprint, DbId, api_actor
from grants.core.http.errors import error_json
from grants.core.http.filters import reason_text
from grants.core.http.schemas import ErrorBodySchema, ErrorSchema, today
from grants.core.permissions import Action
from grants.milestones.assignments import service as assignments
from grants.milestones.assignments.queries import candidates

blp = ApiBlueprint(
    "api_reviewers",
    __name__,
    url_prefix="/api/v1",
    description="Reviewer assignment with conflict-of-interest exclusion (officers).",
)

REASONS = [reason.value for reason in ConflictReason]


class ReviewerSchema(Schema):
    reviewer_id = fields.Integer(required=True)
    name = fields.String(required=True)
    organization_id = fields.Integer(allow_none=True)
    organization_name = fields.String(allow_none=True)
    eligible = fields.Boolean(
        required=True, metadata={"description": "No conflict: counts towards the quorum."}
    )
    conflicts = fields.List(fields.String(metadata={"enum": REASONS}), required=True)
    conflict_text = fields.String(
        required=True, metadata={"description": "The reasons in the request's language."}
    )


class AssignSchema(Schema):
    reviewer_id = DbId(required=True)


@blp.get("/grants/<int:grant_id>/reviewers")
@blp.response(200, ReviewerSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def list_reviewers(grant_id: int) -> list[dict[str, Any]]:
    """The assigned reviewers; a conflicted one stays listed but is not counted."""
    actor = api_actor()
    grant, _subject = visible_grant(actor, grant_id)
    require_role(actor, Action.assign_reviewers)
    return [_data(user, reasons) for user, reasons in grant_queries.assigned(grant)]


@blp.get("/grants/<int:grant_id>/reviewers/candidates")
@blp.response(200, ReviewerSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def list_candidates(grant_id: int) -> list[dict[str, Any]]:
    """Active reviewers not assigned yet, with their conflicts with this grant."""
    actor = api_actor()
    grant, _subject = visible_grant(actor, grant_id)
    require_role(actor, Action.assign_reviewers)
    return [_data(user, reasons) for user, reasons in candidates(grant)]


@blp.post("/grants/<int:grant_id>/reviewers")
@blp.arguments(AssignSchema)
@blp.response(201, ReviewerSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="Already assigned, or a closed grant.")
@blp.alt_response(422, schema=ErrorSchema, description="Not a reviewer, or conflicted (why).")
def assign(data: dict[str, Any], grant_id: int) -> dict[str, Any]:
    """Assign a reviewer; a conflicted candidate is refused with the reasons."""
    actor = api_actor()
    visible_grant(actor, grant_id)
    assignment = assignments.assign_reviewer(actor, grant_id, data["reviewer_id"], today())
    return _data(assignment.reviewer, [])


@blp.delete("/grants/<int:grant_id>/reviewers/<int:reviewer_id>")
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="Not assigned, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="A closed grant.")
def unassign(grant_id: int, reviewer_id: int) -> None:
    actor = api_actor()
    visible_grant(actor, grant_id)
    assignments.unassign_reviewer(actor, grant_id, reviewer_id)


class BulkAssignSchema(Schema):
    reviewer_id = DbId(required=True)
    grant_ids = fields.List(
        DbId(),
        required=True,
        validate=validate.Length(min=1, max=assignments.BULK_MAX),
        metadata={"description": "The grants to assign the reviewer to, each once, in order."},
    )


class BulkAssignItemSchema(Schema):
    grant_id = fields.Integer(required=True)
    status = fields.Integer(
        required=True,
        metadata={"description": "What the single assignment answers: 201 or its error's."},
    )
    outcome = fields.String(required=True, metadata={"enum": ["assigned", "refused"]})
    reviewer = fields.Nested(ReviewerSchema, allow_none=True)
    error = fields.Nested(ErrorBodySchema, allow_none=True)


class BulkAssignResultSchema(Schema):
    items = fields.List(fields.Nested(BulkAssignItemSchema), required=True)
    assigned = fields.Integer(required=True)
    refused = fields.Integer(required=True)


@blp.post("/reviewer-assignments/bulk")
@blp.arguments(BulkAssignSchema)
@blp.response(200, BulkAssignResultSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Officers only.")
def assign_bulk(data: dict[str, Any]) -> dict[str, Any]:
    """Assign one reviewer to several grants, each as its own assignment with every check
    (as POST /grants/<id>/reviewers would), and answer each grant's outcome: assigned, or
    refused with the error the single assignment would give (a conflict of interest, an
    assignment already there, a closed grant, a grant I may not see)."""
    actor = api_actor()
    require_role(actor, Action.assign_reviewers)
    day = today()
    items = [
        _assigned(actor, grant_id, data["reviewer_id"], day)
        for grant_id in dict.fromkeys(data["grant_ids"])
    ]
    assigned = sum(item["outcome"] == "assigned" for item in items)
    return {"items": items, "assigned": assigned, "refused": len(items) - assigned}


def _assigned(actor: Any, grant_id: int, reviewer_id: int, day: date) -> dict[str, Any]:
    """One grant's assignment, as its own use case: the reviewer, or the refusal."""
    try:
        visible_grant(actor, grant_id)
        assignment = assignments.assign_reviewer(actor, grant_id, reviewer_id, day)
    except DomainError as error:
        status, body = error_json(error)
        return _item(grant_id, status, None, body["error"])
    return _item(grant_id, 201, _data(assignment.reviewer, []), None)


def _item(grant_id: int, status: int, reviewer: Any, error: Any) -> dict[str, Any]:
    outcome = "assigned" if reviewer is not None else "refused"
    return {
        "grant_id": grant_id,
        "status": status,
        "outcome": outcome,
        "reviewer": reviewer,
        "error": error,
    }


def _data(user: User, reasons: list[ConflictReason]) -> dict[str, Any]:
    return {
        "reviewer_id": user.id,
        "name": user.name,
        "organization_id": user.organization_id,
        "organization_name": user.organization.name if user.organization else None,
        "eligible": not reasons,
        "conflicts": [str(reason) for reason in reasons],
        "conflict_text": reason_text(reasons),
    }
