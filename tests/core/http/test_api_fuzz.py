"""Schemathesis over the generated OpenAPI document: no 5xx, answers conform to the schema.

Runs as an officer (who can call most operations) against a programme with rules, an
active grant and open applications. Each request gets its own app context, as in
production, so a failed request cannot leak state into the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from grants.accounts.tokens import service as tokens
from grants.core.actors import SYSTEM
from grants.core.identity import Role
from grants.extensions import db
from tests.conftest import _wipe
from tests.support.factories import make_user
from tests.support.second_factor import no_second_factor_given
from tests.support.whatif import make_whatif_world

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def officer_token(_app: Flask) -> Iterator[str]:
    with _app.app_context():
        make_whatif_world()
        _token, secret = tokens.create_token(
            SYSTEM, make_user(Role.officer), "fuzz", step_up=no_second_factor_given()
        )
        db.session.remove()
    yield secret
    with _app.app_context():
        _wipe()


def test_api_never_fails_and_conforms(_app: Flask, officer_token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app)
    headers = {"Authorization": f"Bearer {officer_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,  # the same cases every run: CI stays reproducible
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
