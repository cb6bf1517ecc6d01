"""Panels (officers): a programme's applications and how far their panels are, one
application's panel, assigning and removing reviewers, filling every panel, the hearing's
shortlist."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from grants.accounts.models import User
from grants.core.conflicts import ConflictReason
from grants.core.http.api import ApiBlueprint, DbId, api_actor
from grants.core.http.filters import reason_text
from grants.core.http.schemas import ErrorSchema, PageArgs, page_schema, today
from grants.merit_review.models import HearingShortlist, MeritAssignment
from grants.merit_review.panels import service as panels
from grants.merit_review.panels.queries import Member, StagePanel, panel_view, programme_panels
from grants.merit_review.schemas import STAGES, MeritStageSchema, decimal, stage_data

blp = ApiBlueprint(
    "api_merit_panels",
    __name__,
    url_prefix="/api/v1",
    description="Merit review panels: reviewers assigned to applications (officers).",
)

REASONS = [reason.value for reason in ConflictReason]


class MeritReviewerSchema(Schema):
    reviewer_id = fields.Integer(required=True)
    name = fields.String(required=True)
    organization_id = fields.Integer(allow_none=True)
    conflicts = fields.List(fields.String(metadata={"enum": REASONS}), required=True)
    conflict_text = fields.String(required=True)


class MeritAssignmentSchema(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    reviewer_id = fields.Integer(required=True)
    stage = fields.String(required=True, metadata={"enum": STAGES})
    due_on = fields.Date(required=True)
    assigned_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)


class MeritMemberSchema(Schema):
    assignment = fields.Nested(MeritAssignmentSchema, required=True)
    reviewer = fields.Nested(MeritReviewerSchema, required=True)
    counted = fields.Boolean(
        required=True, metadata={"description": "Active, without a conflict: counts."}
    )
    scores = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        required=True,
        metadata={"description": "criterion id -> {score, comment}, once submitted."},
    )
    weighted = fields.String(allow_none=True, metadata={"description": "Rounded to 4 places."})


class MeritStagePanelSchema(Schema):
    rubric = fields.Nested(MeritStageSchema, required=True)
    panel_size = fields.Integer(required=True)
    counted = fields.Integer(required=True)
    open = fields.Boolean(required=True, metadata={"description": "Takes reviewers now."})
    members = fields.List(fields.Nested(MeritMemberSchema), required=True)
    candidates = fields.List(fields.Nested(MeritReviewerSchema), required=True)


class MeritPanelSchema(Schema):
    application_id = fields.Integer(required=True)
    state = fields.String(required=True)
    rank = fields.Integer(allow_none=True)
    stages = fields.List(fields.Nested(MeritStagePanelSchema), required=True)


class MeritProgressSchema(Schema):
    assigned = fields.Integer(required=True)
    submitted = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class MeritPanelStatusSchema(Schema):
    application_id = fields.Integer(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    shortlisted = fields.Boolean(required=True)
    written = fields.Nested(MeritProgressSchema, required=True)
    hearing = fields.Nested(MeritProgressSchema, required=True)


class MeritAssignSchema(Schema):
    reviewer_id = DbId(required=True)
    stage = fields.String(load_default="written", metadata={"enum": STAGES})
    due_on = fields.Date(
        metadata={"description": "The deadline; by default the programme's days from today."}
    )


class MeritFillSchema(Schema):
    stage = fields.String(load_default="written", metadata={"enum": STAGES})
    due_on = fields.Date()


class MeritFilledSchema(Schema):
    assigned = fields.List(fields.Nested(MeritAssignmentSchema), required=True)
    short = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "application id -> reviewers still missing"},
    )


class MeritShortlistedSchema(Schema):
    application_id = fields.Integer(required=True)
    written_rank = fields.Integer(required=True)
    written_score = fields.String(required=True, metadata={"description": "numerator/denominator"})


@blp.get("/programs/<int:program_id>/merit-review/panels")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(MeritPanelStatusSchema))
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
def list_panels(args: dict[str, Any], program_id: int) -> dict[str, Any]:
    """The programme's applications in review (or decided after one), oldest submission
    first, with their panels' progress."""
    view = programme_panels(api_actor(), program_id, today(), args["page"], args["per_page"])
    items = [
        {
            "application_id": row.application.id,
            "title": row.application.title,
            "state": str(row.application.state),
            "shortlisted": row.shortlisted,
            "written": row.progress("written"),
            "hearing": row.progress("hearing"),
        }
        for row in view.page.items
    ]
    page = view.page
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total}


