"""Grants: the caller's list, one grant with its milestones and money, termination, budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, fields

from grants.awards.listing.queries import GRANTS, GrantRow, grant_list
from grants.awards.models import Grant, Milestone
from grants.awards.queries import grant_money, visible_grant
from grants.awards.rules import GrantMoney
from grants.awards.schemas import (
    GRANT_STATES,
    MILESTONE_STATES,
    MilestoneSchema,
    is_overdue,
    milestones_data,
)
from grants.awards.termination import service as terminations
from grants.core.http.api import ApiBlueprint, Text, api_actor
from grants.core.http.schemas import ErrorSchema, Yen, list_args, listed, page_schema, today
from grants.core.states import UNDECIDED

blp = ApiBlueprint("api_grants", __name__, url_prefix="/api/v1", description="Awarded grants.")

GRANT_LIST_ARGS = list_args(GRANTS, "GrantFilterArgs", state_key="status", program_key="program")


class NextMilestoneSchema(Schema):
    id = fields.Integer(required=True)
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    due_date = fields.Date(required=True)
    state = fields.String(required=True, metadata={"enum": MILESTONE_STATES})


class GrantSummarySchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": GRANT_STATES})
    program_id = fields.Integer(required=True)
    program_code = fields.String(required=True)
    organization_id = fields.Integer(required=True)
    organization_name = fields.String(required=True)
    award_amount = Yen(required=True)
    released = Yen(required=True)
    remaining = fields.Integer(required=True)
    next_milestone = fields.Nested(NextMilestoneSchema, allow_none=True)
    overdue = fields.Boolean(required=True)


class ProgramRefSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name_ja = fields.String(required=True)
    name_en = fields.String(required=True)


class RuleSetRefSchema(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(allow_none=True)
    title = fields.String(required=True)
    effective_from = fields.Date(allow_none=True)


class CoInvestorSchema(Schema):
    organization_id = fields.Integer(required=True)
    name = fields.String(required=True)
    committed_amount = Yen(required=True)
    is_lead = fields.Boolean(required=True)


class GrantSchema(GrantSummarySchema):
    program = fields.Nested(ProgramRefSchema, required=True)
    ruleset = fields.Nested(
        RuleSetRefSchema, required=True, metadata={"description": "The version pinned at award."}
    )
    awarded_at = fields.DateTime(required=True)
    terminated_at = fields.DateTime(allow_none=True)
    termination_reason = fields.String(allow_none=True)
    co_investors = fields.List(fields.Nested(CoInvestorSchema), required=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), required=True)


class TerminateSchema(Schema):
    reason = Text(
        multiline=True,
        required=True,
        metadata={"description": f"At most {terminations.REASON_MAX} characters."},
    )


@blp.get("/grants")
@blp.arguments(GRANT_LIST_ARGS.schema, location="query")
@blp.response(200, page_schema(GrantSummarySchema))
def list_grants(args: dict[str, Any]) -> dict[str, Any]:
    """Grants I may see: my organization's (applicants), assigned (reviewers), all (officers),
    by number unless `sort` says otherwise (`priority`: overdue first, then by the next due
    date, as the portfolio opens).

    Filters: `status`, `program`, `fiscal_year` (grants with a milestone in that year),
    `overdue` (the next open milestone is flagged overdue by the scheduler's scan, after
    the grace period) and `q` (in the number, the title and the organisation's names)."""
    page = grant_list(api_actor(), GRANT_LIST_ARGS.query(args), today())
    return listed(page, [_row_summary(row) for row in page.items])


@blp.get("/grants/<int:grant_id>")
@blp.response(200, GrantSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def get_grant(grant_id: int) -> dict[str, Any]:
    """One grant with its milestones, released and remaining money and its pinned rule set."""
    grant, _subject = visible_grant(api_actor(), grant_id)
    return grant_data(grant)


@blp.get("/grants/<int:grant_id>/milestones")
@blp.response(200, MilestoneSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def list_milestones(grant_id: int) -> list[dict[str, Any]]:
    grant, _subject = visible_grant(api_actor(), grant_id)
    return milestones_data(list(grant.milestones))


@blp.post("/grants/<int:grant_id>/terminate")
@blp.arguments(TerminateSchema)
@blp.response(200, GrantSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The grant is already closed.")
def terminate(data: dict[str, Any], grant_id: int) -> dict[str, Any]:
    """End the grant early: unreleased tranches are cancelled and return to their pools."""
    visible_grant(api_actor(), grant_id)
    grant = terminations.terminate(api_actor(), grant_id, data["reason"], today())
    return grant_data(grant)


def grant_data(grant: Grant) -> dict[str, Any]:
    milestones = milestones_data(list(grant.milestones))
    paid = sum(m["disbursement"].amount for m in milestones if m["disbursement"])
    money = grant_money([(grant.id, grant.award_amount, paid, grant.state)])[grant.id]
    next_open = _next_open(grant.milestones)
    co_investments = sorted(grant.application.co_investments, key=lambda c: (not c.is_lead, c.id))
    return {
        **_summary(grant, money, next_open),
        "program": grant.program,
        "ruleset": grant.ruleset,
        "awarded_at": grant.awarded_at,
        "terminated_at": grant.terminated_at,
        "termination_reason": grant.termination_reason,
        "co_investors": [
            {
                "organization_id": c.vc_organization_id,
                "name": c.vc.name,
                "committed_amount": c.committed_amount,
                "is_lead": c.is_lead,
            }
            for c in co_investments
        ],
        "milestones": milestones,
    }


def _row_summary(row: GrantRow) -> dict[str, Any]:
    next_open = None
    if row.milestone_id is not None:
        next_open = {
            "id": row.milestone_id,
            "sequence": row.milestone_sequence,
            "title": row.milestone_title,
            "due_date": row.milestone_due,
            "state": str(row.milestone_state),
        }
    return {
        "id": row.grant_id,
        "number": row.number,
        "title": row.title,
        "state": str(row.state),
        "program_id": row.program_id,
        "program_code": row.program_code,
        "organization_id": row.organization_id,
        "organization_name": row.organization_name,
        "award_amount": row.award,
        "released": row.released,
        "remaining": row.remaining,
        "next_milestone": next_open,
        "overdue": row.overdue,
    }


def _next_open(milestones: Sequence[Milestone]) -> Milestone | None:
    return next((m for m in milestones if m.state in UNDECIDED), None)


def _summary(grant: Grant, money: GrantMoney, next_open: Milestone | None) -> dict[str, Any]:
    overdue = next_open is not None and is_overdue(next_open)
    return {
        "id": grant.id,
        "number": grant.number,
        "title": grant.application.title,
        "state": str(grant.state),
        "program_id": grant.program_id,
        "program_code": grant.program.code,
        "organization_id": grant.organization_id,
        "organization_name": grant.organization.name,
        "award_amount": grant.award_amount,
        "released": money.released,
        "remaining": money.remaining,
        "next_milestone": next_open,
        "overdue": overdue,
    }
