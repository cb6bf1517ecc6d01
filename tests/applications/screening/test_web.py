"""Officer screening pages: queue, detail with the trace, screen, award, reject."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.applications.models import Application
from grants.awards.decision import web as decision_web
from grants.awards.models import Grant, Milestone
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.applications import (
    TODAY,
    make_applicant,
    make_pools,
    screened_application,
    submitted_application,
)
from tests.support.factories import make_user
from tests.support.matrix import REVIEWERS, refused, statuses
from tests.support.web import login, post_form


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decision_web, "_today", lambda: TODAY)


def routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("screening.", "awards.")):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            found += [(m, path) for m in sorted((rule.methods or set()) & {"GET", "POST"})]
    return found


def _request(client: FlaskClient, method: str, path: str):  # type: ignore[no-untyped-def]
    return client.get(path) if method == "GET" else post_form(client, path, {"reason": "No."})


def _officer(client: FlaskClient, locale: Locale = Locale.en) -> None:
    login(client, make_user(Role.officer, locale=locale).email)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(routes(app)) == {
        ("GET", "/officer/screening"),
        ("GET", "/officer/screening/1"),
        ("POST", "/officer/screening/1/screen"),
        ("POST", "/officer/screening/1/award"),
        ("POST", "/officer/screening/1/reject"),
    }


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for method, path in routes(app):
        response = _request(client, method, path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Screening, award and rejection: officers only (the applicant included, an admin too)."""
    world = screened_application()
    make_pools(world.program)
    assert world.application.id == 1
    paths = sorted(routes(app))
    queue, show, award, reject, screen = paths
    table = statuses(client, world, paths, lambda method, path: {"reason": "No."})
    refused(table, "applicant_other_org", "grantee", *REVIEWERS, "admin")
    # The officer awards it (and then can no longer reject it, nor screen it again).
    assert table["officer"] == {queue: 200, show: 200, award: 302, reject: 409, screen: 409}
    db.session.expire_all()
    assert db.session.get(Application, 1).state == ApplicationState.awarded
    assert db.session.query(Grant).count() == 1
    actions = [e.action for e in db.session.query(AuditEvent).filter(AuditEvent.object_id == "1")]
    assert actions.count("grant.award") == 1 and "application.reject" not in actions


def test_nav_link_for_officers(client: FlaskClient) -> None:
    _officer(client)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/officer/screening"' in page and 'href="/applications"' in page
    assert "My applications" not in page  # the list of every application, not their own


def test_csrf_token_is_required(client: FlaskClient) -> None:
    world = screened_application()
    make_pools(world.program)
    _officer(client)
    for action in ("screen", "award", "reject"):
        path = f"/officer/screening/{world.application.id}/{action}"
        assert client.post(path, data={"reason": "x"}).status_code == 400
    assert db.session.query(Grant).count() == 0


def test_queue_lists_and_filters(client: FlaskClient) -> None:
    first = submitted_application()
    second = screened_application()
    _officer(client)
    page = client.get("/officer/screening").get_data(as_text=True)
    assert first.org.name in page and second.org.name in page
    assert page.index(f"/officer/screening/{first.application.id}") < page.index(
        f"/officer/screening/{second.application.id}"
    )
    assert "Screened: eligible" in page and "¥2,400,000,000" in page
    page = client.get(f"/officer/screening?program_id={second.program.id}").get_data(as_text=True)
    assert second.org.name in page and first.org.name not in page
    assert client.get("/officer/screening?program_id=abc").status_code == 200


def test_queue_offers_screening_where_it_is_due(client: FlaskClient) -> None:
    waiting = submitted_application()
    screened = screened_application()
    _officer(client)
    page = client.get("/officer/screening").get_data(as_text=True)
    assert f"/officer/screening/{waiting.application.id}/screen" in page
    assert f"/officer/screening/{screened.application.id}/screen" not in page


