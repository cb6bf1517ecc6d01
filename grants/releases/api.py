"""Tranche release: the gate trace, the release itself (idempotent with a key header), and the
two-officer release of a tranche above its programme's threshold (prepare, approve, cancel)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from grants.awards import queries as grant_queries
from grants.awards.queries import require_role, visible_milestone
from grants.awards.rules import PreparedReleaseState
from grants.awards.schemas import DisbursementSchema
from grants.core import idempotency
from grants.core.errors import DomainError
from grants.core.http.api import ApiBlueprint, DbId, api_actor
from grants.core.http.errors import DOMAIN_STATUS, render_error
from grants.core.http.i18n import localise
from grants.core.http.schemas import (
    ErrorSchema,
    PageArgs,
    TraceSchema,
    Yen,
    page_schema,
    paginate,
    today,
)
from grants.core.idempotency import HEADER, KEY_PATTERN, Answer
from grants.core.models import KEY_MAX
from grants.core.permissions import Action
from grants.core.problems import N_
from grants.releases import service as releases
from grants.releases.queries import prepared_releases, release_view

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

    def perform() -> Answer:
        try:
            disbursement = releases.release(actor, milestone_id, today())
        except DomainError as error:
            return _error_answer(error)
        return Answer(201, DisbursementSchema().dump(disbursement))

    def settle() -> Answer | None:
        """A request with this key died after releasing: its answer, from the data."""
        disbursement = grant_queries.disbursement_of(milestone_id)
        if disbursement is None or disbursement.released_by_id != actor.id:
            return None
        return Answer(201, DisbursementSchema().dump(disbursement))

    stale_after = timedelta(seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"])
    recovery = idempotency.Recovery(settle, stale_after)
    key = headers["key"]
    answer = idempotency.run(actor, key, request.method, request.path, perform, recovery)
    response: Response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _error_answer(error: DomainError) -> Answer:
    """The status and body the app's error handler would send for `error`."""
    status = next((s for kind, s in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
    response, status = render_error(status, localise(error.message) or None, localise(error.fields))
    assert isinstance(response, Response)  # under /api the error is JSON
    return Answer(status, response.get_json())


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
