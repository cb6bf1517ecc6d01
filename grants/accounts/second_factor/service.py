"""Second-factor use cases: enrol an authenticator app or a passkey, give a factor at sign-in
or again before a sensitive action, recovery codes, removal, and an administrator's reset.

Each change returns the notice to e-mail to the account's owner; the edge sends it once the
use case committed. Neither secrets nor codes are ever audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from grants.accounts.models import User
from grants.accounts.second_factor.models import (
    PasskeyCredential,
    RecoveryCode,
    TotpAuthenticator,
    WebAuthnChallenge,
)
from grants.accounts.second_factor.rules import (
    NAME_MAX,
    Method,
    SecondFactorPolicy,
    SecretBox,
    clean_name,
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

CHALLENGE_LIFETIME = timedelta(minutes=5)
_REGISTER, _AUTHENTICATE = "register", "authenticate"


class SecondFactorRequired(NotAllowed):
    """The action needs the second factor given recently (HTTP 403)."""

    api_code = "second_factor_required"


@dataclass(frozen=True)
class RelyingParty:
    """This site as WebAuthn names it: the domain passkeys are bound to, its name, and the
    origin (scheme, host, port) the browser must report."""

    id: str
    name: str
    origin: str


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
    first = _factor_count(actor.id) == 0
    totp.confirmed_at = now
    totp.last_used_step = step
    audit.record(actor, "second_factor.totp_add", totp, after={"confirmed": True})
    codes = _new_recovery_codes(actor) if first else []
    db.session.commit()
    return Enrolled(codes, _notice(actor, N_("An authenticator app was added to your account.")))


@use_case
def remove_totp(actor: User, policy: SecondFactorPolicy) -> Message:
    totp = _totp(actor.id, confirmed=True)
    if totp is None:
        raise NotFound(N_("Not found."))
    _keep_one(actor, policy)
    db.session.delete(totp)
    audit.record(actor, "second_factor.totp_remove", totp)
    _forget_recovery_codes_without_factors(actor)
    db.session.commit()
    return _notice(actor, N_("The authenticator app was removed from your account."))


@use_case
def enrol_demo_totp(actor: Actor, user: User, secret: str, box: SecretBox, now: datetime) -> None:
    """Demo data only: gives a demo account an authenticator app with a secret the README
    publishes (as it publishes the demo password), so that the demo's officers and
    administrator can sign in. Audited like any enrolment; never used outside the demo."""
    if _factor_count(user.id):
        return
    db.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
    totp = TotpAuthenticator(user_id=user.id, secret_sealed=box.seal(secret), confirmed_at=now)
    db.session.add(totp)
    audit.record(actor, "second_factor.totp_add", totp, after={"confirmed": True, "demo": True})
    db.session.commit()


# --- passkeys and security keys -----------------------------------------------------------


@use_case
def passkey_registration_options(actor: User, party: RelyingParty, now: datetime) -> str:
    """The options for navigator.credentials.create(), as JSON; its challenge is kept here
    until used once or expired."""
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=party.name,
        user_id=str(actor.id).encode(),
        user_name=actor.email,
        user_display_name=actor.name,
        exclude_credentials=_descriptors(actor.id),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _keep_challenge(actor, _REGISTER, options.challenge, now)
    db.session.commit()
    return options_to_json(options)


@use_case
def register_passkey(
    actor: User, name: str, credential: str, party: RelyingParty, now: datetime
) -> Enrolled:
    """Verify the browser's answer to the registration options and keep the credential."""
    name = clean_name(name)
    if not name or len(name) > NAME_MAX:
        message = N_("Give the passkey a name of at most %(n)d characters.", n=NAME_MAX)
        raise RuleViolation(message, {"name": [message]})
    challenge = _take_challenge(actor.id, _REGISTER, now)
    try:
        verified = verify_registration_response(
            credential=_json(credential),
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=party.origin,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError):
        raise _passkey_refused() from None
    if db.session.scalar(
        select(PasskeyCredential.id).where(
            PasskeyCredential.credential_id == verified.credential_id
        )
    ):
        raise Conflict(N_("This passkey is registered already."))
    first = _factor_count(actor.id) == 0
    passkey = PasskeyCredential(
        user_id=actor.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(_transports(credential)),
        name=name,
    )
    db.session.add(passkey)
    audit.record(actor, "second_factor.passkey_add", passkey, after={"name": name})
    codes = _new_recovery_codes(actor) if first else []
    db.session.commit()
    what = N_("A passkey or security key (“%(name)s”) was added to your account.", name=name)
    return Enrolled(codes, _notice(actor, what))


@use_case
def remove_passkey(actor: User, passkey_id: int, policy: SecondFactorPolicy) -> Message:
    passkey = db.session.get(PasskeyCredential, passkey_id)
    if passkey is None or passkey.user_id != actor.id:
        raise NotFound(N_("Not found."))
    _keep_one(actor, policy)
    db.session.delete(passkey)
    audit.record(actor, "second_factor.passkey_remove", passkey, before={"name": passkey.name})
    _forget_recovery_codes_without_factors(actor)
    db.session.commit()
    what = N_(
        "The passkey or security key “%(name)s” was removed from your account.", name=passkey.name
    )
    return _notice(actor, what)


