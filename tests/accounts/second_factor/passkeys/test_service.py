"""Passkeys with a software authenticator: registration, sign-in, single-use challenges,
forged and malformed answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor import queries, service
from grants.accounts.second_factor.models import PasskeyCredential, WebAuthnChallenge
from grants.accounts.second_factor.passkeys import service as passkeys
from grants.accounts.second_factor.rules import (
    Method,
    SecondFactorPolicy,
    SecretBox,
    code_at,
    time_step,
)
from grants.core.errors import Conflict, RuleViolation
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.passkeys import SoftAuthenticator

NOW = datetime(2026, 4, 1, 9, 0, 15, tzinfo=UTC)
PARTY = passkeys.RelyingParty("localhost", "Milestone Grants", "http://localhost")
BOX = SecretBox(["testing-secret-key-not-for-production"])


def _policy(app: Flask) -> SecondFactorPolicy:
    return SecondFactorPolicy.of(app.config)


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _enrolled(user: User) -> None:
    secret = service.begin_totp(user, BOX)
    service.confirm_totp(user, code_at(secret, time_step(NOW)), BOX, NOW)


# --- ceremonies -----------------------------------------------------------------------------


def _register(user: User, key: SoftAuthenticator, name: str = "laptop") -> passkeys.Enrolled:
    options = json.loads(passkeys.passkey_registration_options(user, PARTY, NOW))
    return passkeys.register_passkey(user, name, key.create(options), PARTY, NOW)


def test_a_passkey_registers_and_gives_the_second_factor(app: Flask) -> None:
    user = make_user(Role.officer)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    enrolled = _register(user, key)
    assert len(enrolled.recovery_codes) == 10 and "laptop" in enrolled.notice.body
    stored = db.session.scalar(select(PasskeyCredential))
    assert stored.credential_id == key.credential_id and stored.transports == "internal"
    options = json.loads(passkeys.passkey_sign_in_options(user, PARTY, NOW))
    assert passkeys.verify_passkey(user, key.get(options), PARTY, NOW) == Method.passkey
    db.session.expire_all()
    assert db.session.scalar(select(PasskeyCredential.sign_count)) == 1
    second = _register(user, SoftAuthenticator(PARTY.id, PARTY.origin), "blue key")
    assert second.recovery_codes == []  # kept from the first factor
    assert len(queries.factors_of(user, _policy(app)).passkeys) == 2


def test_a_challenge_is_used_once(app: Flask) -> None:
    user = make_user(Role.officer)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    _register(user, key)
    options = json.loads(passkeys.passkey_sign_in_options(user, PARTY, NOW))
    answer = key.get(options)
    passkeys.verify_passkey(user, answer, PARTY, NOW)
    with pytest.raises(Conflict):
        passkeys.verify_passkey(user, answer, PARTY, NOW)
    assert _count(WebAuthnChallenge) == 0


def test_a_wrong_answer_spends_the_challenge_too(app: Flask) -> None:
    user = make_user(Role.officer)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    _register(user, key)
    options = json.loads(passkeys.passkey_sign_in_options(user, PARTY, NOW))
    phished = key.get(options, origin="https://evil.example")
    with pytest.raises(RuleViolation):
        passkeys.verify_passkey(user, phished, PARTY, NOW)
    with pytest.raises(Conflict):  # no second try with the same challenge
        passkeys.verify_passkey(user, key.get(options), PARTY, NOW)


def test_an_expired_challenge_is_refused(app: Flask) -> None:
    user = make_user(Role.officer)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    options = json.loads(passkeys.passkey_registration_options(user, PARTY, NOW))
    later = NOW + passkeys.CHALLENGE_LIFETIME
    with pytest.raises(Conflict):
        passkeys.register_passkey(user, "laptop", key.create(options), PARTY, later)
    assert not queries.has_second_factor(user.id)


@pytest.mark.parametrize(
    "answer",
    ["not json", "[]", "{}", json.dumps({"id": "x", "rawId": "x", "response": {}})],
)
def test_malformed_passkey_answers_are_refused_without_a_crash(app: Flask, answer: str) -> None:
    user = make_user(Role.officer)
    passkeys.passkey_registration_options(user, PARTY, NOW)
    with pytest.raises(RuleViolation):
        passkeys.register_passkey(user, "laptop", answer, PARTY, NOW)
    assert _count(PasskeyCredential) == 0


def test_another_users_passkey_is_not_theirs_to_use_or_remove(app: Flask) -> None:
    owner, other = make_user(Role.officer), make_user(Role.officer)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    _register(owner, key)
    _enrolled(other)
    passkey_id = db.session.scalar(select(PasskeyCredential.id))
    with pytest.raises(Exception, match="Not found"):
        passkeys.remove_passkey(other, passkey_id, _policy(app))
    with pytest.raises(Exception, match="no passkey"):
        passkeys.passkey_sign_in_options(other, PARTY, NOW)


def test_a_passkey_name_is_required(app: Flask) -> None:
    user = make_user(Role.applicant)
    key = SoftAuthenticator(PARTY.id, PARTY.origin)
    options = json.loads(passkeys.passkey_registration_options(user, PARTY, NOW))
    with pytest.raises(RuleViolation) as refused:
        passkeys.register_passkey(user, "   ", key.create(options), PARTY, NOW)
    assert "name" in refused.value.fields
