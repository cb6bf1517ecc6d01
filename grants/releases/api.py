"""Tranche release: the gate trace, and the release itself (idempotent with a key header)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from grants.awards import queries as grant_queries
from grants.awards.queries import require_role, visible_milestone
from grants.awards.schemas import DisbursementSchema
from grants.core import idempotency
from grants.core.errors import DomainError
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.errors import DOMAIN_STATUS, render_error
from grants.core.http.i18n import localise
from grants.core.http.schemas import ErrorSchema, TraceSchema, Yen, today
from grants.core.idempotency import HEADER, KEY_PATTERN, Answer
from grants.core.models import KEY_MAX
from grants.core.permissions import Action
from grants.core.problems import N_
from grants.releases import service as releases
from grants.releases.queries import release_view

blp = ApiBlueprint(
    "api_releases", __name__, url_prefix="/api/v1", description="Tranche releases (officers)."
)


class PoolSchema(Schema):
    fiscal_year = fields.Integer(required=True)
    appropriation = Yen(required=True)
    committed = Yen(required=True)
    released = Yen(required=True)
    available = fields.Integer(required=True)


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
        metadata={"description": "false when I reviewed this milestone (separation of duties)."},
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
        "trace": view.trace.to_dict() if view.trace else None,
        "pool": view.pool,
        "disbursement": view.disbursement,
    }


@blp.post("/milestones/<int:milestone_id>/release")
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.response(201, DisbursementSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such milestone, or not mine to see.")
@blp.alt_response(409, schema=ErrorSchema, description="Already released, or not approved.")
@blp.alt_response(
    422, schema=ErrorSchema, description="A gate fails, the pool is short, or a reused key."
)
def release(headers: dict[str, Any], milestone_id: int) -> Any:
    """Release an approved milestone's tranche from its fiscal-year budget pool."""
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
