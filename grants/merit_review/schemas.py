"""The merit review's JSON shapes, shared by its API resources.

Scores are exact fractions; the API gives each as `score` (a decimal string rounded half up
to 4 places, for display) and `score_exact` ("numerator/denominator", for computing).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from marshmallow import Schema, fields, validate

from grants.core.http.schemas import Yen
from grants.merit_review.rules import Aggregation, Normalisation, StageName, shown
from grants.merit_review.service import DISAGREEMENT_MAX, PANEL_MAX, REVIEW_DAYS_MAX

STAGES = [str(stage) for stage in StageName]


def decimal(value: Fraction | None) -> str | None:
    return None if value is None else shown(value, 4)


def exact(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


class MeritSettingsSchema(Schema):
    panel_size = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=PANEL_MAX),
        metadata={"description": "Reviewers per application (without a conflict)."},
    )
    review_days = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=REVIEW_DAYS_MAX),
        metadata={"description": "Days from the assignment to the reviewer's deadline."},
    )
    aggregation = fields.String(
        required=True, validate=validate.OneOf([str(a) for a in Aggregation])
    )
    normalisation = fields.String(
        required=True,
        validate=validate.OneOf([str(n) for n in Normalisation]),
        metadata={"description": "`rank`: each reviewer's mid-rank percentile on the scale."},
    )
    disagreement = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "The spread of the reviewers' weighted scores that flags a "
            f"disagreement, as a ratio text ('1.5', '3/2'), above 0, at most {DISAGREEMENT_MAX}."
        },
    )


class MeritLabelSchema(Schema):
    ja = fields.String(required=True)
    en = fields.String(required=True)


class MeritCriterionSchema(Schema):
    id = fields.String(required=True)
    name = fields.Nested(MeritLabelSchema, required=True)
    guidance = fields.Nested(MeritLabelSchema, required=True)
    weight = fields.Integer(required=True)


class MeritStageSchema(Schema):
    stage = fields.String(required=True, metadata={"enum": STAGES})
    low = fields.Integer(required=True, metadata={"description": "The lowest score."})
    high = fields.Integer(required=True, metadata={"description": "The highest score."})
    weight_total = fields.Integer(required=True)
    comment_required = fields.Boolean(required=True)
    criteria = fields.List(fields.Nested(MeritCriterionSchema), required=True)


def stage_data(stage: str, criteria: Any) -> dict[str, Any]:
    return {
        "stage": stage,
        "low": criteria.low,
        "high": criteria.high,
        "weight_total": criteria.weight_total,
        "comment_required": criteria.comment_required,
        "criteria": [
            {
                "id": c.id,
                "name": c.name._asdict(),
                "guidance": c.guidance._asdict(),
                "weight": c.weight,
            }
            for c in criteria.criteria
        ],
    }


class MeritAggregateSchema(Schema):
    score = fields.String(required=True, metadata={"description": "Rounded to 4 places."})
    score_exact = fields.String(required=True, metadata={"description": "numerator/denominator"})
    reviewers = fields.Integer(required=True)
    spread = fields.String(required=True)
    disagreement = fields.Boolean(required=True)
    criterion_means = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


def aggregate_data(aggregate: Any) -> dict[str, Any] | None:
    if aggregate is None:
        return None
    return {
        "score": decimal(aggregate.score),
        "score_exact": exact(aggregate.score),
        "reviewers": aggregate.reviewers,
        "spread": decimal(aggregate.spread),
        "disagreement": aggregate.disagreement,
        "criterion_means": {k: decimal(v) for k, v in aggregate.criterion_means.items()},
    }


class MeritPoolSchema(Schema):
    fiscal_year = fields.Integer(required=True)
    available = Yen(
        required=True, metadata={"description": "Appropriation - committed - released."}
    )
    funded = Yen(required=True, metadata={"description": "Commitments above the line."})
    remaining = Yen(required=True)
    over = fields.Boolean(required=True)


def pool_data(pool: Any) -> dict[str, Any]:
    return {
        "fiscal_year": pool.fiscal_year,
        "available": pool.available,
        "funded": pool.funded,
        "remaining": pool.remaining,
        "over": pool.over,
    }
