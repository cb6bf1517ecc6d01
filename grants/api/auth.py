"""Bearer-token authentication for every API request; the session cookie is never used."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import abort

from grants.models import User
from grants.services import tokens


def authenticate_request() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    user = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, message=_("A valid API token is required (Authorization: Bearer <token>)."))
    g.api_user = user


def api_actor() -> User:
    """The token's owner, to hand to a service."""
    user: User = g.api_user
    return user