def test_detail_shows_the_stored_trace(client: FlaskClient) -> None:
    world = submitted_application(
        stage="phase1",
        eligible_cost=1_200_000_000,
        requested_subsidy=800_000_000,
        tranches=(200_000_000, 300_000_000, 300_000_000),
        lead=500_000_000,
    )
    _officer(client)
    page = client.get(f"/officer/screening/{world.application.id}").get_data(as_text=True)
    row = re.search(
        r'<tr class="trace-row trace-fail" data-rule="lead_vc_min">(.*?)</tr>', page, re.S
    )
    assert row is not None and "Lead VC commitment: ¥500,000,000 (minimum ¥1,000,000,000)" in (
        row.group(1)
    )
    assert "Not eligible" in page and "Record the screening result" in page
    assert "/award" not in page  # submitted: screen first
    assert client.get("/officer/screening/999").status_code == 404


def test_officer_screens(client: FlaskClient) -> None:
    world = submitted_application()
    _officer(client)
    path = f"/officer/screening/{world.application.id}"
    response = post_form(client, f"{path}/screen", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.screened_eligible
    assert "the application is eligible" in client.get(path).get_data(as_text=True)
    assert post_form(client, f"{path}/screen", {}).status_code == 409
    assert db.session.query(AuditEvent).filter_by(action="application.screen").count() == 1


def test_officer_awards_with_the_amount_rounded_down(client: FlaskClient) -> None:
    world = screened_application()
    make_pools(world.program)
    _officer(client, Locale.ja)
    path = f"/officer/screening/{world.application.id}"
    page = client.get(path).get_data(as_text=True)
    assert "20億円" in page and f'action="{path}/award"' in page  # amounts in Japanese
    tranches = re.search(r'<table class="table award-tranches">(.*?)</table>', page, re.S)
    assert tranches is not None and "10億円" in tranches.group(1) and "6億円" in tranches.group(1)
    response = post_form(client, f"{path}/award", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/officer/screening")
    grant = db.session.query(Grant).one()
    assert grant.award_amount == 2_000_000_000 and grant.number == f"{world.program.code}-0001"
    assert len(grant.milestones) == 3
    queue = client.get("/officer/screening").get_data(as_text=True)
    assert f"{world.program.code}-0001" in queue and "20億円" in queue
    assert post_form(client, f"{path}/award", {}).status_code == 409
    assert db.session.query(Grant).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="grant.award").count() == 1


def test_award_refused_for_lack_of_budget_writes_nothing(client: FlaskClient) -> None:
    world = screened_application()
    make_pools(world.program, (2026, 2027))
    _officer(client)
    response = post_form(client, f"/officer/screening/{world.application.id}/award", {})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "FY2028: there is no budget pool; 600,000,000 yen are needed." in page
    db.session.expire_all()
    assert db.session.query(Grant).count() == 0 and db.session.query(Milestone).count() == 0
    assert {p.committed for p in db.session.query(BudgetPool)} == {0}
    assert world.application.state == ApplicationState.screened_eligible


def test_reject_needs_a_reason(client: FlaskClient) -> None:
    world = screened_application()
    _officer(client)
    path = f"/officer/screening/{world.application.id}/reject"
    response = post_form(client, path, {"reason": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="reason-error"' in page
    response = post_form(client, path, {"reason": "   "})
    assert response.status_code == 422 and "Give the reason" in response.get_data(as_text=True)
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.screened_eligible
    response = post_form(client, path, {"reason": "Outside the programme's priorities."})
    assert response.status_code == 302
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.rejected
    assert world.application.decision_reason == "Outside the programme's priorities."
    assert post_form(client, path, {"reason": "Again"}).status_code == 409


def test_rejection_reason_is_shown_to_the_applicant(client: FlaskClient) -> None:
    world = screened_application()
    _officer(client)
    post_form(client, f"/officer/screening/{world.application.id}/reject", {"reason": "理由あり"})
    post_form(client, "/logout", {})
    login(client, world.applicant.email)
    page = client.get(f"/applications/{world.application.id}").get_data(as_text=True)
    assert "理由あり" in page and "不採択" in page
    other = make_applicant()
    post_form(client, "/logout", {})
    login(client, other.email)
    assert client.get(f"/applications/{world.application.id}").status_code == 403
