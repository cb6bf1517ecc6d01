"""The tranche release page: gates, pool, one release, friendly refusals."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.awards.models import Disbursement, EvidenceSubmission, Review
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.approvals import approve, without_budget_gate
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import REVIEWERS, refused, routes, statuses
from tests.support.web import login, post_form


def _approved() -> GrantWorld:
    world = make_grant()
    approve(world, world.milestones[0])
    return world


def _url(world: GrantWorld, index: int = 0) -> str:
    return f"/officer/milestones/{world.milestones[index].id}/release"


def _officer(client: FlaskClient) -> None:
    login(client, make_user(Role.officer, locale=Locale.en).email)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "releases") == [
        ("GET", "/officer/milestones/1/release"),
        ("GET", "/officer/milestones/awaiting-release"),
        ("GET", "/officer/milestones/bulk-release"),
        ("POST", "/officer/milestones/1/release"),
        ("POST", "/officer/milestones/1/release/prepare"),
        ("POST", "/officer/milestones/bulk-release"),
        ("POST", "/officer/milestones/prepared-releases/1/approve"),
        ("POST", "/officer/milestones/prepared-releases/1/cancel"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = make_grant()  # milestone 1 planned: an allowed POST is a 409, never a release
    assert world.milestones[0].id == 1
    paths = routes(app, "releases")
    show, queue, confirm, release, prepare, bulk, approve, cancel = paths
    table = statuses(client, world, paths)
    refused(table, "applicant_other_org", "grantee", *REVIEWERS)
    # an administrator looks, never releases
    assert table["admin"] == {
        show: 403,
        queue: 200,
        confirm: 403,
        release: 403,
        prepare: 403,
        bulk: 403,
        approve: 403,
        cancel: 403,
    }
    # nothing is prepared (no prepared release 1), nothing ticked (back to the queue)
    assert table["officer"] == {
        show: 200,
        queue: 200,
        confirm: 302,
        release: 409,
        prepare: 409,
        bulk: 302,
        approve: 404,
        cancel: 404,
    }
    assert db.session.query(Disbursement).count() == 0


def test_officer_sees_gates_and_pool_and_releases_once(app: Flask, client: FlaskClient) -> None:
    world = _approved()
    _officer(client)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Milestone 1" in page and world.grant.number in page
    assert "All earlier milestones approved" in page and "Review quorum" in page
    assert "Within the budget pool" in page and "All gates pass" in page
    assert "¥10,000,000,000" in page and "¥300,000,000" in page  # appropriation, committed
    assert "Release ¥100,000,000" in page

    response = post_form(client, _url(world), {})
    assert response.status_code == 302
    assert db.session.query(Disbursement).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="tranche.release").count() == 1
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The tranche of ¥100,000,000 was released." in followed

    again = post_form(client, _url(world), {})
    assert again.status_code == 409
    assert "This tranche has already been released." in again.get_data(as_text=True)
    assert db.session.query(Disbursement).count() == 1
    page = client.get(_url(world)).get_data(as_text=True)
    assert "This tranche was released" in page and "Release ¥100,000,000" not in page


def test_failing_gates_are_shown_and_block_the_release(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    approve(world, world.milestones[1])  # milestone 1 is not approved
    _officer(client)
    page = client.get(_url(world, 1)).get_data(as_text=True)
    assert "A gate blocks the release" in page and "Prior milestones approved: 0 of 1" in page
    assert "Release ¥200,000,000" not in page
    response = post_form(client, _url(world, 1), {})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "The tranche cannot be released" in body and "All earlier milestones approved" in body
    assert db.session.query(Disbursement).count() == 0
    pool = db.session.scalars(select(BudgetPool).filter_by(fiscal_year=2026)).one()
    assert pool.released == 0 and pool.committed == 300_000_000


def test_an_officer_who_reviewed_the_milestone_is_refused(app: Flask, client: FlaskClient) -> None:
    world = _approved()
    reviewing = make_user(Role.officer, locale=Locale.en)
    submission = db.session.scalars(select(EvidenceSubmission)).one()
    db.session.add(
        Review(
            milestone_id=world.milestones[0].id,
            submission_id=submission.id,
            reviewer_id=reviewing.id,
            decision="approve",
            comment="ok",
        )
    )
    db.session.commit()
    login(client, reviewing.email)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "You reviewed this milestone: another officer must do this." in page
    assert "Release ¥100,000,000" not in page
    assert post_form(client, _url(world), {}).status_code == 403
    assert db.session.query(Disbursement).count() == 0


def test_a_milestone_not_yet_approved_has_no_button(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    _officer(client)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Only an approved milestone" in page and "<button" not in page.split("</header>")[1]


def test_unknown_milestone_is_404(app: Flask, client: FlaskClient) -> None:
    make_grant()
    _officer(client)
    assert client.get("/officer/milestones/999/release").status_code == 404
    assert post_form(client, "/officer/milestones/999/release", {}).status_code == 404
    assert client.get("/officer/milestones/abc/release").status_code == 404


def test_page_in_japanese(app: Flask, client: FlaskClient) -> None:
    world = _approved()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "先行マイルストーンがすべて承認済み" in page and "100億円" in page
    assert "2026年度予算枠" in page and "年度年度" not in page


def test_failing_gates_are_named_in_the_officers_language(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    approve(world, world.milestones[1])  # milestone 1 is not approved
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    body = post_form(client, _url(world, 1), {}).get_data(as_text=True)
    assert "トランシェを交付できません" in body and "先行マイルストーンがすべて承認済み" in body
    assert "The tranche cannot be released" not in body


def test_a_second_release_is_refused_in_the_officers_language(
    app: Flask, client: FlaskClient
) -> None:
    world = _approved()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    assert post_form(client, _url(world), {}).status_code == 302
    again = post_form(client, _url(world), {})
    assert again.status_code == 409
    assert "このトランシェは既に交付済みです。" in again.get_data(as_text=True)


def test_pool_overdraw_shows_the_year_and_the_shortfall(app: Flask, client: FlaskClient) -> None:
    world = make_grant(tranches=(300_000_000,), appropriation=250_000_000)
    without_budget_gate(world)
    approve(world, world.milestones[0])
    _officer(client)
    response = post_form(client, _url(world), {})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "FY2026 budget pool cannot cover this tranche: ¥50,000,000 short" in body
    assert db.session.query(Disbursement).count() == 0


def _row(page: str, rule_id: str) -> str:
    start = page.index(f'data-rule="{rule_id}"')
    return page[start : page.index("</tr>", start)]


def test_budget_gate_shows_yen_and_says_it_counts_the_tranches_own_reservation(
    app: Flask, client: FlaskClient
) -> None:
    world = _approved()  # FY2026: 100億円 appropriated, 3億円 committed (milestones 1 and 2)
    _officer(client)
    page = client.get(_url(world)).get_data(as_text=True)
    row = _row(page, "budget_pool")
    assert '<td class="num">¥100,000,000</td>' in row
    assert '<td class="num">¥9,800,000,000</td>' in row  # 97億円 available + its own 1億円
    assert "available for this tranche, including its own reservation" in row
    assert "9700000000" not in page and "9800000000" not in page
    note = page[page.index('id="pool-room"') :].split("</p>")[0]
    assert "Available for this tranche: ¥9,800,000,000" in note
    assert "¥9,700,000,000 still available" in note and "reservation of ¥100,000,000" in note

    japanese = app.test_client()
    login(japanese, make_user(Role.officer, locale=Locale.ja).email)
    page = japanese.get(_url(world)).get_data(as_text=True)
    row = _row(page, "budget_pool")
    assert '<td class="num">1億円</td>' in row and '<td class="num">98億円</td>' in row
    assert "このトランシェに充当できる予算 98億円。自らの引当分を含む" in row
    assert "このトランシェに充当できる予算: 98億円" in page


def test_a_released_tranche_has_no_room_note(app: Flask, client: FlaskClient) -> None:
    world = _approved()
    _officer(client)
    post_form(client, _url(world), {})
    page = client.get(_url(world)).get_data(as_text=True)
    assert 'id="pool-room"' not in page
