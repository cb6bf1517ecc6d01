"""Officers decide on a screened application: award it or reject it.

Awarding is officer work only: an administrator is refused it (separation of duties)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from grants.applications.models import Application
from grants.applications.schemas import ApplicationSchema, PlanCriterionSchema
from grants.awards import service as awards
from grants.awards.models import Grant
from grants.core.http import schemas as common
from grants.core.http.api import ApiBlueprint, Text, api_actor
from grants.core.http.schemas import TraceSchema, Yen
from grants.core.states import GrantState, MilestoneState

blp = ApiBlueprint(
    "api_awards",
    __name__,
    url_prefix="/api/v1",
    description="Award or rejection of screened applications (officers).",
)


class RejectionSchema(Schema):
    reason = Text(
        multiline=True, required=True, metadata={"description": "Shown to the applicant."}
    )


class AwardedMilestoneSchema(Schema):
    id = fields.Integer(required=True)
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    criteria = fields.List(fields.Nested(PlanCriterionSchema), required=True)
    due_date = fields.Date(required=True)
    tranche_amount = Yen(required=True)
    fiscal_year = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"enum": [str(s) for s in MilestoneState]})


class AwardedGrantSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    application_id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"enum": [str(s) for s in GrantState]})
    award_amount = Yen(required=True)
    ruleset_id = fields.Integer(required=True)
    ruleset_version = fields.Integer(required=True, attribute="ruleset.version")
    awarded_at = fields.DateTime(required=True)
    milestones = fields.List(fields.Nested(AwardedMilestoneSchema), required=True)
    award_trace = fields.Nested(
        TraceSchema,
        allow_none=True,
        metadata={"description": "The award rules' trace: why the amount was capped, if it was."},
    )


@blp.post("/applications/<int:application_id>/award")
@blp.response(201, AwardedGrantSchema)
def award(application_id: int) -> Grant:
    """Create the grant under the rule set in force today (officers; never administrators).

    The amount follows the award rules (rounded down, capped); tranches are cut from the
    last milestone backwards to match and committed to the fiscal-year budget pools.
    Refusals by the rules or the pools answer 422 (fields `award`, `budget`); an
    application already awarded, rejected or not yet screened eligible answers 409.
    """
    return awards.award(api_actor(), application_id, common.today())


@blp.post("/applications/<int:application_id>/reject")
@blp.arguments(RejectionSchema)
@blp.response(200, ApplicationSchema)
def reject(data: dict[str, Any], application_id: int) -> Application:
    """Reject with a reason shown to the applicant."""
    return awards.reject(api_actor(), application_id, data["reason"], common.today())
