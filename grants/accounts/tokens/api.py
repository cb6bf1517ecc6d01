"""The caller's own personal API tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.tokens import service as tokens
from grants.accounts.tokens.models import ApiToken
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import ErrorSchema
from grants.core.models import utcnow

blp = ApiBlueprint(
    "api_tokens", __name__, url_prefix="/api/v1/tokens", description="My personal API tokens."
)


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=tokens.NAME_MAX))


class CreatedTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "Shown this once only."})


@blp.get("")
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> list[ApiToken]:
    return tokens.tokens_of(api_actor())


@blp.post("")
@blp.arguments(NewTokenSchema)
@blp.response(201, CreatedTokenSchema)
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="second_factor_required: officers and administrators create tokens on the web.",
)
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """A new token acting with my role; its secret is in this answer only.

    An officer or administrator (the roles of SECOND_FACTOR_ROLES) is refused with 403
    `second_factor_required`: a token cannot give a second factor, so they create tokens on
    the web page, which asks for it."""
    step_up = StepUp(SecondFactorPolicy.of(current_app.config), None, utcnow())
    token, secret = tokens.create_token(api_actor(), api_actor(), data["name"], step_up=step_up)
    return {**{name: getattr(token, name) for name in TokenSchema().fields}, "token": secret}


@blp.delete("/<int:token_id>")
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of my tokens; it stops working at once."""
    tokens.revoke_token(api_actor(), token_id)


def authenticate_request() -> None:
    """Bearer-token authentication for every API request; the session cookie is never used."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    user = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, message=_("A valid API token is required (Authorization: Bearer <token>)."))
    g.api_user = user
