"""The caller's own personal API tokens, and the bearer-token check of every API request."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.tokens import service as tokens
from grants.accounts.tokens.models import ApiToken
from grants.accounts.tokens.rules import TokenScope, allows, default_expiry, status
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.errors import render_error
from grants.core.http.i18n import localise
from grants.core.http.schemas import ErrorSchema, today
from grants.core.models import utcnow

blp = ApiBlueprint(
    "api_tokens", __name__, url_prefix="/api/v1/tokens", description="My personal API tokens."
)
_SCOPES = [str(scope) for scope in TokenScope]
# In the challenge header (ASCII, not translated); the body says it in the reader's language.
_INVALID = "The token is unknown, revoked or expired"


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scope = fields.String(required=True, metadata={"enum": _SCOPES})
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(
        required=True, metadata={"description": "The end of the expiry day in Tokyo."}
    )
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    status = fields.Function(
        lambda token: str(status(token.revoked_at, token.expires_at, datetime.now(UTC))),
        required=True,
        metadata={"enum": ["active", "expired", "revoked"]},
    )


class NewTokenSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=tokens.NAME_MAX))
    scope = fields.String(
        load_default=str(TokenScope.read),
        validate=validate.OneOf(_SCOPES),
        metadata={
            "description": "read: GET only; read_write: every method. Default read.",
            "enum": _SCOPES,
        },
    )
    expires_on = fields.Date(
        metadata={
            "description": "The last day (Tokyo) the token works: from tomorrow to a year "
            "from today. Default: in 90 days."
        }
    )


class CreatedTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "Shown this once only."})


@blp.get("")
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> list[ApiToken]:
    """My tokens, newest first, with their scope, expiry and last use."""
    return tokens.tokens_of(api_actor())


@blp.post("")
@blp.arguments(NewTokenSchema)
@blp.response(201, CreatedTokenSchema)
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="second_factor_required: officers and administrators create tokens on the web.",
)
@blp.alt_response(
    422, schema=ErrorSchema, description="A name, scope or expiry out of range (fields say)."
)
def create_token(data: dict[str, Any]) -> SimpleNamespace:
    """A new token acting with my role, as far as its scope allows; its secret is in this
    answer only.

    An officer or administrator (the roles of SECOND_FACTOR_ROLES) is refused with 403
    `second_factor_required`: a token cannot give a second factor, so they create tokens on
    the web page, which asks for it."""
    day = today()
    step_up = StepUp(SecondFactorPolicy.of(current_app.config), None, utcnow())
    token, secret = tokens.create_token(
        api_actor(),
        api_actor(),
        data["name"],
        TokenScope(data["scope"]),
        data.get("expires_on") or default_expiry(day),
        day,
        step_up=step_up,
    )
    columns = [name for name in TokenSchema().fields if name != "status"]
    return SimpleNamespace(**{name: getattr(token, name) for name in columns}, token=secret)


@blp.delete("/<int:token_id>")
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of my tokens; it stops working at once."""
    tokens.revoke_token(api_actor(), token_id)


def authenticate_request() -> Response | None:
    """Bearer-token authentication for every API request (the session cookie is never used):
    401 without a token that works now, 403 for a read token asked to write."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _unauthorized(_("A valid API token is required (Authorization: Bearer <token>)."))
    bearer = tokens.authenticate(secret.strip(), datetime.now(UTC))
    if bearer.user is None or bearer.scope is None:
        return _unauthorized(localise(bearer.refusal), invalid=True)
    g.api_user = bearer.user  # known now: the refusal below is said in the owner's language
    if not allows(bearer.scope, request.method):
        message = _("This API token may only read: create a read-and-write token to change data.")
        response, status_code = render_error(403, message, code="read_only_token")
        return _with_status(response, status_code)
    return None


def _unauthorized(message: str, invalid: bool = False) -> Response:
    """401 with the challenge RFC 6750 describes: invalid_token when a token was sent."""
    response, status_code = render_error(401, message)
    challenge = 'Bearer realm="grants"'
    if invalid:
        challenge += (
            ', error="invalid_token", error_description="The token is unknown, revoked or expired"'
        )
    result = _with_status(response, status_code)
    result.headers["WWW-Authenticate"] = challenge
    return result


def _with_status(response: str | Response, status_code: int) -> Response:
    assert isinstance(response, Response)  # under /api the error is JSON
    response.status_code = status_code
    return response
