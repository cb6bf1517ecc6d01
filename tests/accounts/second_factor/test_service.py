"""Second-factor use cases with explicit times: enrolment, codes once each, skew, recovery
codes, passkeys (a software authenticator), removal, resets and key rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor import queries, service
from grants.accounts.second_factor.models import (
    PasskeyCredential,
    RecoveryCode,
    TotpAuthenticator,
)
from grants.accounts.second_factor.passkeys import service as passkeys
from grants.accounts.second_factor.rules import (
    Method,
    SecondFactorPolicy,
    SecretBox,
    code_at,
    time_step,
)
from grants.core.actors import SYSTEM
from grants.core.errors import Conflict, NotAllowed, RuleViolation
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
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


def _enrolled(user: User, box: SecretBox = BOX) -> tuple[str, list[str]]:
    """An authenticator app set up at NOW: its secret and the recovery codes."""
    secret = service.begin_totp(user, box)
    enrolled = service.confirm_totp(user, code_at(secret, time_step(NOW)), box, NOW)
    return secret, enrolled.recovery_codes


def test_enrolment_is_confirmed_by_a_first_code_and_stores_no_secret_in_plain(app: Flask) -> None:
    user = make_user(Role.officer, locale=Locale.en)
    secret = service.begin_totp(user, BOX)
    assert not queries.has_second_factor(user.id)  # pending until confirmed
    with pytest.raises(RuleViolation) as refused:
        service.confirm_totp(user, "000000", BOX, NOW)
    assert "code" in refused.value.fields
    assert not queries.has_second_factor(user.id)
    enrolled = service.confirm_totp(user, code_at(secret, time_step(NOW)), BOX, NOW)
    assert queries.has_second_factor(user.id)
    assert len(enrolled.recovery_codes) == 10
    assert enrolled.notice.to == user.email and "authenticator app" in enrolled.notice.body
    stored = db.session.scalar(select(TotpAuthenticator))
    assert secret not in stored.secret_sealed and BOX.open(stored.secret_sealed) == secret
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert not hashes & set(enrolled.recovery_codes)
    trail = json.dumps([(e.before, e.after) for e in db.session.scalars(select(AuditEvent))])
    assert secret not in trail and enrolled.recovery_codes[0] not in trail


def test_a_second_app_needs_the_first_removed(app: Flask) -> None:
    user = make_user(Role.applicant)
    _enrolled(user)
    with pytest.raises(Conflict):
        service.begin_totp(user, BOX)


def test_the_enrolment_code_is_spent_and_the_next_codes_work_once_each(app: Flask) -> None:
    user = make_user(Role.officer)
    secret, _codes = _enrolled(user)
    step = time_step(NOW)
    with pytest.raises(RuleViolation):  # the confirming code, replayed at sign-in
        service.verify_code(user, code_at(secret, step), BOX, NOW)
    later = NOW + timedelta(seconds=30)
    assert service.verify_code(user, code_at(secret, step + 1), BOX, later) == Method.totp
    with pytest.raises(RuleViolation):
        service.verify_code(user, code_at(secret, step + 1), BOX, later)
    with pytest.raises(RuleViolation):  # an earlier step than the last used one
        service.verify_code(user, code_at(secret, step), BOX, later + timedelta(seconds=1))
    assert db.session.scalar(select(TotpAuthenticator.last_used_step)) == step + 1


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_clock_skew_of_one_step_is_accepted_and_of_two_refused(
    app: Flask, offset: int, accepted: bool
) -> None:
    user = make_user(Role.officer)
    secret, _codes = _enrolled(user)
    now = NOW + timedelta(minutes=5)  # well after the enrolment's step
    code = code_at(secret, time_step(now) + offset)
    if accepted:
        assert service.verify_code(user, code, BOX, now) == Method.totp
    else:
        with pytest.raises(RuleViolation):
            service.verify_code(user, code, BOX, now)


def test_wrong_codes_are_refused_with_a_clear_message_and_write_nothing(app: Flask) -> None:
    user = make_user(Role.officer, locale=Locale.ja)
    _enrolled(user)
    events = _count(AuditEvent)
    for wrong in ("000000", "abc", "", "zzzz-zzzz-zzzz-zzzz", "1" * 40):
        with pytest.raises(RuleViolation) as refused:
            service.verify_code(user, wrong, BOX, NOW + timedelta(minutes=1))
        assert "recovery code" in refused.value.fields["code"][0]
    assert _count(AuditEvent) == events


def test_recovery_codes_sign_in_once_each(app: Flask) -> None:
    user = make_user(Role.officer)
    _secret, codes = _enrolled(user)
    assert service.verify_code(user, codes[0].upper(), BOX, NOW) == Method.recovery_code
    with pytest.raises(RuleViolation):
        service.verify_code(user, codes[0], BOX, NOW)
    assert service.verify_code(user, codes[1].replace("-", " "), BOX, NOW) == Method.recovery_code
    factors = queries.factors_of(user, _policy(app))
    assert factors.recovery_codes_left == 8
    used = db.session.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "second_factor.verify")
    )
    assert [a["recovery_codes_left"] for a in used] == [9, 8]


def test_new_recovery_codes_replace_the_old_ones(app: Flask) -> None:
    user = make_user(Role.applicant, locale=Locale.en)
    with pytest.raises(Conflict):  # nothing to recover yet
        service.regenerate_recovery_codes(user)
    _secret, old = _enrolled(user)
    new, notice = service.regenerate_recovery_codes(user)
    assert set(new).isdisjoint(old) and "recovery codes" in notice.body
    with pytest.raises(RuleViolation):
        service.verify_code(user, old[2], BOX, NOW)
    assert service.verify_code(user, new[2], BOX, NOW) == Method.recovery_code


def test_a_role_that_needs_a_factor_keeps_its_last_one(app: Flask) -> None:
    officer = make_user(Role.officer)
    _enrolled(officer)
    with pytest.raises(Conflict):
        service.remove_totp(officer, _policy(app))
    assert queries.has_second_factor(officer.id)
    applicant = make_user(Role.applicant, locale=Locale.en)
    _enrolled(applicant)
    notice = service.remove_totp(applicant, _policy(app))
    assert "removed" in notice.body and not queries.has_second_factor(applicant.id)
    remaining = select(func.count()).where(RecoveryCode.user_id == applicant.id)
    assert db.session.scalar(remaining) == 0  # no codes without a factor to recover


def test_a_key_rotation_keeps_codes_working_with_the_old_key_as_fallback(app: Flask) -> None:
    user = make_user(Role.officer)
    secret, _codes = _enrolled(user, SecretBox(["old-key"]))
    rotated = SecretBox(["new-key", "old-key"])
    later = NOW + timedelta(minutes=1)
    assert service.verify_code(user, code_at(secret, time_step(later)), rotated, later)
    sealed = db.session.scalar(select(TotpAuthenticator.secret_sealed))
    assert SecretBox(["new-key"]).open(sealed) == secret  # sealed again with the new key
    lost = SecretBox(["newest-key"])  # the old keys dropped
    with pytest.raises(RuleViolation) as refused:
        service.verify_code(user, code_at(secret, time_step(later) + 1), lost, later)
    assert "key changed" in refused.value.fields["code"][0]


def _register(user: User, key: SoftAuthenticator) -> None:
    options = json.loads(passkeys.passkey_registration_options(user, PARTY, NOW))
    passkeys.register_passkey(user, "laptop", key.create(options), PARTY, NOW)


# --- resets -------------------------------------------------------------------------------


def test_an_administrator_resets_another_users_second_factor(app: Flask) -> None:
    admin = make_user(Role.admin)
    officer = make_user(Role.officer, locale=Locale.ja)
    _enrolled(officer)
    _register(officer, SoftAuthenticator(PARTY.id, PARTY.origin))
    version = officer.session_version
    notice = service.reset(admin, officer.id)
    assert not queries.has_second_factor(officer.id)
    assert _count(RecoveryCode) == _count(PasskeyCredential) == 0
    assert db.session.get(User, officer.id).session_version == version + 1  # signed out
    assert notice.to == officer.email and "管理者" in notice.body  # in the owner's language
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor.reset"))
    assert event.actor_id == admin.id and event.after == {"factors_removed": 2}


def test_reset_refusals(app: Flask) -> None:
    admin = make_user(Role.admin)
    _enrolled(admin)
    with pytest.raises(NotAllowed):  # one's own, from the settings page instead
        service.reset(admin, admin.id)
    with pytest.raises(NotAllowed):
        service.reset(make_user(Role.officer), admin.id)
    assert queries.has_second_factor(admin.id)


def test_the_last_active_administrators_factor_is_reset_only_from_the_command_line(
    app: Flask,
) -> None:
    admin = make_user(Role.admin)
    _enrolled(admin)
    other = make_user(Role.admin, active=False)
    assert not queries.may_reset(other, admin)
    with pytest.raises(NotAllowed) as refused:
        service.reset(other, admin.id)
    assert "command line" in refused.value.message
    service.reset(SYSTEM, admin.id)
    assert not queries.has_second_factor(admin.id)


def test_the_demo_key_is_set_once(app: Flask) -> None:
    user = make_user(Role.officer)
    service.enrol_demo_totp(SYSTEM, user, "GRANTSDEMOTOTPSECRETFORDEMOONLY2", BOX, NOW)
    service.enrol_demo_totp(SYSTEM, user, "ANOTHERSECRETANOTHERSECRETANOTHE", BOX, NOW)
    sealed = db.session.scalar(select(TotpAuthenticator.secret_sealed))
    assert BOX.open(sealed) == "GRANTSDEMOTOTPSECRETFORDEMOONLY2"
