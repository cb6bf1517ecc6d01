"""The termination page: what will be cancelled, a required reason, one termination."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.awards.models import Grant, Milestone
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import REVIEWERS, refused, routes, statuses
from tests.support.web import login, post_form


def _url(world: GrantWorld) -> str:
    return f"/officer/grants/{world.grant.id}/terminate"


def _officer(client: FlaskClient) -> None:
    login(client, make_user(Role.officer, locale=Locale.en).email)


def _state(world: GrantWorld) -> GrantState:
    db.session.expire_all()
    return db.session.get(Grant, world.grant.id).state


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "termination") == [
        ("GET", "/officer/grants/1/terminate"),
        ("POST", "/officer/grants/1/terminate"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    paths = routes(app, "termination")
    table = statuses(client, world, paths, lambda method, path: {"reason": "No-go"})
    refused(table, "applicant_other_org", "grantee", *REVIEWERS, "admin")
    assert table["officer"] == {paths[0]: 200, paths[1]: 302}
    assert _state(world) == GrantState.terminated
    assert db.session.query(AuditEvent).filter_by(action="grant.terminate").count() == 1


def test_confirmation_lists_what_returns_to_the_pools(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, date(2026, 10, 1))
    _officer(client)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Tranches that will be cancelled" in page
    assert "2. Milestone 2" in page and "3. Milestone 3" in page
    assert "1. Milestone 1" not in page  # released: stays released
    assert "FY2026" in page and "¥200,000,000" in page  # returned to FY2026
    assert "FY2027" in page and "¥300,000,000" in page and "¥500,000,000" in page  # total


def test_a_reason_is_required(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    _officer(client)
    response = post_form(client, _url(world), {"reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    response = post_form(client, _url(world), {"reason": "x" * 2001})
    assert response.status_code == 422
    assert _state(world) == GrantState.active


def test_officer_terminates(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    _officer(client)
    response = post_form(client, _url(world), {"reason": "Phase 1 no-go"})
    assert response.status_code == 302
    assert _state(world) == GrantState.terminated
    states = set(db.session.scalars(select(Milestone.state)))
    assert states == {MilestoneState.cancelled}
    committed = set(db.session.scalars(select(BudgetPool.committed)))
    assert committed == {0}
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Only an active or suspended grant can be terminated." in page
    assert "Phase 1 no-go" in page
    assert post_form(client, _url(world), {"reason": "again"}).status_code == 409
    grant_page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "<dt>Remaining</dt><dd>¥0</dd>" in grant_page  # nothing is left to release


def test_unknown_grant_is_404(app: Flask, client: FlaskClient) -> None:
    _officer(client)
    assert client.get("/officer/grants/999/terminate").status_code == 404
    assert post_form(client, "/officer/grants/999/terminate", {"reason": "x"}).status_code == 404
