"""The reviewers' feedback on a decided application (its applicant): each criterion's mean
score and the comments, the reviewers numbered, never named."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import ErrorSchema
from grants.merit_review.feedback.queries import Feedback, feedback
from grants.merit_review.schemas import STAGES, MeritLabelSchema, decimal

blp = ApiBlueprint(
    "api_merit_feedback",
    __name__,
    url_prefix="/api/v1",
    description="Merit review: the applicant's feedback once the application is decided.",
)


class MeritCommentSchema(Schema):
    reviewer = fields.Integer(required=True, metadata={"description": "Reviewer 1, 2, ..."})
    comment = fields.String(required=True)


class MeritCriterionFeedbackSchema(Schema):
    criterion_id = fields.String(required=True)
    name = fields.Nested(MeritLabelSchema, required=True)
    mean = fields.String(required=True, metadata={"description": "Rounded to 4 places."})
    comments = fields.List(fields.Nested(MeritCommentSchema), required=True)


class MeritStageFeedbackSchema(Schema):
    stage = fields.String(required=True, metadata={"enum": STAGES})
    reviewers = fields.Integer(required=True)
    low = fields.Integer(required=True)
    high = fields.Integer(required=True)
    criteria = fields.List(fields.Nested(MeritCriterionFeedbackSchema), required=True)


class MeritFeedbackSchema(Schema):
    application_id = fields.Integer(required=True)
    stages = fields.List(fields.Nested(MeritStageFeedbackSchema), required=True)


@blp.get("/applications/<int:application_id>/feedback")
@blp.response(200, MeritFeedbackSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not mine, or no such application.")
@blp.alt_response(409, schema=ErrorSchema, description="Not decided yet: no feedback before.")
def get_feedback(application_id: int) -> dict[str, Any]:
    return _data(feedback(api_actor(), application_id))


def _data(found: Feedback) -> dict[str, Any]:
    return {
        "application_id": found.application.id,
        "stages": [
            {
                "stage": str(stage.stage),
                "reviewers": stage.reviewers,
                "low": stage.criteria.low,
                "high": stage.criteria.high,
                "criteria": [
                    {
                        "criterion_id": row.criterion.id,
                        "name": row.criterion.name._asdict(),
                        "mean": decimal(row.mean),
                        "comments": [{"reviewer": n, "comment": c} for n, c in row.comments],
                    }
                    for row in stage.rows
                ],
            }
            for stage in found.stages
        ],
    }
