"""VC paid-in investments of a grant: recorded by one officer, verified by another."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from grants.awards.models import Investment
from grants.awards.queries import require_role, visible_grant, visible_investment
from grants.core.http.api import ApiBlueprint, DbId, Text, api_actor
from grants.core.http.schemas import ErrorSchema, Yen, today
from grants.core.permissions import Action
from grants.investments import service as investments
from grants.investments.queries import for_grant

blp = ApiBlueprint(
    "api_investments",
    __name__,
    url_prefix="/api/v1",
    description="VC paid-in investments (officers).",
)


class InvestmentInSchema(Schema):
    vc_organization_id = DbId(
        required=True,
        metadata={"description": "One of the grant's co-investing VCs (see the grant)."},
    )
    amount = Yen(required=True, metadata={"description": "Greater than zero."})
    paid_on = fields.Date(required=True, metadata={"description": "Not in the future."})
    evidence = Text(
        required=True,
        metadata={
            "description": "A reference to the payment, e.g. the bank transfer number; at "
            f"most {investments.EVIDENCE_MAX} characters."
        },
    )


class InvestmentSchema(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    vc_organization_id = fields.Integer(required=True)
    vc_name = fields.String(required=True)
    amount = Yen(required=True)
    paid_on = fields.Date(required=True)
    evidence = fields.String(required=True)
    recorded_by_id = fields.Integer(required=True)
    recorded_at = fields.DateTime(required=True)
    verified = fields.Boolean(
        required=True, metadata={"description": "Only verified money counts as paid in."}
    )
    verified_by_id = fields.Integer(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)


@blp.get("/grants/<int:grant_id>/investments")
@blp.response(200, InvestmentSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def list_investments(grant_id: int) -> list[dict[str, Any]]:
    """Every recorded investment of the grant, by payment date."""
    actor = api_actor()
    visible_grant(actor, grant_id)
    require_role(actor, Action.record_investment)
    return [_data(investment) for investment in for_grant(grant_id)]


@blp.post("/grants/<int:grant_id>/investments")
@blp.arguments(InvestmentInSchema)
@blp.response(201, InvestmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="The grant is closed.")
def record(data: dict[str, Any], grant_id: int) -> dict[str, Any]:
    """Record money a co-investing VC paid in; it counts once another officer verifies it."""
    actor = api_actor()
    visible_grant(actor, grant_id)
    investment = investments.record_investment(
        actor,
        grant_id,
        data["vc_organization_id"],
        data["amount"],
        data["paid_on"],
        data["evidence"],
        today(),
    )
    return _data(investment)


@blp.post("/investments/<int:investment_id>/verify")
@blp.response(200, InvestmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such investment, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="Already verified, or not paid in yet.")
def verify(investment_id: int) -> dict[str, Any]:
    """Confirm an investment against its evidence; not by the officer who recorded it."""
    actor = api_actor()
    visible_investment(actor, investment_id)
    return _data(investments.verify_investment(actor, investment_id, today()))


def _data(investment: Investment) -> dict[str, Any]:
    return {
        "id": investment.id,
        "grant_id": investment.grant_id,
        "vc_organization_id": investment.vc_organization_id,
        "vc_name": investment.vc.name,
        "amount": investment.amount,
        "paid_on": investment.paid_on,
        "evidence": investment.evidence,
        "recorded_by_id": investment.recorded_by_id,
        "recorded_at": investment.recorded_at,
        "verified": investment.verified_at is not None,
        "verified_by_id": investment.verified_by_id,
        "verified_at": investment.verified_at,
    }
