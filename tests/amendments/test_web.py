"""Amendment pages: grantee requests, officer decisions, withdrawal, errors beside fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.awards.models import Amendment, Milestone
from grants.core.calendar import tokyo_today
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.core.states import AmendmentKind, AmendmentState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import OUTSIDERS, refused, routes, statuses, switch
from tests.support.web import login, post_form

TODAY = tokyo_today(datetime.now(UTC))


def _world() -> GrantWorld:
    world = make_grant(first_due=TODAY + timedelta(days=60))
    world.applicant.locale = Locale.en
    db.session.commit()
    return world


def _url(world: GrantWorld) -> str:
    return f"/grants/{world.grant.id}/amendments"


def _due_form(world: GrantWorld, days: int = 30, index: int = 1) -> dict[str, object]:
    milestone = world.milestones[index]
    return {
        "kind": "due_date",
        "milestone_id": str(milestone.id),
        "new_due_date": (milestone.due_date + timedelta(days=days)).isoformat(),
        "reason": "Trial site set-up takes longer.",
    }


def _requested(world: GrantWorld, by_id: int | None = None) -> Amendment:
    milestone = world.milestones[1]
    amendment = Amendment(
        grant_id=world.grant.id,
        milestone_id=milestone.id,
        kind=AmendmentKind.due_date,
        state=AmendmentState.requested,
        new_due_date=milestone.due_date + timedelta(days=10),
        reason="Stored request",
        requested_by_id=by_id,
    )
    db.session.add(amendment)
    db.session.commit()
    return amendment


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "amendments") == [
        ("GET", "/grants/1/amendments"),
        ("GET", "/officer/amendments"),
        ("POST", "/amendments/1/decide"),
        ("POST", "/amendments/1/withdraw"),
        ("POST", "/grants/1/amendments"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = _world()
    colleague = make_user(Role.applicant, world.grantee)
    assert _requested(world, colleague.id).id == 1
    paths = routes(app, "amendments")

    def data(method: str, path: str) -> dict[str, object]:
        if path.endswith("/decide"):
            return {"a1-decision": "approve", "a1-note": "ok"}
        # milestone 3: milestone 2 has the stored request pending
        return _due_form(world, index=2) if path == "/grants/1/amendments" else {}

    table = statuses(client, world, paths, data)
    get, every, decide, withdraw, post = paths
    refused(table, *OUTSIDERS, "admin")
    assert table["grantee"] == {get: 200, every: 403, post: 302, decide: 403, withdraw: 403}
    # Assigned reviewers read the grant's amendments (a declared conflict hides evidence,
    # not the schedule); they never request or decide one.
    for reviewer in ("reviewer", "reviewer_conflicted"):
        expected = {get: 200, every: 403, post: 403, decide: 403, withdraw: 403}
        assert table[reviewer] == expected, reviewer
    assert table["officer"] == {get: 200, every: 200, post: 403, decide: 302, withdraw: 403}
    states = {a.id: a.state for a in db.session.query(Amendment)}
    assert states == {1: AmendmentState.approved, 2: AmendmentState.requested}


def test_unassigned_reviewer_is_refused(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, make_user(Role.reviewer).email)
    assert client.get(_url(world)).status_code == 403


def test_grantee_requests_a_due_date_change(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Request an amendment" in page and 'name="new_split_' in page
    response = post_form(client, _url(world), _due_form(world))
    assert response.status_code == 302
    amendment = db.session.query(Amendment).one()
    assert (
        amendment.kind == AmendmentKind.due_date and amendment.requested_by_id == world.applicant.id
    )
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Due date change" in page and "Withdraw this request" in page
    response = post_form(client, f"/amendments/{amendment.id}/withdraw", {})
    assert response.status_code == 302
    db.session.refresh(amendment)
    assert amendment.state == AmendmentState.withdrawn


def test_request_errors_sit_beside_the_fields(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    # the last milestone: no next milestone whose date the extension could reach first
    too_far = post_form(client, _url(world), _due_form(world, days=181, index=2))
    assert too_far.status_code == 422
    body = too_far.get_data(as_text=True)
    assert 'id="new_due_date-error"' in body and "at most 180 are allowed" in body
    no_reason = post_form(client, _url(world), _due_form(world) | {"reason": ""})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.get_data(as_text=True)
    bad_date = post_form(client, _url(world), _due_form(world) | {"new_due_date": "soon"})
    assert bad_date.status_code == 422
    bad_milestone = post_form(client, _url(world), _due_form(world) | {"milestone_id": "x"})
    assert bad_milestone.status_code == 422
    assert db.session.query(Amendment).count() == 0


def test_a_due_date_past_the_next_milestone_is_422_beside_the_field(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    first, second, _third = world.milestones
    login(client, world.applicant.email)
    past_next = (second.due_date + timedelta(days=1) - first.due_date).days
    response = post_form(client, _url(world), _due_form(world, days=past_next, index=0))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="new_due_date-error"' in body
    assert "must be before the due date of milestone 2" in body
    before_previous = (first.due_date - second.due_date).days  # onto milestone 1's date
    response = post_form(client, _url(world), _due_form(world, days=before_previous, index=1))
    assert response.status_code == 422
    assert "must be after the due date of milestone 1" in response.get_data(as_text=True)
    assert db.session.query(Amendment).count() == 0


def test_resplit_through_the_form(app: Flask, client: FlaskClient) -> None:
    world = _world()
    m1, m2, m3 = world.milestones
    login(client, world.applicant.email)
    base = {
        "kind": "resplit",
        "milestone_id": str(m1.id),
        "reason": "Costs move later.",
        f"new_split_{m1.id}": "",  # left out of the re-split
    }
    wrong_total = post_form(
        client,
        _url(world),
        base | {f"new_split_{m2.id}": "250,000,000", f"new_split_{m3.id}": "200,000,000"},
    )
    assert wrong_total.status_code == 422
    assert "must add up to the current total of ¥500,000,000" in wrong_total.get_data(as_text=True)
    not_a_number = post_form(client, _url(world), base | {f"new_split_{m2.id}": "lots"})
    assert not_a_number.status_code == 422
    assert f'id="new_split_{m2.id}-error"' in not_a_number.get_data(as_text=True)
    assert db.session.query(Amendment).count() == 0
    response = post_form(
        client,
        _url(world),
        base
        | {
            f"new_split_{m2.id}": "250,000,000",
            f"new_split_{m3.id}": "２５０,０００,０００",
        },
    )
    assert response.status_code == 302
    amendment = db.session.query(Amendment).one()
    assert amendment.new_split == {str(m2.id): 250_000_000, str(m3.id): 250_000_000}


def test_a_resplit_refusal_in_japanese(app: Flask, client: FlaskClient) -> None:
    world = _world()
    m1, m2, m3 = world.milestones
    world.applicant.locale = Locale.ja
    db.session.commit()
    login(client, world.applicant.email)
    form = {
        "kind": "resplit",
        "milestone_id": str(m1.id),
        "reason": "後半に費用が移るため。",
        f"new_split_{m1.id}": "",
        f"new_split_{m2.id}": "2億5,000万",
        f"new_split_{m3.id}": "2億",
    }
    response = post_form(client, _url(world), form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "新しい金額の合計は現在の合計額 5億円 と一致する必要があります。" in page


def test_officer_declines_with_a_note_and_approves(app: Flask, client: FlaskClient) -> None:
    world = _world()
    first, second = _requested(world, world.applicant.id), _requested(world, world.applicant.id)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(_url(world)).get_data(as_text=True)
    assert f'name="a{first.id}-decision"' in page and "Required when declining." in page
    decide = f"/amendments/{first.id}/decide"
    response = post_form(client, decide, {f"a{first.id}-decision": "decline"})
    assert response.status_code == 422
    assert "Say why the amendment is declined." in response.get_data(as_text=True)
    assert post_form(client, decide, {}).status_code == 422  # no decision chosen
    response = post_form(
        client, decide, {f"a{first.id}-decision": "decline", f"a{first.id}-note": "Too late."}
    )
    assert response.status_code == 302
    response = post_form(
        client, f"/amendments/{second.id}/decide", {f"a{second.id}-decision": "approve"}
    )
    assert response.status_code == 302
    milestone = db.session.get(Milestone, world.milestones[1].id)
    db.session.refresh(milestone)
    assert milestone.due_date == second.new_due_date
    assert db.session.query(AuditEvent).filter_by(action="amendment.approve").count() == 1
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Too late." in page and "Due date changed from" in page
    assert post_form(client, decide, {f"a{first.id}-decision": "approve"}).status_code == 409


def test_the_requester_alone_sees_the_withdraw_button(app: Flask, client: FlaskClient) -> None:
    world = _world()
    colleague = make_user(Role.applicant, world.grantee, locale=Locale.en)
    _requested(world, world.applicant.id)
    login(client, colleague.email)
    assert "Withdraw this request" not in client.get(_url(world)).get_data(as_text=True)
    switch(client, world.applicant)
    assert "Withdraw this request" in client.get(_url(world)).get_data(as_text=True)


def test_unknown_ids_are_404(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    assert client.get("/grants/999/amendments").status_code == 404
    assert post_form(client, "/amendments/999/withdraw", {}).status_code == 404
    switch(client, make_user(Role.officer))
    assert post_form(client, "/amendments/999/decide", {}).status_code == 404


def test_a_resplit_in_oku_and_a_due_date_with_slashes(app: Flask, client: FlaskClient) -> None:
    world = _world()
    m1, m2, m3 = world.milestones
    login(client, world.applicant.email)
    base = {"kind": "resplit", "milestone_id": str(m1.id), "reason": "Costs move later."}
    split = {f"new_split_{m1.id}": "", f"new_split_{m2.id}": "3億", f"new_split_{m3.id}": "2億円"}
    too_large = post_form(client, _url(world), base | split | {f"new_split_{m2.id}": "2,000兆"})
    assert too_large.status_code == 422
    page = too_large.get_data(as_text=True)
    assert f'id="new_split_{m2.id}-error"' in page and "This amount is too large." in page
    assert 'value="2,000兆"' in page
    assert post_form(client, _url(world), base | split).status_code == 302
    assert db.session.query(Amendment).one().new_split == {
        str(m2.id): 300_000_000,
        str(m3.id): 200_000_000,
    }
    new_due = m1.due_date + timedelta(days=10)
    form = _due_form(world, index=0) | {"new_due_date": new_due.strftime("%Y/%m/%d")}
    assert post_form(client, _url(world), form).status_code == 302
    assert db.session.query(Amendment).filter_by(
        kind=AmendmentKind.due_date
    ).one().new_due_date == (new_due)


def test_a_reason_keeps_its_lines_but_not_control_characters(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    login(client, world.applicant.email)
    bell = post_form(client, _url(world), _due_form(world) | {"reason": "Late\x07"})
    assert bell.status_code == 422
    body = bell.get_data(as_text=True)
    assert 'id="reason-error"' in body and "control character (U+0007)" in body
    lines = post_form(client, _url(world), _due_form(world) | {"reason": "Late.\r\n\tSite B."})
    assert lines.status_code == 302
    assert db.session.query(Amendment).one().reason == "Late.\r\n\tSite B."


def _resplit_beyond_the_pool() -> tuple[GrantWorld, Amendment]:
    """A re-split that moves ¥50,000,000 into FY2026, whose pool has nothing left."""
    world = make_grant(first_due=date(2027, 3, 1))  # FY2026, FY2027, FY2027
    for pool in db.session.query(BudgetPool):
        pool.appropriation = pool.committed
    m1, m2, _m3 = world.milestones
    amendment = Amendment(
        grant_id=world.grant.id,
        kind=AmendmentKind.resplit,
        state=AmendmentState.requested,
        new_split={str(m1.id): 150_000_000, str(m2.id): 150_000_000},
        reason="Costs move earlier.",
    )
    db.session.add(amendment)
    db.session.commit()
    return world, amendment


def test_the_japanese_decision_page_says_what_each_figure_and_option_is(
    app: Flask, client: FlaskClient
) -> None:
    world, amendment = _resplit_beyond_the_pool()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "<dt>申請日時</dt>" in page  # when it was asked for
    assert '<th scope="col" class="num">申請額</th>' in page  # the amounts asked for
    assert "承認</label>" in page and "却下</label>" in page
    assert "却下する場合は必須です。" in page and "辞退" not in page


def test_a_pool_refusal_names_the_fiscal_year_once_and_is_shown_once(
    app: Flask, client: FlaskClient
) -> None:
    world, amendment = _resplit_beyond_the_pool()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    decide = f"/amendments/{amendment.id}/decide"
    response = post_form(client, decide, {f"a{amendment.id}-decision": "approve"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    message = "2026年度の予算枠の残額は0円ですが、さらに5,000万円必要です。"
    assert body.count(message) == 1 and "年度年度" not in body
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.requested


def test_a_milestone_with_a_pending_request_refuses_another_beside_the_field(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    m1, m2, m3 = world.milestones
    login(client, world.applicant.email)
    assert post_form(client, _url(world), _due_form(world)).status_code == 302  # milestone 2
    response = post_form(client, _url(world), _due_form(world, days=40))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="milestone_id-error"' in body
    assert "Milestone 2 already has an amendment request waiting for a decision" in body
    # A re-split: the form offers every open tranche at its current amount; milestone 2's
    # left as it is does not touch it, changing it does.
    resplit = {
        "kind": "resplit",
        "reason": "Costs move later.",
        f"new_split_{m1.id}": "100,000,000",
        f"new_split_{m2.id}": "150,000,000",
        f"new_split_{m3.id}": "350,000,000",
    }
    response = post_form(client, _url(world), resplit)
    assert response.status_code == 422
    assert f'id="new_split_{m2.id}-error"' in response.get_data(as_text=True)
    resplit |= {f"new_split_{m2.id}": "200,000,000", f"new_split_{m1.id}": "50,000,000"}
    assert post_form(client, _url(world), resplit).status_code == 302
    states = [a.state for a in db.session.query(Amendment)]
    assert states == [AmendmentState.requested, AmendmentState.requested]


def test_the_form_parts_are_headed_by_the_kinds_names(app: Flask, client: FlaskClient) -> None:
    world = _world()
    world.applicant.locale = Locale.ja
    db.session.commit()
    login(client, world.applicant.email)
    m2, m3 = world.milestones[1], world.milestones[2]
    resplit = {
        "kind": "resplit",
        "reason": "後半に費用が移るため",
        f"new_split_{world.milestones[0].id}": "",
        f"new_split_{m2.id}": "250,000,000",
        f"new_split_{m3.id}": "250,000,000",
    }
    assert post_form(client, _url(world), resplit).status_code == 302
    page = client.get(_url(world)).get_data(as_text=True)
    assert "<legend>期日の変更</legend>" in page and "<legend>交付額の再配分</legend>" in page
    assert '-title">交付額の再配分</h3>' in page  # the request, under the same name
    assert "トランシェ再配分" not in page
