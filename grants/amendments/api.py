"""Amendments: the grantee asks for a new due date or a tranche re-split; an officer decides."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from grants.amendments import service as amendments
from grants.amendments.queries import AMENDMENTS, amendment_list, for_grant
from grants.awards.models import Amendment
from grants.awards.queries import visible_amendment, visible_grant
from grants.core.errors import RuleViolation
from grants.core.http.api import ApiBlueprint, DbId, Text, api_actor
from grants.core.http.schemas import ErrorSchema, Yen, list_args, listed, page_schema, today
from grants.core.problems import N_
from grants.core.states import AmendmentKind, AmendmentState

blp = ApiBlueprint(
    "api_amendments",
    __name__,
    url_prefix="/api/v1",
    description="Requests to move a due date or re-split open tranches.",
)

KINDS = [kind.value for kind in AmendmentKind]
STATES = [state.value for state in AmendmentState]


class SplitItemSchema(Schema):
    milestone_id = DbId(required=True)
    amount = Yen(required=True)


class AmendmentInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"enum": KINDS})
    milestone_id = DbId(metadata={"description": "due_date: the open milestone to move."})
    new_due_date = fields.Date(metadata={"description": "due_date: the new due date."})
    new_split = fields.List(
        fields.Nested(SplitItemSchema),
        metadata={
            "description": "resplit: new tranche amounts of open milestones, adding up to "
            "their current total. A bad amount is reported under `new_split_<milestone id>`."
        },
    )
    reason = Text(
        multiline=True,
        required=True,
        metadata={"description": f"At most {amendments.REASON_MAX} characters."},
    )

    @validates_schema
    def _distinct(self, data: dict[str, Any], **_kwargs: Any) -> None:
        ids = [item["milestone_id"] for item in data.get("new_split") or []]
        if len(ids) != len(set(ids)):
            raise ValidationError(N_("Give each milestone once."), "new_split")


class DecideSchema(Schema):
    approve = fields.Boolean(required=True)
    note = Text(
        multiline=True,
        load_default="",
        metadata={
            "description": f"Required when declining; at most {amendments.REASON_MAX} characters."
        },
    )


class AmendmentSchema(Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": KINDS})
    state = fields.String(required=True, metadata={"enum": STATES})
    milestone_id = fields.Integer(allow_none=True)
    new_due_date = fields.Date(allow_none=True)
    new_split = fields.List(fields.Nested(SplitItemSchema), allow_none=True)
    reason = fields.String(required=True)
    requested_by_id = fields.Integer(allow_none=True)
    requested_at = fields.DateTime(required=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)


class AmendmentListItemSchema(AmendmentSchema):
    grant_number = fields.String(required=True)
    organization_name = fields.String(required=True)
    milestone_title = fields.String(allow_none=True)


AMENDMENT_LIST_ARGS = list_args(AMENDMENTS, "AmendmentListArgs")


@blp.get("/amendments")
@blp.arguments(AMENDMENT_LIST_ARGS.schema, location="query")
@blp.response(200, page_schema(AmendmentListItemSchema))
def list_all(args: dict[str, Any]) -> dict[str, Any]:
    """Amendment requests across the grants I may see, oldest first unless `sort` says
    otherwise; filters: `state` (`requested`: waiting for an officer), `kind`, `program_id`
    and `q` (in the grant's number, the reason and the organisation's names)."""
    page = amendment_list(api_actor(), AMENDMENT_LIST_ARGS.query(args))
    items = [
        _data(amendment)
        | {"grant_number": number, "organization_name": name, "milestone_title": title}
        for amendment, number, name, _name_en, _sequence, title in page.items
    ]
    return listed(page, items)


@blp.get("/grants/<int:grant_id>/amendments")
@blp.response(200, AmendmentSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
def list_amendments(grant_id: int) -> list[dict[str, Any]]:
    """The grant's amendment requests, newest first."""
    visible_grant(api_actor(), grant_id)
    return [_data(amendment) for amendment in for_grant(grant_id)]


@blp.post("/grants/<int:grant_id>/amendments")
@blp.arguments(AmendmentInSchema)
@blp.response(201, AmendmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such grant, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="The grant is not active.")
def request_amendment(data: dict[str, Any], grant_id: int) -> dict[str, Any]:
    """Ask for a new due date of one open milestone, or a re-split of open tranches.

    A milestone takes one pending request at a time: a request touching a milestone that
    another request waiting for a decision touches is refused (422, under `milestone_id`,
    or `new_split_<milestone id>` for each such milestone of a re-split).
    """
    actor = api_actor()
    visible_grant(actor, grant_id)
    split = data.get("new_split")
    try:
        amendment = amendments.request_amendment(
            actor,
            grant_id,
            data["kind"],
            data.get("milestone_id"),
            data.get("new_due_date"),
            {item["milestone_id"]: item["amount"] for item in split} if split is not None else None,
            data["reason"],
            today(),
        )
    except RuleViolation as error:
        # as documented: a milestone's new tranche under `new_split_<milestone id>`
        fields = {key.replace(".", "_"): messages for key, messages in error.fields.items()}
        raise RuleViolation(error.message, fields) from None
    return _data(amendment)


@blp.post("/amendments/<int:amendment_id>/decide")
@blp.arguments(DecideSchema)
@blp.response(200, AmendmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such amendment, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="Already decided or withdrawn.")
def decide(data: dict[str, Any], amendment_id: int) -> dict[str, Any]:
    """Approve (milestones and pools change at once) or decline with a note (officers)."""
    actor = api_actor()
    visible_amendment(actor, amendment_id)
    amendment = amendments.decide_amendment(
        actor, amendment_id, data["approve"], data["note"], today()
    )
    return _data(amendment)


@blp.post("/amendments/<int:amendment_id>/withdraw")
@blp.response(200, AmendmentSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such amendment, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="Already decided or withdrawn.")
def withdraw(amendment_id: int) -> dict[str, Any]:
    """The requester takes the request back before it is decided."""
    actor = api_actor()
    visible_amendment(actor, amendment_id)
    return _data(amendments.withdraw_amendment(actor, amendment_id))


def _data(amendment: Amendment) -> dict[str, Any]:
    split = amendment.new_split
    return {
        "id": amendment.id,
        "grant_id": amendment.grant_id,
        "kind": str(amendment.kind),
        "state": str(amendment.state),
        "milestone_id": amendment.milestone_id,
        "new_due_date": amendment.new_due_date,
        "new_split": (
            [{"milestone_id": int(mid), "amount": amount} for mid, amount in split.items()]
            if split is not None
            else None
        ),
        "reason": amendment.reason,
        "requested_by_id": amendment.requested_by_id,
        "requested_at": amendment.requested_at,
        "decided_by_id": amendment.decided_by_id,
        "decided_at": amendment.decided_at,
        "decision_note": amendment.decision_note,
    }
