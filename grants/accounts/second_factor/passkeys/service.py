"""Passkeys and security keys (WebAuthn) as a second factor: registration and
authentication ceremonies whose challenges are kept here, each used once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from webauthn import (
    base64url_to_bytes,
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
from grants.accounts.second_factor.models import PasskeyCredential, WebAuthnChallenge
from grants.accounts.second_factor.rules import NAME_MAX, Method, SecondFactorPolicy, clean_name
from grants.accounts.second_factor.service import (
    Enrolled,
    factor_count,
    forget_recovery_codes_without_factors,
    keep_one,
    notice,
    recovery_codes_for,
)
from grants.core import audit
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.mail import Message
from grants.core.problems import N_
from grants.extensions import db

CHALLENGE_LIFETIME = timedelta(minutes=5)
_REGISTER, _AUTHENTICATE = "register", "authenticate"


@dataclass(frozen=True)
class RelyingParty:
    """This site as WebAuthn names it: the domain passkeys are bound to, its name, and the
    origin (scheme, host, port) the browser must report."""

    id: str
    name: str
    origin: str


# --- ceremonies -----------------------------------------------------------


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
    first = factor_count(actor.id) == 0
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
    codes = recovery_codes_for(actor) if first else []
    db.session.commit()
    what = N_("A passkey or security key (“%(name)s”) was added to your account.", name=name)
    return Enrolled(codes, notice(actor, what))


@use_case
def remove_passkey(actor: User, passkey_id: int, policy: SecondFactorPolicy) -> Message:
    passkey = db.session.get(PasskeyCredential, passkey_id)
    if passkey is None or passkey.user_id != actor.id:
        raise NotFound(N_("Not found."))
    keep_one(actor, policy)
    db.session.delete(passkey)
    audit.record(actor, "second_factor.passkey_remove", passkey, before={"name": passkey.name})
    forget_recovery_codes_without_factors(actor)
    db.session.commit()
    what = N_(
        "The passkey or security key “%(name)s” was removed from your account.", name=passkey.name
    )
    return notice(actor, what)


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


# --- helpers ------------------------------------------------------------------------


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
