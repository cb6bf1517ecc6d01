"""Schemas shared by the grant, milestone and release resources, and how milestones are dumped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from grants.awards.models import Disbursement, Milestone
from grants.core.http.schemas import Yen
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db

GRANT_STATES = [state.value for state in GrantState]
MILESTONE_STATES = [state.value for state in MilestoneState]


class CriterionSchema(Schema):
    metric = fields.String(required=True)
    target = fields.String(required=True)
    unit = fields.String(required=True)


class DisbursementSchema(Schema):
    id = fields.Integer(required=True)
    milestone_id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    budget_pool_id = fields.Integer(required=True)
    amount = Yen(required=True)
    fiscal_year = fields.Integer(required=True)
    released_by_id = fields.Integer(required=True)
    released_at = fields.DateTime(required=True)


class MilestoneSchema(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True)
    due_date = fields.Date(required=True)
    tranche_amount = Yen(required=True)
    fiscal_year = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"enum": MILESTONE_STATES})
    round = fields.Integer(
        required=True, metadata={"description": "Evidence rounds submitted so far."}
    )
    overdue = fields.Boolean(
        required=True,
        metadata={
            "description": "Flagged overdue by the scheduler's scan (after the grace period), "
            "as every page shows it; overdue_since says from when."
        },
    )
    overdue_since = fields.Date(
        allow_none=True, metadata={"description": "Set by the scheduler's overdue scan."}
    )
    decided_at = fields.DateTime(allow_none=True)
    disbursement = fields.Nested(
        DisbursementSchema, allow_none=True, metadata={"description": "The released tranche."}
    )


def is_overdue(milestone: Milestone) -> bool:
    """As every page shows it: flagged by the scan."""
    return milestone.overdue_since is not None


def disbursements_by_milestone(milestone_ids: Iterable[int]) -> dict[int, Disbursement]:
    ids = list(milestone_ids)
    if not ids:
        return {}
    query = select(Disbursement).where(Disbursement.milestone_id.in_(ids))
    return {d.milestone_id: d for d in db.session.scalars(query)}


def milestone_data(milestone: Milestone, disbursement: Disbursement | None) -> dict[str, Any]:
    return {
        "id": milestone.id,
        "grant_id": milestone.grant_id,
        "sequence": milestone.sequence,
        "title": milestone.title,
        "criteria": milestone.criteria,
        "due_date": milestone.due_date,
        "tranche_amount": milestone.tranche_amount,
        "fiscal_year": milestone.fiscal_year,
        "state": str(milestone.state),
        "round": milestone.round,
        "overdue": is_overdue(milestone),
        "overdue_since": milestone.overdue_since,
        "decided_at": milestone.decided_at,
        "disbursement": disbursement,
    }


def milestones_data(milestones: list[Milestone]) -> list[dict[str, Any]]:
    """Every milestone with its disbursement, in two queries whatever the number."""
    released = disbursements_by_milestone(m.id for m in milestones)
    return [milestone_data(m, released.get(m.id)) for m in milestones]
