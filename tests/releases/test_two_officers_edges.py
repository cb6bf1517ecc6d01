"""The two-officer release on the release page, in the queue and in the API."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.awards.models import Disbursement, PreparedRelease
from grants.awards.rules import PreparedReleaseState
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.api import ApiClient, assert_error
from tests.support.approvals import approve
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

THRESHOLD = 150_000_000  # milestone 1 (1億円) goes alone, milestone 2 (2億円) needs two


def _world() -> GrantWorld:
    world = make_grant()
    world.program.release_approval_threshold = THRESHOLD
    db.session.commit()
    approve(world, world.milestones[0], world.milestones[1])
    return world


def _page(world: GrantWorld) -> str:
    return f"/officer/milestones/{world.milestones[1].id}/release"


def _prepared() -> PreparedRelease:
    db.session.expire_all()
    return db.session.scalars(select(PreparedRelease)).one()


def test_one_officer_prepares_on_the_page_and_another_approves(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    first = make_user(Role.officer, locale=Locale.en)
    login(client, first.email)
    page = client.get(_page(world)).get_data(as_text=True)
    assert 'id="two-officers"' in page and "release threshold of ¥150,000,000" in page
    assert "Prepare the release of ¥200,000,000" in page and "Release ¥200,000,000" not in page
    assert post_form(client, _page(world), {}).status_code == 403  # not alone

    response = post_form(client, f"{_page(world)}/prepare", {})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is prepared: it goes out when another officer approves it" in page
    assert f"{first.name} prepared the release of ¥200,000,000" in page
    assert "You prepared this release: another officer must approve it" in page
    assert "Approve and release" not in page and "Cancel the prepared release" in page
    prepared = _prepared()
    approve_path = f"/officer/milestones/prepared-releases/{prepared.id}/approve"
    assert post_form(client, approve_path, {}).status_code == 403
    queue = client.get("/officer/milestones/awaiting-release").get_data(as_text=True)
    assert f"Prepared by {first.name}: waits for a second officer" in queue
    assert "1 of them is prepared and waits for a second officer" in queue
    assert db.session.query(Disbursement).count() == 0

    second = app.test_client()
    login(second, make_user(Role.officer, locale=Locale.en).email)
    page = second.get(_page(world)).get_data(as_text=True)
    assert "Approve and release ¥200,000,000" in page
    response = post_form(second, approve_path, {})
    assert response.status_code == 302
    assert f"/grants/{world.grant.id}" in response.headers["Location"]
    assert db.session.query(Disbursement).count() == 1
    assert _prepared().state == PreparedReleaseState.approved
    assert post_form(second, approve_path, {}).status_code == 409


def test_a_prepared_release_is_cancelled_on_the_page(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    post_form(client, f"{_page(world)}/prepare", {})
    cancel = f"/officer/milestones/prepared-releases/{_prepared().id}/cancel"
    response = post_form(client, cancel, {})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "準備した交付を取り消しました。" in page
    assert _prepared().state == PreparedReleaseState.cancelled
    assert post_form(client, cancel, {}).status_code == 409


def test_the_awarding_officer_is_told_why_on_the_page(app: Flask, client: FlaskClient) -> None:
    world = _world()
    awarder = make_user(Role.officer, locale=Locale.en)
    world.grant.awarded_by_id = awarder.id
    db.session.commit()
    login(client, awarder.email)
    small = f"/officer/milestones/{world.milestones[0].id}/release"
    page = client.get(small).get_data(as_text=True)
    assert "You awarded this grant: another officer releases its tranches" in page
    assert "You may prepare its release, and another officer approves it." in page
    assert "Release ¥100,000,000" not in page and "Prepare the release of ¥100,000,000" in page
    assert post_form(client, small, {}).status_code == 403
    # the grant page links both tranches: the awarding officer prepares their release
    grant_page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert f'href="{small}"' in grant_page
    assert post_form(client, f"{small}/prepare", {}).status_code == 302
    approve_path = f"/officer/milestones/prepared-releases/{_prepared().id}/approve"
    assert post_form(client, approve_path, {}).status_code == 403
    page = client.get(small).get_data(as_text=True)
    assert "You awarded this grant" in page and "Approve and release" not in page


def test_the_api_prepares_lists_and_approves(app: Flask, client: FlaskClient) -> None:
    world = _world()
    first = ApiClient(client, make_user(Role.officer))
    second = ApiClient(client, make_user(Role.officer))
    path = f"/api/v1/milestones/{world.milestones[1].id}/release"
    view = first.get(path).get_json()
    assert view["needs_second_officer"] is True and view["may_prepare"] is True
    assert view["may_release"] is False and view["prepared"] is None
    assert_error(first.post(path), 403, "forbidden")

    created = first.post(f"{path}/prepare")
    assert created.status_code == 201, created.get_json()
    prepared = created.get_json()
    assert prepared["state"] == "pending" and prepared["amount"] == 200_000_000
    assert_error(second.post(f"{path}/prepare"), 409, "conflict")
    view = first.get(path).get_json()
    assert view["prepared"]["id"] == prepared["id"] and view["may_approve"] is False
    assert "この交付を準備したため" in view["refusal"]  # the token owner's language

    listed = second.get("/api/v1/prepared-releases").get_json()
    assert [item["id"] for item in listed["items"]] == [prepared["id"]] and listed["total"] == 1
    approve_path = f"/api/v1/prepared-releases/{prepared['id']}/approve"
    assert_error(first.post(approve_path), 403, "forbidden")
    approved = second.post(approve_path)
    assert approved.status_code == 201 and approved.get_json()["amount"] == 200_000_000
    assert_error(second.post(approve_path), 409, "conflict")
    assert second.get("/api/v1/prepared-releases").get_json()["total"] == 0
    done = second.get("/api/v1/prepared-releases?state=approved").get_json()["items"]
    assert done[0]["disbursement_id"] is not None
    assert_error(second.get("/api/v1/prepared-releases?state=lost"), 422)


def test_the_api_cancels_and_refuses_others(app: Flask, client: FlaskClient) -> None:
    world = _world()
    officer = ApiClient(client, make_user(Role.officer))
    path = f"/api/v1/milestones/{world.milestones[1].id}/release/prepare"
    prepared = officer.post(path).get_json()
    cancel = f"/api/v1/prepared-releases/{prepared['id']}/cancel"
    for role in (Role.admin, Role.reviewer, Role.applicant):
        outsider = ApiClient(client, make_user(role))
        assert_error(outsider.post(cancel), 403, "forbidden")
        assert_error(outsider.post(f"/api/v1/prepared-releases/{prepared['id']}/approve"), 403)
        assert_error(outsider.get("/api/v1/prepared-releases"), 403)
    cancelled = officer.post(cancel)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert_error(officer.post(cancel), 409, "conflict")
    assert_error(officer.post("/api/v1/prepared-releases/999/approve"), 404, "not_found")
