"""Personal API tokens: created and shown once, stored hashed, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from grants.accounts.models import User
from grants.accounts.second_factor.rules import StepUp
from grants.accounts.second_factor.service import SecondFactorRequired
from grants.accounts.tokens.models import ApiToken
from grants.core import audit
from grants.core.actors import Actor
from grants.core.db import begin_writing, use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.problems import N_
from grants.extensions import db

PREFIX = "gt_"
NAME_MAX = 100
# Recording every request's use would write on every read; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


@use_case
def create_token(actor: Actor, user: User, name: str, *, step_up: StepUp) -> tuple[ApiToken, str]:
    """A new token for `user` (their own, or any user's by the system); the secret, once.
    A user whose role needs a second factor gives it again first when it is not recent
    (`step_up`); the system (the command line) is not asked."""
    _require_self(actor, user)
    if actor.id is not None and step_up.needed(actor.role):
        raise SecondFactorRequired(
            N_(
                "Creating an API token needs your second factor given in the last %(n)d "
                "minutes. Create it on the web page “API tokens”, which asks for it.",
                n=int(step_up.policy.step_up.total_seconds() // 60),
            )
        )
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        message = N_("Give the token a name of at most %(n)d characters.", n=NAME_MAX)
        raise RuleViolation(message, {"name": [message]})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(secret), prefix=secret[:8])
    db.session.add(token)
    audit.record(actor, "api_token.create", token, after={"user_id": user.id, "name": name})
    db.session.commit()
    return token, secret


@use_case
def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or (actor.id is not None and token.user_id != actor.id):
        raise NotFound(N_("Not found."))
    if token.revoked_at is not None:
        raise Conflict(N_("This token is already revoked."))
    token.revoked_at = utcnow()
    audit.record(
        actor, "api_token.revoke", token, after={"revoked_at": token.revoked_at.isoformat()}
    )
    db.session.commit()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


@use_case
def authenticate(secret: str) -> User | None:
    """The active user owning this unrevoked token, recording the time of use."""
    if not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token_id = token.id
        begin_writing()  # API reads (GET) read beside writers; this one write waits its turn
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    return token.user


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_self(actor: Actor, user: User) -> None:
    if actor.id is not None and actor.id != user.id:
        raise NotFound(N_("Not found."))


def revoke_tokens_of(actor: Actor, user: User, reason: str) -> int:
    """Revoke every working token of `user` within the caller's use case (which commits),
    one audit row each with `reason`; how many were revoked."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    found = db.session.scalars(query.with_for_update()).all()
    now = utcnow()
    for token in found:
        token.revoked_at = now
        after = {"revoked_at": now.isoformat(), "reason": reason}
        audit.record(actor, "api_token.revoke", token, after=after)
    return len(found)
