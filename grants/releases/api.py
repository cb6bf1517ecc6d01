"""Tranche release: the gate trace, the release itself (idempotent with a key header), and the
two-officer release of a tranche above its programme's threshold (prepare, approve, cancel)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request, url_for
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from grants.awards import queries as grant_queries
from grants.awards.queries import require_role, visible_milestone
from grants.awards.rules import PreparedReleaseState
from grants.awards.schemas import DisbursementSchema
from grants.core import idempotency
from grants.core.db import ID_MAX
from grants.core.errors import DomainError
from grants.core.http.api import ApiBlueprint, DbId, api_actor
from grants.core.http.errors import error_json
from grants.core.http.i18n import localise
from grants.core.http.schemas import (
    ErrorBodySchema,
    ErrorSchema,
    PageArgs,
    TraceSchema,
    Yen,
    list_args,
    listed,
    page_schema,
    paginate,
    today,
)
from grants.core.idempotency import HEADER, KEY_PATTERN, Answer
from grants.core.models import KEY_MAX
from grants.core.permissions import Action
from grants.core.problems import N_
from grants.releases import service as releases
from grants.releases.queries import RELEASES, awaiting_release, prepared_releases, release_view

# Room for "#<milestone id>" after a bulk release's key.
ITEM_SUFFIX_MAX = 1 + len(str(ID_MAX))

blp = ApiBlueprint(
    "api_releases", __name__, url_prefix="/api/v1", description="Tranche releases (officers)."
)


class PoolSchema(Schema):
    fiscal_year = fields.Integer(required=True)
    appropriation = Yen(required=True)
    committed = Yen(required=True)
    released = Yen(required=True)
    available = fields.Integer(required=True)


class PreparedReleaseSchema(Schema):
    id = fields.Integer(required=True)
    milestone_id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    amount = Yen(required=True)
    fiscal_year = fields.Integer(required=True)
    state = fields.String(
        required=True, metadata={"enum": [str(state) for state in PreparedReleaseState]}
    )
    prepared_by_id = fields.Integer(required=True)
    prepared_at = fields.DateTime(required=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    disbursement_id = fields.Integer(allow_none=True)


class ReleaseViewSchema(Schema):
    milestone_id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    tranche_amount = Yen(required=True)
    fiscal_year = fields.Integer(required=True)
    releasable = fields.Boolean(
        required=True,
        metadata={"description": "Approved, not yet released, and the grant is active."},
    )
    allowed = fields.Boolean(
        required=True,
        metadata={
            "description": "I may take the tranche's next step (release, prepare or approve): "
            "false when I reviewed this milestone, awarded the grant or prepared the release "
            "(separation of duties)."
        },
    )
    needs_second_officer = fields.Boolean(
        required=True,
        metadata={
            "description": "Above the programme's release threshold: one officer prepares the "
            "release, another approves it."
        },
    )
    may_release = fields.Boolean(required=True)
    may_prepare = fields.Boolean(required=True)
    may_approve = fields.Boolean(required=True)
    may_cancel = fields.Boolean(required=True)
    refusal = fields.String(
        allow_none=True, metadata={"description": "Why I may not take the next step."}
    )
    prepared = fields.Nested(
        PreparedReleaseSchema,
        allow_none=True,
        metadata={"description": "The prepared release waiting for a second officer."},
    )
    trace = fields.Nested(
        TraceSchema,
        allow_none=True,
        metadata={
            "description": "The pinned rule set's tranche gates for today; null once released."
        },
    )
    pool = fields.Nested(PoolSchema, allow_none=True)
    disbursement = fields.Nested(DisbursementSchema, allow_none=True)


class PreparedArgs(PageArgs):
    state = fields.String(
        load_default=str(PreparedReleaseState.pending),
        validate=validate.OneOf([str(state) for state in PreparedReleaseState]),
    )
    program_id = DbId(strict=False)


class IdempotencyHeaderSchema(Schema):
    key = fields.String(
        data_key=HEADER,
        validate=[
            validate.Length(min=1, max=KEY_MAX),
            validate.Regexp(
                f"^{KEY_PATTERN}$", error=N_("Use visible ASCII characters only (no spaces).")
            ),
        ],
        metadata={
            "description": "Optional. The first request with a key releases and stores its "
            "answer; any later request of mine with the same key gets exactly that status "
            "and body again without acting (errors included). Reusing a key for another "
            "path is a 422."
        },
    )


class AwaitingSchema(Schema):
    milestone_id = fields.Integer(required=True, attribute="id")
    grant_id = fields.Integer(required=True)
    grant_number = fields.String(required=True, attribute="number")
    organization_name = fields.String(required=True)
    sequence = fields.Integer(required=True)
    title = fields.String(required=True)
    due_date = fields.Date(required=True)
    approved_at = fields.DateTime(allow_none=True, attribute="decided_at")
    fiscal_year = fields.Integer(required=True)
    tranche_amount = Yen(required=True)


AwaitingPageSchema = page_schema(
    AwaitingSchema,
    amount=Yen(required=True, metadata={"description": "The sum of every listed tranche."}),
)


AWAITING_ARGS = list_args(RELEASES, "AwaitingReleaseArgs")


@blp.get("/releases/awaiting")
@blp.arguments(AWAITING_ARGS.schema, location="query")
@blp.response(200, AwaitingPageSchema)
def awaiting(args: dict[str, Any]) -> dict[str, Any]:
    """Approved tranches of active grants not released yet (officers and admins), oldest due
    first unless `sort` says otherwise; filters: `program_id`, `fiscal_year`, `q`."""
    require_role(api_actor(), Action.view_portfolio)
    page = awaiting_release(AWAITING_ARGS.query(args))
    return listed(page) | {"amount": page.amount}


class BulkReleaseSchema(Schema):
    milestone_ids = fields.List(
        DbId(),
        required=True,
        validate=validate.Length(min=1, max=releases.BULK_MAX),
        metadata={"description": "The tranches to release, each once, in this order."},
    )


class BulkKeySchema(Schema):
    key = fields.String(
        data_key=HEADER,
        validate=[
            validate.Length(min=1, max=KEY_MAX - ITEM_SUFFIX_MAX),
            validate.Regexp(
                f"^{KEY_PATTERN}$", error="Use visible ASCII characters only (no spaces)."
            ),
        ],
        metadata={
            "description": "Optional. Each tranche is released as its own single release "
            "with the key `<key>#<milestone id>` (POST /milestones/<id>/release): a retry "
            "with the same key and milestones acts on none of them again and replays each "
            "one's answer (marked replayed); a milestone added on the retry is released."
        },
    )


class Answered(fields.Nested):
    """An object as an answer already holds it (dumped, or stored with an idempotency key),
    documented by its schema."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class BulkItemSchema(Schema):
    milestone_id = fields.Integer(required=True)
    status = fields.Integer(
        required=True,
        metadata={"description": "What the single release answers: 201 or its error's."},
    )
    outcome = fields.String(required=True, metadata={"enum": ["released", "refused"]})
    disbursement = Answered(DisbursementSchema, allow_none=True)
    error = Answered(ErrorBodySchema, allow_none=True)
    replayed = fields.Boolean(required=True)


