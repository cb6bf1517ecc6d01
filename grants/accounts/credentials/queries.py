"""What the credential pages show: a link's account, an account's password state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from grants.accounts.credentials.models import CredentialLink
from grants.accounts.credentials.rules import LinkPurpose, link_refusal, refusal_error, secret_hash
from grants.accounts.models import User
from grants.extensions import db


@dataclass(frozen=True)
class OpenLink:
    """The account a working link sets the password of."""

    email: str
    name: str
    purpose: LinkPurpose
    expires_at: datetime


def open_link(secret: str, purpose: LinkPurpose, now: datetime) -> OpenLink:
    """The link's account, for the page that sets its password; a link that does not work
    raises what set_password would (rules.refusal_error), and nothing is written."""
    link = db.session.scalar(
        select(CredentialLink).where(CredentialLink.token_hash == secret_hash(secret))
    )
    refusal = link_refusal(purpose, link.state() if link else None, now)
    if refusal is not None:
        raise refusal_error(refusal)
    assert link is not None  # no refusal: the link exists
    return OpenLink(link.user.email, link.user.name, link.purpose, link.expires_at)


@dataclass(frozen=True)
class PasswordState:
    """For the administrator's account page: whether the account has chosen a password,
    and until when its newest working link (invitation or reset) works."""

    has_password: bool
    link_purpose: LinkPurpose | None
    link_expires_at: datetime | None


def password_state(user: User, now: datetime) -> PasswordState:
    link = db.session.scalar(
        select(CredentialLink)
        .where(
            CredentialLink.user_id == user.id,
            CredentialLink.used_at.is_(None),
            CredentialLink.revoked_at.is_(None),
            CredentialLink.expires_at > now,
        )
        .order_by(CredentialLink.id.desc())
        .limit(1)
    )
    return PasswordState(
        has_password=user.password_hash is not None,
        link_purpose=link.purpose if link else None,
        link_expires_at=link.expires_at if link else None,
    )
