"""The officer's exports page and its two CSV downloads."""

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
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import REVIEWERS, WHO, anonymous_goes_to_login, routes, switch, user_for
from tests.support.web import login, post_form

ORG_NAME = "株式会社さくら創薬"
EVIL = '=HYPERLINK("http://evil.example/","click")'
DISBURSEMENTS = "/officer/exports/disbursements.csv"
MILESTONES = "/officer/exports/milestones.csv"


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


def _download(client: FlaskClient, path: str) -> TestResponse:
    # The streamed body is read inside the request, as a WSGI server does. (Unbuffered,
    # the test client would read the first chunk in the test's own app context.)
    return client.get(path, buffered=True)


def _table(response: TestResponse) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "/officer/exports") == [
        ("GET", "/officer/exports"),
        ("GET", DISBURSEMENTS),
        ("GET", "/officer/exports/grants.csv"),
        ("GET", MILESTONES),
        ("POST", "/officer/exports/disbursements/tasks"),
        ("POST", "/officer/exports/grants/tasks"),
        ("POST", "/officer/exports/milestones/tasks"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = _world()
    paths = routes(app, "/officer/exports")
    anonymous_goes_to_login(client, paths)
    expected = {"applicant_other_org": 403, "grantee": 403} | dict.fromkeys(REVIEWERS, 403)
    for who in WHO:
        switch(client, user_for(world, who))
        for method, path in paths:
            get = method == "GET"
            response = _download(client, path) if get else post_form(client, path, {})
            allowed = 200 if get else 302  # a POST starts a task and shows its page
            assert response.status_code == expected.get(who, allowed), (who, path)
            if response.status_code == 403:
                assert b"EX-0001" not in response.data
    post_form(client, "/logout", {})


def test_nav_link_for_officers_and_admins_only(app: Flask, client: FlaskClient) -> None:
    for role in (Role.applicant, Role.reviewer):
        switch(client, make_user(role))
        assert "/officer/exports" not in client.get("/").get_data(as_text=True)
    for role in (Role.officer, Role.admin):
        switch(client, make_user(role))
        assert 'href="/officer/exports"' in client.get("/").get_data(as_text=True)
    post_form(client, "/logout", {})


def test_page_offers_filters_and_both_downloads(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/officer/exports").get_data(as_text=True)
    assert '<label for="program_id">' in page and '<label for="fiscal_year">' in page
    assert f'<option value="{world.program.id}">EX · Test programme</option>' in page
    assert f'formaction="{DISBURSEMENTS}"' in page and f'formaction="{MILESTONES}"' in page


def test_disbursements_download(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    response = _download(client, DISBURSEMENTS)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="disbursements.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf") and response.data.endswith(b"\r\n")
    assert world.officer is not None
    header, *rows = _table(response)
    assert header[:3] == ["Grant number", "Programme code", "Organization"]
    assert rows == [
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
        ]
    ]


def test_milestones_download_in_japanese(app: Flask, client: FlaskClient) -> None:
    _world()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    response = _download(client, MILESTONES)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('filename="milestones.csv"')
    header, *rows = _table(response)
    assert header[2] == "組織" and header[9] == "年度"
    assert [(r[2], r[3], r[5], r[6], r[11]) for r in rows] == [
        (ORG_NAME, "1", "approved", "承認", "2026-11-25"),
        (ORG_NAME, "2", "planned", "予定", ""),
        (ORG_NAME, "3", "planned", "予定", ""),
    ]


def test_filters(app: Flask, client: FlaskClient) -> None:
    world = _world()
    _world(code="OTHER", org_name="別の組織")
    login(client, make_user(Role.officer).email)
    every = _table(_download(client, DISBURSEMENTS))[1:]
    assert [row[0] for row in every] == ["EX-0001", "OTHER-0001"]
    response = _download(client, f"{DISBURSEMENTS}?program_id={world.program.id}&fiscal_year=")
    assert [row[0] for row in _table(response)[1:]] == ["EX-0001"]
    assert 'filename="disbursements-EX.csv"' in response.headers["Content-Disposition"]
    none = _download(client, f"{DISBURSEMENTS}?fiscal_year=2027")
    assert len(_table(none)) == 1  # the header only
    path = f"{MILESTONES}?program_id={world.program.id}&fiscal_year=2027"
    response = _download(client, path)
    assert [(row[0], row[3]) for row in _table(response)[1:]] == [("EX-0001", "3")]
    assert 'filename="milestones-EX-2027.csv"' in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("fiscal_year=abc", "fiscal_year", "Not a valid integer value."),
        ("fiscal_year=1999", "fiscal_year", "Enter a whole number from 2000 to 2100."),
        ("fiscal_year=99999999999999999999999", "fiscal_year", "from 2000 to 2100"),
        ("program_id=999999", "program_id", "Not a valid choice."),
        ("program_id=abc", "program_id", "Not a valid choice."),
    ],
)
def test_bad_filters_show_form_errors(
    app: Flask, client: FlaskClient, query: str, field: str, message: str
) -> None:
    _world()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    for path in (DISBURSEMENTS, MILESTONES):
        response = _download(client, f"{path}?{query}")
        assert response.status_code == 422, path
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert f'id="{field}-error"' in page and message in page


def test_formula_injection_is_neutralised(app: Flask, client: FlaskClient) -> None:
    _world(org_name=EVIL)
    login(client, make_user(Role.officer).email)
    for path in (DISBURSEMENTS, MILESTONES):
        rows = _table(_download(client, path))[1:]
        assert {row[2] for row in rows} == {"'" + EVIL}, path
