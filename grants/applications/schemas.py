"""Applications as the API reads and writes them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.applications import queries as application_queries
from grants.applications.queries import application_actions
from grants.core.http.api import DbId, ForCaller, Text
from grants.core.http.i18n import localise
from grants.core.http.schemas import TraceSchema, Yen, list_args
from grants.core.states import ApplicationState
from grants.rules import MODALITIES, STAGES, THEMES

APPLICATION_STATES = [str(state) for state in ApplicationState]


class ApplicationInSchema(Schema):
    program_id = DbId(required=True)
    title = Text(required=True)
    theme = fields.String(required=True, validate=validate.OneOf(THEMES))
    modality = fields.String(required=True, validate=validate.OneOf(MODALITIES))
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    eligible_cost = Yen(required=True)
    indirect_cost = Yen(required=True)
    requested_subsidy = Yen(required=True)
    project_start = fields.Date(required=True)
    project_end = fields.Date(required=True)


class PlanCriterionSchema(Schema):
    metric = Text(required=True, metadata={"example": "IC50"})
    target = Text(required=True, metadata={"example": "<= 10"})
    unit = Text(required=True, metadata={"example": "nM"})


class PlannedMilestoneInSchema(Schema):
    title = Text(required=True)
    criteria = fields.List(fields.Nested(PlanCriterionSchema), required=True)
    due_date = fields.Date(required=True)
    tranche_amount = Yen(required=True)


class PlanInSchema(Schema):
    milestones = fields.List(
        fields.Nested(PlannedMilestoneInSchema),
        required=True,
        metadata={"description": "The whole plan, in order; due dates strictly increasing."},
    )


class CoInvestmentInSchema(Schema):
    vc_organization_id = DbId(
        required=True,
        metadata={
            "description": "Any organisation but the applicant's own. Only VCs certified "
            "on the submission date (see /certified-vcs) count toward the share and the "
            "lead VC's minimum."
        },
    )
    committed_amount = Yen(required=True)
    is_lead = fields.Boolean(load_default=False)


class CoInvestmentsInSchema(Schema):
    co_investments = fields.List(fields.Nested(CoInvestmentInSchema), required=True)


APPLICATION_LIST_ARGS = list_args(
    application_queries.APPLICATIONS, "ApplicationListArgs", state_key="status"
)


class PlannedMilestoneSchema(Schema):
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    criteria = fields.List(fields.Nested(PlanCriterionSchema), required=True)
    due_date = fields.Date(required=True)
    tranche_amount = Yen(required=True)


class CoInvestmentSchema(Schema):
    vc_organization_id = fields.Integer(required=True)
    vc_name = fields.String(required=True, attribute="vc.name")
    committed_amount = Yen(required=True)
    is_lead = fields.Boolean(required=True)


class ApplicationSummarySchema(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    program_code = fields.String(required=True, attribute="program.code")
    organization_id = fields.Integer(required=True)
    organization_name = fields.String(required=True, attribute="organization.name")
    title = fields.String(required=True)
    theme = fields.String(required=True)
    modality = fields.String(required=True)
    stage = fields.String(required=True)
    requested_subsidy = Yen(required=True)
    state = fields.String(required=True, metadata={"enum": APPLICATION_STATES})
    submitted_on = fields.Date(allow_none=True)
    eligible = fields.Boolean(
        attribute="eligibility_trace.ok",
        allow_none=True,
        dump_default=None,
        metadata={"description": "The stored eligibility verdict; null before submission."},
    )


class ApplicationActionsSchema(Schema):
    may_edit = fields.Boolean(required=True)
    may_submit = fields.Boolean(required=True)
    may_withdraw = fields.Boolean(required=True)
    may_screen = fields.Boolean(required=True)


class ApplicationSchema(ApplicationSummarySchema):
    eligible_cost = Yen(required=True)
    indirect_cost = Yen(required=True)
    project_start = fields.Date(required=True)
    project_end = fields.Date(required=True)
    ruleset_id = fields.Integer(allow_none=True)
    ruleset_version = fields.Integer(
        attribute="ruleset.version",
        allow_none=True,
        dump_default=None,
        metadata={"description": "The rule set version pinned at submission."},
    )
    decision_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    plan = fields.List(fields.Nested(PlannedMilestoneSchema), required=True)
    co_investments = fields.List(fields.Nested(CoInvestmentSchema), required=True)
    warnings = fields.Function(
        lambda application: localise(application_queries.plan_warnings(application)),
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "What would stop a submission although each piece was saved.",
        },
    )
    eligibility_trace = fields.Nested(
        TraceSchema, allow_none=True, metadata={"description": "Stored at submission."}
    )
    actions = ForCaller(
        ApplicationActionsSchema,
        application_actions,
        metadata={"description": "What the caller may do with the application now."},
    )


class EligibilitySchema(Schema):
    application_id = fields.Integer(required=True)
    source = fields.String(
        required=True,
        metadata={
            "enum": ["stored", "preview", "none"],
            "description": "stored: the trace stored at submission; preview: the draft as it "
            "stands, under the rule set in force today; none: no trace (see reason).",
        },
    )
    ruleset_id = fields.Integer(allow_none=True)
    ruleset_version = fields.Integer(allow_none=True)
    trace = fields.Nested(TraceSchema, allow_none=True)
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "Why there is no trace: no_ruleset_in_force (a draft, and no rule "
            "set in force today) or not_submitted (withdrawn before submission)."
        },
    )
    message = fields.String(allow_none=True)


class CertifiedVcSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    status = fields.String(
        required=True, metadata={"enum": ["certified", "revoked", "expired", "not_certified"]}
    )
    certified_today = fields.Boolean(required=True)
    certified_on = fields.Date(
        allow_none=True,
        metadata={"description": "Of the certification covering today, else the latest one."},
    )
    expires_on = fields.Date(allow_none=True)
    revoked_on = fields.Date(allow_none=True)
