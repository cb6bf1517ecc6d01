"""Second-factor use cases: enrol an authenticator app (passkeys are in `passkeys/`), give a
code at sign-in or again before a sensitive action, recovery codes, removal, and an
administrator's reset.

Each change returns the notice to e-mail to the account's owner; the edge sends it once the
use case committed. Neither secrets nor codes are ever audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from grants.accounts.models import User
from grants.accounts.second_factor.models import (
    PasskeyCredential,
    RecoveryCode,
    TotpAuthenticator,
    WebAuthnChallenge,
)
from grants.accounts.second_factor.rules import (
    Method,
    SecondFactorPolicy,
    SecretBox,
    is_recovery_code,
    is_totp_code,
    matching_step,
    new_recovery_codes,
    new_totp_secret,
    normalize_code,
    recovery_code_hash,
)
from grants.core import audit
from grants.core.actors import Actor, SystemActor
from grants.core.db import use_case
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.mail import Message
from grants.core.problems import N_, Problem
from grants.extensions import db


class SecondFactorRequired(NotAllowed):
    """The action needs the second factor given recently (HTTP 403)."""

    api_code = "second_factor_required"


@dataclass(frozen=True)
class Enrolled:
    """A factor added: the recovery codes made with it (the first factor only; shown once)
    and the notice to e-mail."""

    recovery_codes: list[str]
    notice: Message


# --- authenticator app --------------------------------------------------------------------


@use_case
def begin_totp(actor: User, box: SecretBox) -> str:
    """Start enrolling an authenticator app: a new secret, kept sealed until a first code
    confirms it (a pending one is replaced). Returns the secret, for the QR code."""
    if _totp(actor.id, confirmed=True) is not None:
        raise Conflict(
            N_("You already have an authenticator app. Remove it first to set up another.")
        )
    db.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == actor.id))
    secret = new_totp_secret()
    totp = TotpAuthenticator(user_id=actor.id, secret_sealed=box.seal(secret))
    db.session.add(totp)
    audit.record(actor, "second_factor.totp_begin", totp)
    db.session.commit()
    return secret


@use_case
def confirm_totp(actor: User, code: str, box: SecretBox, now: datetime) -> Enrolled:
    """The first code from the app confirms the enrolment (and counts as used)."""
    totp = _totp(actor.id, confirmed=False)
    if totp is None:
        raise Conflict(N_("Start setting up the authenticator app again."))
    secret = box.open(totp.secret_sealed)
    step = matching_step(secret, normalize_code(code), now, None) if secret else None
    if step is None:
        message = N_("This code is wrong or has expired. Enter the code your app shows now.")
        raise RuleViolation(message, {"code": [message]})
    first = factor_count(actor.id) == 0
    totp.confirmed_at = now
    totp.last_used_step = step
    audit.record(actor, "second_factor.totp_add", totp, after={"confirmed": True})
    codes = recovery_codes_for(actor) if first else []
    db.session.commit()
    return Enrolled(codes, notice(actor, N_("An authenticator app was added to your account.")))


@use_case
def remove_totp(actor: User, policy: SecondFactorPolicy) -> Message:
    totp = _totp(actor.id, confirmed=True)
    if totp is None:
        raise NotFound(N_("Not found."))
    keep_one(actor, policy)
    db.session.delete(totp)
    audit.record(actor, "second_factor.totp_remove", totp)
    forget_recovery_codes_without_factors(actor)
    db.session.commit()
    return notice(actor, N_("The authenticator app was removed from your account."))


@use_case
def enrol_demo_totp(actor: Actor, user: User, secret: str, box: SecretBox, now: datetime) -> None:
    """Demo data only: gives a demo account an authenticator app with a secret the README
    publishes (as it publishes the demo password), so that the demo's officers and
    administrator can sign in. Audited like any enrolment; never used outside the demo."""
    if factor_count(user.id):
        return
    db.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
    totp = TotpAuthenticator(user_id=user.id, secret_sealed=box.seal(secret), confirmed_at=now)
    db.session.add(totp)
    audit.record(actor, "second_factor.totp_add", totp, after={"confirmed": True, "demo": True})
    db.session.commit()


# --- codes: the app's, or a recovery code -------------------------------------------------


@use_case
def verify_code(user: User, code: str, box: SecretBox, now: datetime) -> Method:
    """The user's second factor given with a code from the authenticator app (each step's
    code once, ±1 step of clock skew) or an unused recovery code (each once)."""
    text = normalize_code(code)
    if is_totp_code(text):
        method = _use_totp(user, text, box, now)
    elif is_recovery_code(text):
        method = _use_recovery_code(user, text, now)
    else:
        method = None
    if method is None:
        message = N_(
            "This code is wrong, was used already or has expired. Enter the code your app "
            "shows now, or an unused recovery code."
        )
        raise RuleViolation(message, {"code": [message]})
    db.session.commit()
    return method


def _use_totp(user: User, code: str, box: SecretBox, now: datetime) -> Method | None:
    totp = _totp(user.id, confirmed=True)
    if totp is None:
        return None
    secret = box.open(totp.secret_sealed)
    if secret is None:
        message = N_(
            "Your authenticator app cannot be checked any more (this installation's key "
            "changed). Use a recovery code or a passkey, or ask an administrator to reset "
            "your second factor."
        )
        raise RuleViolation(message, {"code": [message]})
    step = matching_step(secret, code, now, totp.last_used_step)
    if step is None:
        return None
    # Compared and set in one statement: of two requests with the same code, one wins.
    taken = db.session.execute(
        update(TotpAuthenticator)
        .where(
            TotpAuthenticator.id == totp.id,
            (TotpAuthenticator.last_used_step.is_(None))
            | (TotpAuthenticator.last_used_step < step),
        )
        .values(last_used_step=step, secret_sealed=box.current(totp.secret_sealed))
    )
    if taken.rowcount != 1:
        return None
    audit.record(user, "second_factor.verify", totp, after={"method": str(Method.totp)})
    return Method.totp


def _use_recovery_code(user: User, code: str, now: datetime) -> Method | None:
    found = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return None
    taken = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:
        return None
    left = _unused_recovery_codes(user.id)
    after = {"method": str(Method.recovery_code), "recovery_codes_left": left}
    audit.record(user, "second_factor.verify", found, after=after)
    return Method.recovery_code


@use_case
def regenerate_recovery_codes(actor: User) -> tuple[list[str], Message]:
    """Ten new recovery codes (the old ones stop working), shown once."""
    if factor_count(actor.id) == 0:
        raise Conflict(N_("Set up a second factor first."))
    codes = recovery_codes_for(actor)
    db.session.commit()
    what = N_("New recovery codes were made for your account; the old ones no longer work.")
    return codes, notice(actor, what)


# --- an administrator's reset -------------------------------------------------------------


@use_case
def reset(actor: Actor, user_id: int) -> Message:
    """Remove every second factor of a user who lost theirs, and end their sessions: they
    sign in again with their password and set up a new one. An administrator resets another
    user's; the last active administrator's only from the command line (SYSTEM)."""
    if actor.role != Role.admin:
        raise NotAllowed(N_("Only an administrator can reset a second factor."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Not found."))
    if not isinstance(actor, SystemActor):
        if actor.id == user.id:
            raise NotAllowed(N_("Reset your own second factor from your security settings."))
        if _last_active_admin(user):
            raise NotAllowed(
                N_(
                    "This is the only active administrator: their second factor can be reset "
                    "only from the command line (flask grants reset-second-factor)."
                )
            )
    removed = factor_count(user.id)
    for model in (TotpAuthenticator, PasskeyCredential, RecoveryCode, WebAuthnChallenge):
        db.session.execute(delete(model).where(model.user_id == user.id))
    user.session_version += 1
    audit.record(actor, "second_factor.reset", user, after={"factors_removed": removed})
    db.session.commit()
    what = N_(
        "An administrator removed every second factor of your account and signed it out. "
        "Sign in with your password and set up a new second factor."
    )
    return notice(user, what)


# --- helpers ------------------------------------------------------------------------------


def _totp(user_id: int, *, confirmed: bool) -> TotpAuthenticator | None:
    query = select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)
    if confirmed:
        query = query.where(TotpAuthenticator.confirmed_at.is_not(None))
    else:
        query = query.where(TotpAuthenticator.confirmed_at.is_(None))
    return db.session.scalar(query)


def factor_count(user_id: int) -> int:
    totp = select(func.count()).where(
        TotpAuthenticator.user_id == user_id, TotpAuthenticator.confirmed_at.is_not(None)
    )
    passkeys = select(func.count()).where(PasskeyCredential.user_id == user_id)
    return int(db.session.scalar(totp) or 0) + int(db.session.scalar(passkeys) or 0)


def keep_one(actor: User, policy: SecondFactorPolicy) -> None:
    if policy.required_for(actor.role) and factor_count(actor.id) <= 1:
        raise Conflict(
            N_("Your role needs a second factor: add another one before you remove this one.")
        )


def forget_recovery_codes_without_factors(actor: User) -> None:
    db.session.flush()
    if factor_count(actor.id) == 0:
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))


def recovery_codes_for(actor: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    codes = new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=actor.id, code_hash=recovery_code_hash(code)) for code in codes
    )
    audit.record(actor, "second_factor.recovery_codes", actor, after={"count": len(codes)})
    return codes


def _unused_recovery_codes(user_id: int) -> int:
    query = select(func.count()).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
    )
    return int(db.session.scalar(query) or 0)


def _last_active_admin(user: User) -> bool:
    if user.role != Role.admin or not user.active:
        return False
    others = select(func.count()).where(
        User.role == Role.admin, User.active.is_(True), User.id != user.id
    )
    return not db.session.scalar(others)


def notice(user: User, what: Problem) -> Message:
    """The e-mail telling the account's owner that its second factors changed."""
    locale = str(user.locale)
    body = N_(
        "%(name)s,\n\n%(what)s\n\nIf you did not do this, tell an administrator at once.",
        name=user.name,
        what=what,
    )
    return Message(
        to=user.email,
        to_name=user.name,
        subject=translate(N_("Your account's second factor changed"), locale),
        body=translate(body, locale),
    )
