"""A reviewer's merit review work: the applications assigned to them, one assignment with
its rubric and scores (the others' only once theirs are submitted, numbered, never named),
submitting scores, and declaring a conflict with an application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields

from grants.accounts.models import ConflictDeclaration
from grants.core.errors import RuleViolation
from grants.core.http.api import ApiBlueprint, Text, api_actor
from grants.core.http.schemas import ErrorSchema
from grants.core.problems import N_, Problem
from grants.merit_review.rules import ScoreEntry
from grants.merit_review.schemas import STAGES, MeritStageSchema, stage_data
from grants.merit_review.scores import service as scores
from grants.merit_review.scores.queries import AssignmentView, assignment_view, my_assignments

blp = ApiBlueprint(
    "api_merit_scores",
    __name__,
    url_prefix="/api/v1",
    description="Merit review: the reviewer's assignments and scores (reviewers).",
)

_SHEET = "criterion id -> {score, comment}"


class MeritMyAssignmentSchema(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    title = fields.String(required=True)
    program_code = fields.String(required=True)
    stage = fields.String(required=True, metadata={"enum": STAGES})
    due_on = fields.Date(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    conflicted = fields.Boolean(required=True)


class MeritOtherSchema(Schema):
    reviewer = fields.Integer(required=True, metadata={"description": "Reviewer 1, 2, ..."})
    scores = fields.Dict(required=True, metadata={"description": _SHEET})


class MeritAssignmentViewSchema(Schema):
    assignment = fields.Nested(MeritMyAssignmentSchema, required=True)
    rubric = fields.Nested(MeritStageSchema, allow_none=True)
    may_score = fields.Boolean(required=True)
    mine = fields.Dict(required=True, metadata={"description": _SHEET})
    others = fields.List(
        fields.Nested(MeritOtherSchema),
        required=True,
        metadata={"description": "Empty until my own scores are submitted."},
    )


class MeritScoresBodySchema(Schema):
    scores = fields.Dict(
        required=True,
        metadata={
            "description": 'criterion id -> {"score": whole number on the rubric\'s scale, '
            '"comment": text (required when the rubric says so)}, for every criterion.'
        },
    )


class MeritDeclarationSchema(Schema):
    note = Text(required=True, metadata={"description": "What the conflict is."})


class MeritDeclaredSchema(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    note = fields.String(required=True)
    declared_at = fields.DateTime(required=True)


@blp.get("/merit-review/assignments")
@blp.response(200, MeritMyAssignmentSchema(many=True))
def list_mine() -> list[dict[str, Any]]:
    """My assignments: open ones first, by deadline."""
    return [_mine(entry.assignment, entry.conflicted) for entry in my_assignments(api_actor())]


@blp.get("/merit-review/assignments/<int:assignment_id>")
@blp.response(200, MeritAssignmentViewSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not mine, or no such assignment.")
def get_assignment(assignment_id: int) -> dict[str, Any]:
    return _view(assignment_view(api_actor(), assignment_id))


@blp.post("/merit-review/assignments/<int:assignment_id>/scores")
@blp.arguments(MeritScoresBodySchema)
@blp.response(200, MeritAssignmentViewSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not mine, or no such assignment.")
@blp.alt_response(403, schema=ErrorSchema, description="A conflict of interest.")
@blp.alt_response(409, schema=ErrorSchema, description="Submitted already, or decided.")
@blp.alt_response(422, schema=ErrorSchema, description="A score or comment refused (which).")
def submit(data: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Submit a score and a comment for every criterion at once; then they are final."""
    actor = api_actor()
    scores.submit_scores(actor, assignment_id, _entries(data["scores"]))
    return _view(assignment_view(actor, assignment_id))


@blp.post("/applications/<int:application_id>/merit-review/conflicts")
@blp.arguments(MeritDeclarationSchema)
@blp.response(201, MeritDeclaredSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not assigned to me.")
def declare(data: dict[str, Any], application_id: int) -> ConflictDeclaration:
    """Declare a conflict with an application assigned to me: I no longer score it."""
    return scores.declare_conflict(api_actor(), application_id, data["note"])


def _entries(raw: Mapping[str, Any]) -> list[ScoreEntry]:
    """The body's scores as entries; a value of the wrong type is a field error."""
    found: list[ScoreEntry] = []
    errors: dict[str, list[Problem]] = {}
    for criterion_id, value in raw.items():
        if not isinstance(value, Mapping):
            errors[f"scores.{criterion_id}"] = [N_("Give an object with a score and a comment.")]
            continue
        score, comment = value.get("score"), value.get("comment", "")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
            errors[f"scores.{criterion_id}.score"] = [N_("Give a whole number.")]
        if not isinstance(comment, str):
            errors[f"scores.{criterion_id}.comment"] = [N_("Give the comment as text.")]
        found.append(
            ScoreEntry(str(criterion_id), score, comment if isinstance(comment, str) else "")
        )
    if errors:
        raise RuleViolation(N_("The scores could not be submitted."), errors)
    return found


def _mine(assignment: Any, conflicted: bool) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "application_id": assignment.application_id,
        "title": assignment.application.title,
        "program_code": assignment.application.program.code,
        "stage": assignment.stage,
        "due_on": assignment.due_on,
        "submitted_at": assignment.submitted_at,
        "conflicted": conflicted,
    }


def _sheet(sheet: Mapping[str, tuple[int, str]]) -> dict[str, Any]:
    return {k: {"score": score, "comment": comment} for k, (score, comment) in sheet.items()}


def _view(view: AssignmentView) -> dict[str, Any]:
    return {
        "assignment": _mine(view.assignment, bool(view.conflicts)),
        "rubric": stage_data(view.assignment.stage, view.stage) if view.stage else None,
        "may_score": view.may_score,
        "mine": _sheet(view.mine),
        "others": [{"reviewer": o.number, "scores": _sheet(o.scores)} for o in view.others],
    }
