"""Second-factor rules: TOTP steps and skew, replays, recovery codes, sealed secrets, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from grants.accounts.second_factor.rules import (
    RECOVERY_CODE_COUNT,
    SecondFactorPolicy,
    SecretBox,
    StepUp,
    code_at,
    is_recovery_code,
    matching_step,
    new_recovery_codes,
    new_totp_secret,
    normalize_code,
    provisioning_uri,
    recovery_code_hash,
    time_step,
)
from grants.core.identity import Role

NOW = datetime(2026, 4, 1, 9, 0, 15, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SETTINGS = {"SECOND_FACTOR_ROLES": ("officer", "admin"), "SECOND_FACTOR_STEP_UP_MINUTES": 10}


def test_the_code_of_now_matches_as_any_authenticator_app_computes_it() -> None:
    code = pyotp.TOTP(SECRET).at(NOW)
    assert matching_step(SECRET, code, NOW, None) == time_step(NOW)
    assert code_at(SECRET, time_step(NOW)) == code


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_clock_skew_is_accepted(offset: int) -> None:
    step = time_step(NOW) + offset
    assert matching_step(SECRET, code_at(SECRET, step), NOW, None) == step


@pytest.mark.parametrize("offset", [-2, 2, -10])
def test_two_steps_of_clock_skew_are_refused(offset: int) -> None:
    assert matching_step(SECRET, code_at(SECRET, time_step(NOW) + offset), NOW, None) is None


def test_a_code_is_accepted_once_and_never_an_earlier_one() -> None:
    step = time_step(NOW)
    code = code_at(SECRET, step)
    assert matching_step(SECRET, code, NOW, last_used_step=step) is None  # the replay
    earlier = code_at(SECRET, step - 1)
    assert matching_step(SECRET, earlier, NOW, last_used_step=step) is None
    later = code_at(SECRET, step + 1)
    assert matching_step(SECRET, later, NOW, last_used_step=step) == step + 1


def test_codes_as_people_type_them() -> None:
    code = code_at(SECRET, time_step(NOW))
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed = f" {code[:3]} {code[3:]} "
    assert matching_step(SECRET, normalize_code(full_width), NOW, None) is not None
    assert matching_step(SECRET, normalize_code(typed), NOW, None) is not None
    for wrong in ("", "12345", "1234567", "abcdef", "٣٣٣٣٣٣"):
        assert matching_step(SECRET, normalize_code(wrong), NOW, None) is None


def test_secrets_and_the_address_the_app_reads() -> None:
    secret = new_totp_secret()
    assert len(secret) == 32 and secret != new_totp_secret()
    uri = provisioning_uri(secret, "officer@example.jp", "Milestone Grants")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri


def test_recovery_codes_are_random_readable_and_hashed_as_typed() -> None:
    codes = new_recovery_codes()
    assert len(codes) == len(set(codes)) == RECOVERY_CODE_COUNT
    code = codes[0]
    assert is_recovery_code(normalize_code(code)) and len(code) == 19
    assert recovery_code_hash(code) == recovery_code_hash(code.upper().replace("-", " "))
    assert recovery_code_hash(code) != recovery_code_hash(codes[1])
    assert not is_recovery_code(normalize_code("123456"))


def test_a_sealed_secret_opens_only_with_the_installation_keys() -> None:
    box = SecretBox(["key-one"])
    sealed = box.seal(SECRET)
    assert SECRET not in sealed and box.open(sealed) == SECRET
    assert SecretBox(["another-key"]).open(sealed) is None
    assert box.open("not a token") is None


def test_a_rotated_key_still_opens_what_the_old_one_sealed_and_seals_it_again() -> None:
    old = SecretBox(["old-key"]).seal(SECRET)
    rotated = SecretBox(["new-key", "old-key"])
    assert rotated.open(old) == SECRET
    resealed = rotated.current(old)
    assert resealed != old and SecretBox(["new-key"]).open(resealed) == SECRET
    assert rotated.current(resealed) == resealed
    assert SecretBox.of({"SECRET_KEY": "new-key", "SECRET_KEY_FALLBACKS": ["old-key"]}).open(old)
    with pytest.raises(ValueError):
        SecretBox([])


def test_the_roles_that_need_a_second_factor_and_when_it_is_asked_again() -> None:
    policy = SecondFactorPolicy.of(SETTINGS)
    assert policy.required_for(Role.officer) and policy.required_for(Role.admin)
    assert not policy.required_for(Role.applicant) and not policy.required_for(Role.reviewer)
    fresh, stale = NOW - timedelta(minutes=10), NOW - timedelta(minutes=10, seconds=1)
    assert not StepUp(policy, fresh, NOW).needed(Role.officer)
    assert StepUp(policy, stale, NOW).needed(Role.officer)
    assert StepUp(policy, None, NOW).needed(Role.admin)
    assert StepUp(policy, NOW + timedelta(minutes=1), NOW).needed(Role.admin)  # not trusted
    assert not StepUp(policy, None, NOW).needed(Role.applicant)
    only_admins = SecondFactorPolicy.of({**SETTINGS, "SECOND_FACTOR_ROLES": ["admin"]})
    assert not only_admins.required_for(Role.officer)