class BulkResultSchema(Schema):
    items = fields.List(fields.Nested(BulkItemSchema), required=True)
    released = fields.Integer(required=True)
    refused = fields.Integer(required=True)


@blp.post("/releases/bulk")
@blp.arguments(BulkKeySchema, location="headers")
@blp.arguments(BulkReleaseSchema)
@blp.response(200, BulkResultSchema)
@blp.alt_response(422, schema=ErrorSchema, description="No milestone, too many, or a bad key.")
def bulk_release(headers: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Release several approved tranches, each as its own release with every gate checked
    (as POST /milestones/<id>/release would), and answer each one's outcome: released with
    its disbursement, or refused with the error the single release would give."""
    actor = api_actor()
    require_role(actor, Action.release_tranche)
    key = headers.get("key")
    answers = [
        _answer(actor, milestone_id, None if key is None else f"{key}#{milestone_id}")
        for milestone_id in dict.fromkeys(data["milestone_ids"])
    ]
    items = [_item(milestone_id, answer) for milestone_id, answer in answers]
    released = sum(item["outcome"] == "released" for item in items)
    return {"items": items, "released": released, "refused": len(items) - released}


def _answer(actor: Any, milestone_id: int, key: str | None) -> tuple[int, Answer]:
    """The single release's answer for one tranche (stored and replayed under `key`)."""
    try:
        visible_milestone(actor, milestone_id)
        if key is None:
            return milestone_id, _perform(actor, milestone_id)
        path = url_for("api_releases.release", milestone_id=milestone_id)
        return milestone_id, _with_key(actor, milestone_id, key, "POST", path)
    except DomainError as error:
        return milestone_id, _error_answer(error)


def _item(milestone_id: int, answer: Answer) -> dict[str, Any]:
    released = answer.status == 201
    return {
        "milestone_id": milestone_id,
        "status": answer.status,
        "outcome": "released" if released else "refused",
        "disbursement": answer.body if released else None,
        "error": None if released else answer.body.get("error"),
        "replayed": answer.replayed,
    }


@blp.get("/milestones/<int:milestone_id>/release")
@blp.response(200, ReleaseViewSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such milestone, or not mine to see.")
def show(milestone_id: int) -> dict[str, Any]:
    """The tranche gates of the pinned rule set, evaluated for today, and the budget pool."""
    actor = api_actor()
    milestone, _subject = visible_milestone(actor, milestone_id)
    require_role(actor, Action.release_tranche)
    view = release_view(actor, milestone, today())
    return {
        "milestone_id": milestone.id,
        "grant_id": milestone.grant_id,
        "tranche_amount": milestone.tranche_amount,
        "fiscal_year": milestone.fiscal_year,
        "releasable": view.releasable,
        "allowed": view.allowed,
        "needs_second_officer": view.needs_second_officer,
        "may_release": view.may_release,
        "may_prepare": view.may_prepare,
        "may_approve": view.may_approve,
        "may_cancel": view.may_cancel,
        "refusal": localise(view.refusal) if view.refusal else None,
        "prepared": view.prepared,
        "trace": view.trace.to_dict() if view.trace else None,
        "pool": view.pool,
        "disbursement": view.disbursement,
    }


@blp.post("/milestones/<int:milestone_id>/release")
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.response(201, DisbursementSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such milestone, or not mine to see.")
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="Not an officer; I reviewed it or awarded the grant; or above the programme's "
    "threshold (prepare it instead).",
)
@blp.alt_response(
    409, schema=ErrorSchema, description="Already released, not approved, or prepared."
)
@blp.alt_response(
    422, schema=ErrorSchema, description="A gate fails, the pool is short, or a reused key."
)
def release(headers: dict[str, Any], milestone_id: int) -> Any:
    """Release an approved milestone's tranche from its fiscal-year budget pool, alone: a
    tranche at most the programme's release threshold."""
    actor = api_actor()
    visible_milestone(actor, milestone_id)
    if "key" not in headers:
        return releases.release(actor, milestone_id, today())
    answer = _with_key(actor, milestone_id, headers["key"], request.method, request.path)
    response: Response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _perform(actor: Any, milestone_id: int) -> Answer:
    """Release the tranche: its disbursement (201), or the error's answer."""
    try:
        disbursement = releases.release(actor, milestone_id, today())
    except DomainError as error:
        return _error_answer(error)
    return Answer(201, DisbursementSchema().dump(disbursement))


def _with_key(actor: Any, milestone_id: int, key: str, method: str, path: str) -> Answer:
    """The release once per (actor, key): the stored answer for every later request."""

    def settle() -> Answer | None:
        """A request with this key died after releasing: its answer, from the data."""
        disbursement = grant_queries.disbursement_of(milestone_id)
        if disbursement is None or disbursement.released_by_id != actor.id:
            return None
        return Answer(201, DisbursementSchema().dump(disbursement))

    def perform() -> Answer:
        return _perform(actor, milestone_id)

    stale_after = timedelta(seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"])
    recovery = idempotency.Recovery(settle, stale_after)
    return idempotency.run(actor, key, method, path, perform, recovery)


def _error_answer(error: DomainError) -> Answer:
    """The status and body the app's error handler would send for `error`."""
    return Answer(*error_json(error))


@blp.post("/milestones/<int:milestone_id>/release/prepare")
@blp.response(201, PreparedReleaseSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer, or I reviewed it.")
@blp.alt_response(404, schema=ErrorSchema, description="No such milestone, or not mine to see.")
@blp.alt_response(
    409, schema=ErrorSchema, description="Already released, not approved, or prepared already."
)
@blp.alt_response(422, schema=ErrorSchema, description="A gate fails today.")
def prepare(milestone_id: int) -> Any:
    """Prepare the release of an approved tranche for a second officer: nothing moves until
    another officer approves it."""
    actor = api_actor()
    visible_milestone(actor, milestone_id)
    return releases.prepare_release(actor, milestone_id, today())


@blp.get("/prepared-releases")
@blp.arguments(PreparedArgs, location="query")
@blp.response(200, page_schema(PreparedReleaseSchema))
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer.")
def list_prepared(args: dict[str, Any]) -> dict[str, Any]:
    """Prepared releases, oldest first; by default those waiting for a second officer."""
    actor = api_actor()
    require_role(actor, Action.approve_release)
    return paginate(prepared_releases(args.get("state"), args.get("program_id")), args)


@blp.post("/prepared-releases/<int:prepared_id>/approve")
@blp.response(201, DisbursementSchema)
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="Not an officer; I prepared it, reviewed the milestone or awarded the grant.",
)
@blp.alt_response(404, schema=ErrorSchema, description="No such prepared release.")
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="Already released or cancelled, or the tranche changed since it was prepared.",
)
@blp.alt_response(422, schema=ErrorSchema, description="A gate fails, or the pool is short.")
def approve(prepared_id: int) -> Any:
    """Approve a prepared release as the second officer: the tranche is released now."""
    actor = api_actor()
    require_role(actor, Action.approve_release)
    return releases.approve_release(actor, prepared_id, today())


@blp.post("/prepared-releases/<int:prepared_id>/cancel")
@blp.response(200, PreparedReleaseSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer.")
@blp.alt_response(404, schema=ErrorSchema, description="No such prepared release.")
@blp.alt_response(409, schema=ErrorSchema, description="Already approved or cancelled.")
def cancel(prepared_id: int) -> Any:
    """Cancel a prepared release (the preparer withdraws it, or another officer declines)."""
    actor = api_actor()
    require_role(actor, Action.cancel_release)
    return releases.cancel_release(actor, prepared_id)