@blp.get("/applications/<int:application_id>/merit-review/panel")
@blp.response(200, MeritPanelSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such application.")
def get_panel(application_id: int) -> dict[str, Any]:
    """The application's panel per stage: reviewers (with their conflicts and submitted
    scores) and the candidates."""
    view = panel_view(api_actor(), application_id, today())
    return {
        "application_id": view.application.id,
        "state": str(view.application.state),
        "rank": view.standing.rank if view.standing else None,
        "stages": [_stage(panel) for panel in view.stages],
    }


@blp.post("/applications/<int:application_id>/merit-review/assignments")
@blp.arguments(MeritAssignSchema)
@blp.response(201, MeritAssignmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such application.")
@blp.alt_response(409, schema=ErrorSchema, description="Decided, full panel, not shortlisted.")
@blp.alt_response(422, schema=ErrorSchema, description="Not a reviewer, or conflicted (why).")
def assign(data: dict[str, Any], application_id: int) -> MeritAssignment:
    """Put a reviewer on the application's panel for a stage."""
    return panels.assign(
        api_actor(),
        application_id,
        data["reviewer_id"],
        data["stage"],
        today(),
        data.get("due_on"),
    )


@blp.delete("/merit-review/assignments/<int:assignment_id>")
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No such assignment.")
@blp.alt_response(409, schema=ErrorSchema, description="Submitted, or the application decided.")
def unassign(assignment_id: int) -> None:
    """Take a reviewer who has not submitted off a panel."""
    panels.unassign(api_actor(), assignment_id)


@blp.post("/programs/<int:program_id>/merit-review/fill")
@blp.arguments(MeritFillSchema)
@blp.response(200, MeritFilledSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
def fill(data: dict[str, Any], program_id: int) -> dict[str, Any]:
    """Fill every panel of the stage up to the panel size, spreading the work evenly."""
    report = panels.fill_panels(api_actor(), program_id, data["stage"], today(), data.get("due_on"))
    return {"assigned": report.assigned, "short": {str(k): v for k, v in report.short.items()}}


@blp.post("/programs/<int:program_id>/merit-review/shortlist")
@blp.response(201, MeritShortlistedSchema(many=True))
@blp.alt_response(409, schema=ErrorSchema, description="No hearing, drawn already, reviews open.")
def shortlist(program_id: int) -> list[HearingShortlist]:
    """Send the best-ranked undecided applications on to the hearing."""
    return panels.shortlist(api_actor(), program_id, today())


def _reviewer(user: User, reasons: list[ConflictReason]) -> dict[str, Any]:
    return {
        "reviewer_id": user.id,
        "name": user.name,
        "organization_id": user.organization_id,
        "conflicts": [str(reason) for reason in reasons],
        "conflict_text": reason_text(reasons),
    }


def _member(member: Member) -> dict[str, Any]:
    return {
        "assignment": member.assignment,
        "reviewer": _reviewer(member.assignment.reviewer, member.conflicts),
        "counted": member.counted,
        "scores": {k: {"score": s, "comment": c} for k, (s, c) in member.scores.items()},
        "weighted": decimal(member.weighted),
    }


def _stage(panel: StagePanel) -> dict[str, Any]:
    return {
        "rubric": stage_data(str(panel.stage), panel.criteria),
        "panel_size": panel.panel_size,
        "counted": panel.counted,
        "open": panel.open,
        "members": [_member(member) for member in panel.members],
        "candidates": [_reviewer(user, reasons) for user, reasons in panel.candidates],
    }
