"""The same code sent twice at the same moment signs in once (PostgreSQL: no lock is held
between the check and the write, the write itself compares)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from grants.accounts.second_factor import service
from grants.accounts.second_factor.rules import Method, SecretBox, code_at, time_step
from grants.core.errors import RuleViolation
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.races import at_once

NOW = datetime(2026, 4, 1, 9, 0, 15, tzinfo=UTC)
BOX = SecretBox(["testing-secret-key-not-for-production"])


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Races need PostgreSQL; SQLite serialises whole transactions.")


def _accepted(results: list[object]) -> list[object]:
    assert all(
        r in (Method.totp, Method.recovery_code) or isinstance(r, RuleViolation) for r in results
    ), results
    return [r for r in results if not isinstance(r, RuleViolation)]


def test_a_replayed_app_code_at_the_same_moment_is_accepted_once(app: Flask) -> None:
    user = make_user(Role.officer)
    secret = service.begin_totp(user, BOX)
    service.confirm_totp(user, code_at(secret, time_step(NOW)), BOX, NOW)
    later = NOW + timedelta(minutes=1)
    code = code_at(secret, time_step(later))
    results = at_once(
        app, lambda u, c: service.verify_code(u, c, BOX, later), [(user.id, code)] * 4
    )
    assert _accepted(results) == [Method.totp]


def test_a_recovery_code_sent_twice_at_once_is_used_once(app: Flask) -> None:
    user = make_user(Role.officer)
    secret = service.begin_totp(user, BOX)
    codes = service.confirm_totp(user, code_at(secret, time_step(NOW)), BOX, NOW).recovery_codes
    results = at_once(
        app, lambda u, c: service.verify_code(u, c, BOX, NOW), [(user.id, codes[0])] * 4
    )
    assert _accepted(results) == [Method.recovery_code]
