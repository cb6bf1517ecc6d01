"""/api/v1/exports: the accounting CSV files over the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.core.identity import Locale, Role
from grants.extensions import db
from grants.releases import service as releases
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant

DISBURSEMENTS = "/api/v1/exports/disbursements.csv"
MILESTONES = "/api/v1/exports/milestones.csv"
BOTH = (DISBURSEMENTS, MILESTONES)
ORG_NAME = "株式会社さくら創薬"
EVIL = '=HYPERLINK("http://evil.example/","click")'


def _world(code: str = "EX", org_name: str = ORG_NAME) -> GrantWorld:
    """Milestone 1 released (FY2026) at 2026-11-25 14:03 Tokyo time; 2 and 3 planned."""
    world = make_grant(code=code)
    world.grantee.name = org_name
    db.session.commit()
    approve(world, world.milestones[0])
    disbursement = releases.release(officer(world), world.milestones[0].id, date(2026, 10, 1))
    disbursement.released_at = datetime(2026, 11, 25, 5, 3, tzinfo=UTC)
    db.session.commit()
    return world


def _get(api: ApiClient, path: str) -> TestResponse:
    # The streamed body is read inside the request, as a WSGI server does.
    return api.get(path, buffered=True)


def _table(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def _officer_api(client: FlaskClient, locale: Locale = Locale.en) -> ApiClient:
    return ApiClient(client, make_user(Role.officer, locale=locale))


def test_disbursements_csv(app: Flask, client: FlaskClient) -> None:
    world = _world()
    response = _get(_officer_api(client), DISBURSEMENTS)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="disbursements.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf") and b"\r\n" in response.data
    assert world.officer is not None
    assert _table(response) == [
        [
            "Grant number",
            "Programme code",
            "Organization",
            "Milestone no.",
            "Milestone title",
            "Fiscal year",
            "Amount (yen)",
            "Released at",
            "Released by",
            "Released by (e-mail)",
        ],
        [
            "EX-0001",
            "EX",
            ORG_NAME,
            "1",
            "Milestone 1",
            "2026",
            "100000000",
            "2026-11-25T14:03:00+09:00",
            world.officer.name,
            world.officer.email,
        ],
    ]


def test_milestones_csv_in_the_token_owners_language(app: Flask, client: FlaskClient) -> None:
    _world()
    english = _table(_get(_officer_api(client, Locale.en), MILESTONES))
    japanese = _table(_get(_officer_api(client, Locale.ja), MILESTONES))
    assert english[0][2] == "Organization" and japanese[0][2] == "組織"
    assert [row[5:7] for row in english[1:]] == [
        ["approved", "Approved"],
        ["planned", "Planned"],
        ["planned", "Planned"],
    ]
    assert [row[5:7] for row in japanese[1:]] == [
        ["approved", "承認"],
        ["planned", "予定"],
        ["planned", "予定"],
    ]
    assert japanese[1][2] == ORG_NAME and japanese[1][11] == "2026-11-25"


def test_filters(app: Flask, client: FlaskClient) -> None:
    world = _world()
    _world(code="OTHER", org_name="別の組織")
    api = _officer_api(client)
    assert [r[0] for r in _table(_get(api, DISBURSEMENTS))[1:]] == ["EX-0001", "OTHER-0001"]
    response = _get(api, f"{DISBURSEMENTS}?program_id={world.program.id}&fiscal_year=2026")
    assert [r[0] for r in _table(response)[1:]] == ["EX-0001"]
    assert 'filename="disbursements-EX-2026.csv"' in response.headers["Content-Disposition"]
    assert len(_table(_get(api, f"{DISBURSEMENTS}?fiscal_year=2027"))) == 1
    response = _get(api, f"{MILESTONES}?program_id={world.program.id}&fiscal_year=2027")
    assert [(r[0], r[3]) for r in _table(response)[1:]] == [("EX-0001", "3")]


def test_admin_may_export(app: Flask, client: FlaskClient) -> None:
    _world()
    api = api_as(client, Role.admin)
    assert len(_table(_get(api, DISBURSEMENTS))) == 2
    assert len(_table(_get(api, MILESTONES))) == 4


def test_forbidden_for_applicants_and_reviewers(app: Flask, client: FlaskClient) -> None:
    world = _world()
    for user in (world.applicant, world.reviewers[0], make_user(Role.applicant)):
        api = ApiClient(client, user)
        for path in BOTH:
            assert_error(_get(api, path), 403, "forbidden")


def test_a_token_is_required(app: Flask, client: FlaskClient) -> None:
    _world()
    for path in BOTH:
        assert_error(client.get(path, buffered=True), 401)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("fiscal_year=abc", "fiscal_year"),
        ("fiscal_year=1999", "fiscal_year"),
        ("fiscal_year=2101", "fiscal_year"),
        ("program_id=abc", "program_id"),
        ("program_id=0", "program_id"),
        ("program_id=99999999999999999999999", "program_id"),
        ("program_id=999999", "program_id"),  # valid number, no such programme
    ],
)
def test_bad_filters_are_422_naming_the_field(
    app: Flask, client: FlaskClient, query: str, field: str
) -> None:
    _world()
    api = _officer_api(client)
    for path in BOTH:
        error = assert_error(_get(api, f"{path}?{query}"), 422)
        assert field in error["fields"], (path, error)


def test_formula_injection_is_neutralised(app: Flask, client: FlaskClient) -> None:
    _world(org_name=EVIL)
    api = _officer_api(client)
    for path in BOTH:
        rows = _table(_get(api, path))[1:]
        assert {row[2] for row in rows} == {"'" + EVIL}, path


def test_openapi_documents_csv_responses(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in BOTH:
        operation = spec["paths"][path]["get"]
        assert "text/csv" in operation["responses"]["200"]["content"]
        assert {"403", "422"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} == {"program_id", "fiscal_year"}


def test_the_header_follows_the_request_language(app: Flask, client: FlaskClient) -> None:
    """The token owner's language, or the one Accept-Language asks for."""
    _world()
    api = _officer_api(client, Locale.ja)
    japanese = _table(_get(api, DISBURSEMENTS))[0]
    english = _table(api.get(DISBURSEMENTS, buffered=True, headers={"Accept-Language": "en"}))[0]
    assert japanese[2] == "組織" and english[2] == "Organization"
