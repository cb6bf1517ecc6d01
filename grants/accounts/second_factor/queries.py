"""What the security settings, the sign-in and the admin pages show of second factors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor.models import PasskeyCredential, RecoveryCode, TotpAuthenticator
from grants.accounts.second_factor.rules import SecondFactorPolicy, SecretBox
from grants.core.actors import Actor
from grants.core.identity import Role
from grants.extensions import db


@dataclass(frozen=True)
class Passkey:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class Factors:
    """A user's second factors, and what they may do with them now."""

    totp_since: datetime | None  # when the authenticator app was confirmed; None: none
    totp_pending: bool
    passkeys: list[Passkey]
    recovery_codes_left: int
    required: bool  # the user's role must have one

    @property
    def count(self) -> int:
        return (self.totp_since is not None) + len(self.passkeys)

    @property
    def may_remove(self) -> bool:
        """Removing one leaves enough: more than one, or none needed."""
        return self.count > 1 or not self.required


def factors_of(user: User, policy: SecondFactorPolicy) -> Factors:
    totp = db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
    passkeys = db.session.scalars(
        select(PasskeyCredential)
        .where(PasskeyCredential.user_id == user.id)
        .order_by(PasskeyCredential.id)
    )
    left = select(func.count()).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return Factors(
        totp_since=totp.confirmed_at if totp else None,
        totp_pending=totp is not None and totp.confirmed_at is None,
        passkeys=[Passkey(p.id, p.name, p.created_at, p.last_used_at) for p in passkeys],
        recovery_codes_left=int(db.session.scalar(left) or 0),
        required=policy.required_for(user.role),
    )


def has_second_factor(user_id: int) -> bool:
    totp = select(TotpAuthenticator.id).where(
        TotpAuthenticator.user_id == user_id, TotpAuthenticator.confirmed_at.is_not(None)
    )
    passkey = select(PasskeyCredential.id).where(PasskeyCredential.user_id == user_id)
    return bool(db.session.scalar(select(totp.exists() | passkey.exists())))


def has_passkey(user_id: int) -> bool:
    passkey = select(PasskeyCredential.id).where(PasskeyCredential.user_id == user_id)
    return bool(db.session.scalar(select(passkey.exists())))


def pending_totp_secret(user_id: int, box: SecretBox) -> str | None:
    """The secret of an authenticator app being set up, to draw its QR code again."""
    sealed = db.session.scalar(
        select(TotpAuthenticator.secret_sealed).where(
            TotpAuthenticator.user_id == user_id, TotpAuthenticator.confirmed_at.is_(None)
        )
    )
    return box.open(sealed) if sealed else None


def may_reset(actor: Actor, user: User) -> bool:
    """Whether the admin user page offers `actor` to reset `user`'s second factor: an
    administrator, another user's, who has one, not the last active administrator's."""
    if actor.role != Role.admin or actor.id == user.id or not has_second_factor(user.id):
        return False
    if user.role != Role.admin or not user.active:
        return True
    others = select(func.count()).where(
        User.role == Role.admin, User.active.is_(True), User.id != user.id
    )
    return bool(db.session.scalar(others))