@use_case
def passkey_sign_in_options(user: User, party: RelyingParty, now: datetime) -> str:
    """The options for navigator.credentials.get() with the user's own credentials, as JSON."""
    descriptors = _descriptors(user.id)
    if not descriptors:
        raise NotFound(N_("You have no passkey."))
    options = generate_authentication_options(
        rp_id=party.id,
        allow_credentials=descriptors,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _keep_challenge(user, _AUTHENTICATE, options.challenge, now)
    db.session.commit()
    return options_to_json(options)


@use_case
def verify_passkey(user: User, credential: str, party: RelyingParty, now: datetime) -> Method:
    """The user's second factor given with a passkey: its answer to the kept challenge."""
    challenge = _take_challenge(user.id, _AUTHENTICATE, now)
    data = _json(credential)
    passkey = _passkey_of(user.id, data)
    try:
        verified = verify_authentication_response(
            credential=data,
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError):
        raise _passkey_refused() from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    audit.record(user, "second_factor.verify", passkey, after={"method": str(Method.passkey)})
    db.session.commit()
    return Method.passkey


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
    if _factor_count(actor.id) == 0:
        raise Conflict(N_("Set up a second factor first."))
    codes = _new_recovery_codes(actor)
    db.session.commit()
    what = N_("New recovery codes were made for your account; the old ones no longer work.")
    return codes, _notice(actor, what)


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
    removed = _factor_count(user.id)
    for model in (TotpAuthenticator, PasskeyCredential, RecoveryCode, WebAuthnChallenge):
        db.session.execute(delete(model).where(model.user_id == user.id))
    user.session_version += 1
    audit.record(actor, "second_factor.reset", user, after={"factors_removed": removed})
    db.session.commit()
    what = N_(
        "An administrator removed every second factor of your account and signed it out. "
        "Sign in with your password and set up a new second factor."
    )
    return _notice(user, what)


# --- helpers ------------------------------------------------------------------------------


def _totp(user_id: int, *, confirmed: bool) -> TotpAuthenticator | None:
    query = select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)
    if confirmed:
        query = query.where(TotpAuthenticator.confirmed_at.is_not(None))
    else:
        query = query.where(TotpAuthenticator.confirmed_at.is_(None))
    return db.session.scalar(query)


def _factor_count(user_id: int) -> int:
    totp = select(func.count()).where(
        TotpAuthenticator.user_id == user_id, TotpAuthenticator.confirmed_at.is_not(None)
    )
    passkeys = select(func.count()).where(PasskeyCredential.user_id == user_id)
    return int(db.session.scalar(totp) or 0) + int(db.session.scalar(passkeys) or 0)


def _keep_one(actor: User, policy: SecondFactorPolicy) -> None:
    if policy.required_for(actor.role) and _factor_count(actor.id) <= 1:
        raise Conflict(
            N_("Your role needs a second factor: add another one before you remove this one.")
        )


def _forget_recovery_codes_without_factors(actor: User) -> None:
    db.session.flush()
    if _factor_count(actor.id) == 0:
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))


def _new_recovery_codes(actor: User) -> list[str]:
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


def _keep_challenge(user: User, purpose: str, challenge: bytes, now: datetime) -> None:
    db.session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.user_id == user.id, WebAuthnChallenge.purpose == purpose
        )
    )
    db.session.add(
        WebAuthnChallenge(
            user_id=user.id,
            purpose=purpose,
            challenge=challenge,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )


def _take_challenge(user_id: int, purpose: str, now: datetime) -> bytes:
    """The kept challenge, deleted in the same statement and committed at once: it is spent
    whatever follows (a wrong answer too), and a second use finds none."""
    row = db.session.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.user_id == user_id, WebAuthnChallenge.purpose == purpose)
        .returning(WebAuthnChallenge.challenge, WebAuthnChallenge.expires_at)
    ).first()
    db.session.commit()
    if row is None or row.expires_at <= now:
        raise Conflict(N_("This request expired or was used already. Try again."))
    return bytes(row.challenge)


def _descriptors(user_id: int) -> list[PublicKeyCredentialDescriptor]:
    rows = db.session.execute(
        select(PasskeyCredential.credential_id, PasskeyCredential.transports).where(
            PasskeyCredential.user_id == user_id
        )
    )
    return [
        PublicKeyCredentialDescriptor(
            id=bytes(credential_id), transports=_known_transports(transports.split(","))
        )
        for credential_id, transports in rows
    ]


def _known_transports(names: list[str]) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(name) for name in names if name in known]


def _transports(credential: str) -> list[str]:
    response = _json(credential).get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(transports, list):
        return []
    return [t.value for t in _known_transports([str(name) for name in transports])]


def _passkey_of(user_id: int, data: dict[str, Any]) -> PasskeyCredential:
    from webauthn import base64url_to_bytes

    try:
        credential_id = base64url_to_bytes(str(data.get("rawId") or data.get("id") or ""))
    except ValueError:
        raise _passkey_refused() from None
    passkey = db.session.scalar(
        select(PasskeyCredential).where(
            PasskeyCredential.user_id == user_id, PasskeyCredential.credential_id == credential_id
        )
    )
    if passkey is None:
        raise _passkey_refused()
    return passkey


def _json(credential: str) -> dict[str, Any]:
    try:
        data = json.loads(credential)
    except ValueError:
        raise _passkey_refused() from None
    if not isinstance(data, dict):
        raise _passkey_refused()
    return data


def _passkey_refused() -> RuleViolation:
    message = N_("The passkey's answer could not be verified. Try again.")
    return RuleViolation(message, {"credential": [message]})


def _notice(user: User, what: Problem) -> Message:
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
