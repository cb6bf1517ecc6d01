"""The grant page: who may see it, what it shows, which buttons, and its query count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import event

from grants import create_app
from grants.accounts.models import User
from grants.amendments import service as amendments
from grants.awards.models import Disbursement, EvidenceFile, EvidenceSubmission, Milestone, Review
from grants.core.calendar import tokyo_today
from grants.core.identity import Locale, OrgKind, Role
from grants.core.states import GrantState, MilestoneState, ReviewDecision
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.releases import service as releases
from tests.conftest import IsolatedClient
from tests.support.approvals import approve, officer
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, login_english, post_form

FUTURE = date(2099, 4, 30)
STUB_ENDPOINTS = {
    "releases.show": "/stub/releases/<int:milestone_id>",
    "investments.index": "/stub/investments/<int:grant_id>",
    "amendments.index": "/stub/amendments/<int:grant_id>",
    "termination.terminate": "/stub/terminate/<int:grant_id>",
}


def grant_page_urls(app: Flask) -> list[str]:
    return [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("grant_page.")]


def switch(client: FlaskClient, user: User) -> None:
    post_form(client, "/logout", {})
    login(client, user.email)


def add_round(
    milestone: Milestone, reviewers: list[User], decision: ReviewDecision | None = None
) -> EvidenceSubmission:
    """A submission round with one file (and reviews), straight into the tables."""
    milestone.round += 1
    submission = EvidenceSubmission(
        milestone_id=milestone.id,
        round=milestone.round,
        narrative=f"Narrative of round {milestone.round}",
        measured=[{"metric": "IC50", "target": "<= 10", "unit": "nM", "value": "8.5"}],
    )
    db.session.add(submission)
    db.session.flush()
    db.session.add(
        EvidenceFile(
            submission_id=submission.id,
            original_name=f"assay-{milestone.id}-{milestone.round}.pdf",
            stored_name=f"{milestone.id:016x}{milestone.round:016x}.pdf",
            content_type="application/pdf",
            size=1234,
            sha256="0" * 64,
        )
    )
    for reviewer in reviewers if decision else []:
        db.session.add(
            Review(
                milestone_id=milestone.id,
                submission_id=submission.id,
                reviewer_id=reviewer.id,
                decision=decision,
                comment=f"Comment by {reviewer.name}",
            )
        )
    milestone.state = MilestoneState.submitted
    db.session.commit()
    return submission


def test_every_route_is_enumerated(app: Flask) -> None:
    assert grant_page_urls(app) == ["/grants/<int:grant_id>"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("grantee", 200),
        ("grantee_colleague", 200),
        ("reviewer", 200),
        ("conflicted_reviewer", 200),
        ("officer", 200),
        ("stranger", 403),
        ("unassigned_reviewer", 403),
        ("admin", 403),
    ],
)
def test_who_may_see_the_grant(client: FlaskClient, who: str, status: int) -> None:
    world = make_grant()
    user = _user(world, who)
    login(client, user.email)
    assert client.get(f"/grants/{world.grant.id}").status_code == status


def _user(world: GrantWorld, who: str) -> User:
    if who == "conflicted_reviewer":
        reviewer = world.reviewers[1]
        assignments.declare_conflict(reviewer, world.grantee.id, None, "Co-founder's spouse")
        return reviewer
    return {
        "grantee": lambda: world.applicant,
        "grantee_colleague": lambda: make_user(Role.applicant, world.grantee),
        "reviewer": lambda: world.reviewers[0],
        "officer": lambda: make_user(Role.officer),
        "stranger": lambda: make_user(Role.applicant, make_org(OrgKind.startup)),
        "unassigned_reviewer": lambda: make_user(Role.reviewer),
        "admin": lambda: make_user(Role.admin),
    }[who]()


def test_anonymous_is_sent_to_login_and_unknown_grant_is_404(client: FlaskClient) -> None:
    world = make_grant()
    response = client.get(f"/grants/{world.grant.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, make_user(Role.officer).email)
    assert client.get("/grants/999999").status_code == 404


def test_the_page_shows_the_grant_money_and_milestones(client: FlaskClient) -> None:
    world = make_grant(first_due=date(2026, 9, 30))
    first = world.milestones[0]
    first.state = MilestoneState.approved
    db.session.add(
        Disbursement(
            milestone_id=first.id,
            grant_id=world.grant.id,
            budget_pool_id=world.program.budget_pools[0].id,
            amount=100_000_000,
            fiscal_year=2026,
            released_by_id=make_user(Role.officer).id,
        )
    )
    db.session.commit()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "MS-TEST-0001" in page and "Test programme" in page
    assert world.grantee.name in page
    assert "¥600,000,000" in page  # award
    assert "¥100,000,000" in page and "¥500,000,000" in page  # released, remaining
    assert "Active" in page and "Version 1" in page
    assert page.index("Milestone 1") < page.index("Milestone 2") < page.index("Milestone 3")
    assert "IC50" in page and "&lt;= 10" in page and "nM" in page
    assert "30 Sep 2026" in page and "FY2026" in page and "FY2027" in page
    assert "Approved" in page and "Planned" in page
    assert world.reviewers[0].name in page and world.reviewers[1].name in page


def test_japanese_page(client: FlaskClient) -> None:
    world = make_grant()
    login(client, world.applicant.email)  # make_user's default locale is ja
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "テスト助成" in page and "6億円" in page and "2026年度" in page


def test_the_overdue_marker_shows_the_scan_s_flag_with_its_date(client: FlaskClient) -> None:
    world = make_grant(first_due=date(2020, 4, 30))  # all three due in 2020-2021
    world.milestones[0].overdue_since = date(2020, 5, 8)  # flagged after a week's grace
    world.milestones[1].state = MilestoneState.approved
    db.session.commit()  # milestone 3 is past due too, but not flagged: no marker
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    days = (tokyo_today(datetime.now(UTC)) - date(2020, 5, 8)).days + 1
    section = _section(page, world.milestones[0])
    assert f"Overdue since 8 May 2020 ({days} days)" in section
    assert 'data-overdue-since="2020-05-08"' in section
    assert "badge-overdue" not in _section(page, world.milestones[1])
    assert "badge-overdue" not in _section(page, world.milestones[2])
    later = make_grant(first_due=FUTURE, code="LATER")
    page = client.get(f"/grants/{later.grant.id}").get_data(as_text=True)
    assert "badge-overdue" not in page and "Overdue since" not in page


def test_the_overdue_marker_in_japanese(client: FlaskClient) -> None:
    world = make_grant(first_due=date(2026, 9, 30))
    world.milestones[0].overdue_since = date(2026, 10, 1)
    db.session.commit()
    login(client, world.applicant.email)  # ja
    section = _section(
        client.get(f"/grants/{world.grant.id}").get_data(as_text=True), world.milestones[0]
    )
    assert "2026年10月1日" in section and 'data-overdue-since="2026-10-01"' in section


def _section(page: str, milestone: Milestone) -> str:
    """The milestone's section of the grant page (the anchor alerts link to)."""
    start = page.index(f'<section class="card milestone" id="milestone-{milestone.id}"')
    return page[start : page.index("</section>", start)]


def test_submit_button_only_for_the_grantee_on_open_milestones(client: FlaskClient) -> None:
    world = make_grant()
    add_round(world.milestones[1], [])
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    first, second, _third = (m.id for m in world.milestones)
    assert f"/milestones/{first}/evidence" in page
    assert f"/milestones/{second}/evidence" not in page
    # (later milestones: tests/milestones/evidence/test_web.py, the current milestone only)
    switch(client, make_user(Role.officer))
    assert '/evidence"' not in client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    world.grant.state = GrantState.suspended
    db.session.commit()
    switch(client, world.applicant)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert f"/milestones/{first}/evidence" not in page


def test_review_button_for_an_eligible_reviewer_who_has_not_decided(
    client: FlaskClient,
) -> None:
    world = make_grant()
    me, other = world.reviewers
    milestone = world.milestones[0]
    add_round(milestone, [other], ReviewDecision.approve)
    login(client, me.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert f"/milestones/{milestone.id}/review" in page
    assert "Narrative of round 1" in page and f"Comment by {other.name}" in page
    switch(client, other)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert f"/milestones/{milestone.id}/review" not in page  # already decided


def test_a_conflicted_reviewer_sees_a_notice_instead_of_evidence(client: FlaskClient) -> None:
    world = make_grant()
    reviewer = world.reviewers[0]
    milestone = world.milestones[0]
    add_round(milestone, [])
    assignments.declare_conflict(reviewer, None, world.grant.id, "Advisor")
    login_english(client, reviewer)
    response = client.get(f"/grants/{world.grant.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "conflict of interest with this grant" in page
    assert "Narrative of round 1" not in page and "/evidence/files/" not in page
    assert f"/milestones/{milestone.id}/review" not in page


def test_evidence_rounds_with_files_and_reviews_are_listed(client: FlaskClient) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    add_round(milestone, world.reviewers, ReviewDecision.request_changes)
    second = add_round(milestone, [])
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "Narrative of round 1" in page and "Narrative of round 2" in page
    assert f"assay-{milestone.id}-2.pdf" in page
    assert f"/evidence/files/{second.files[0].id}" in page
    assert "修正依頼" in page and f"Comment by {world.reviewers[0].name}" in page
    assert "8.5" in page


@pytest.fixture
def stub_app(app: Flask) -> Iterator[Flask]:
    """A second app on the same database with stand-ins for endpoints built elsewhere."""
    other = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        }
    )
    other.test_client_class = IsolatedClient
    for endpoint, rule in STUB_ENDPOINTS.items():
        if endpoint not in other.view_functions:
            other.add_url_rule(rule, endpoint, lambda **kwargs: "stub")
    yield other
    with other.app_context():
        db.engine.dispose()


def test_links_to_other_parts_follow_role_and_state(app: Flask, stub_app: Flask) -> None:
    world = make_grant()
    approved, planned = world.milestones[0], world.milestones[1]
    approved.state = MilestoneState.approved
    db.session.commit()
    officer = make_user(Role.officer, locale=Locale.en)
    grantee = make_user(Role.applicant, world.grantee, locale=Locale.en)
    reviewer_email = world.reviewers[0].email
    grant_id = world.grant.id
    client = stub_app.test_client()
    login(client, officer.email)
    page = client.get(f"/grants/{grant_id}").get_data(as_text=True)
    with stub_app.test_request_context():
        urls = {
            "release": url_for("releases.show", milestone_id=approved.id),
            "release_planned": url_for("releases.show", milestone_id=planned.id),
            "investments": url_for("investments.index", grant_id=grant_id),
            "amendments": url_for("amendments.index", grant_id=grant_id),
            "terminate": url_for("termination.terminate", grant_id=grant_id),
        }
    assert urls["release"] in page and urls["release_planned"] not in page
    for key in ("investments", "amendments", "terminate"):
        assert urls[key] in page, key
    switch(client, grantee)
    page = client.get(f"/grants/{grant_id}").get_data(as_text=True)
    assert urls["amendments"] in page
    for key in ("release", "investments", "terminate"):
        assert urls[key] not in page, key
    switch(client, db.session.query(User).filter_by(email=reviewer_email).one())
    page = client.get(f"/grants/{grant_id}").get_data(as_text=True)
    for key in ("release", "investments", "amendments", "terminate"):
        assert urls[key] not in page, key


def test_the_release_button_is_for_an_officer_who_may_release_it_now(
    client: FlaskClient,
) -> None:
    world = make_grant()
    milestone = world.milestones[0]
    approve(world, milestone)
    path, release = f"/grants/{world.grant.id}", f"/officer/milestones/{milestone.id}/release"
    login_english(client, officer())
    assert release in client.get(path).get_data(as_text=True)
    reviewed = officer()
    submission = db.session.query(EvidenceSubmission).filter_by(milestone_id=milestone.id).one()
    db.session.add(
        Review(
            milestone_id=milestone.id,
            submission_id=submission.id,
            reviewer_id=reviewed.id,
            decision=ReviewDecision.approve,
            comment="ok",
        )
    )
    db.session.commit()
    switch(client, reviewed)  # separation of duties: another officer releases it
    assert release not in client.get(path).get_data(as_text=True)
    releases.release(officer(), milestone.id, date(2026, 10, 15))
    switch(client, officer())
    assert release not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("state", "offered"),
    [(GrantState.active, True), (GrantState.suspended, True), (GrantState.terminated, False)],
)
def test_the_termination_link_while_the_grant_can_be_terminated(
    client: FlaskClient, state: GrantState, offered: bool
) -> None:
    world = make_grant()
    world.grant.state = state
    db.session.commit()
    login_english(client, officer())
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert (f"/officer/grants/{world.grant.id}/terminate" in page) is offered


def _count_queries(client: FlaskClient, path: str) -> tuple[int, int]:
    """The statements of the page once the figures kept while the data stands still (the
    header's My work count) are read: a first request reads them after the sign-in moved
    the data."""
    client.get(path)
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return response.status_code, len(statements)


@pytest.mark.parametrize("who", ["officer", "grantee", "reviewer"])
def test_the_number_of_queries_does_not_grow_with_milestones(client: FlaskClient, who: str) -> None:
    small = make_grant(tranches=(1_000_000,) * 3, code="SMALL")
    large = make_grant(tranches=(1_000_000,) * 30, code="LARGE")
    for world in (small, large):
        for milestone in world.milestones:
            add_round(milestone, world.reviewers, ReviewDecision.request_changes)
            add_round(milestone, world.reviewers[:1], ReviewDecision.approve)
    officer = make_user(Role.officer)
    for world in (small, large):
        user = {"officer": officer, "grantee": world.applicant, "reviewer": world.reviewers[0]}[who]
        login(client, user.email)
        status, world.count = _count_queries(client, f"/grants/{world.grant.id}")  # type: ignore[attr-defined]
        assert status == 200
        post_form(client, "/logout", {})
    assert small.count == large.count  # type: ignore[attr-defined]


# ---- pending amendment requests and the no-go ------------------------------------------------


def _request_amendments(world: GrantWorld) -> list[int]:
    """A due-date change for milestone 2 and a re-split of 1 and 3, both pending, and a
    withdrawn request (not listed)."""
    m1, m2, m3 = world.milestones
    today = date(2026, 8, 1)
    ask = amendments.request_amendment
    withdrawn = ask(world.applicant, world.grant.id, "due_date", m3.id, date(2027, 10, 30),
                    None, "Later.", today)  # fmt: skip
    amendments.withdraw_amendment(world.applicant, withdrawn.id)
    moved = ask(world.applicant, world.grant.id, "due_date", m2.id, date(2027, 4, 30), None,
                "Trial site set-up.", today)  # fmt: skip
    resplit = ask(world.applicant, world.grant.id, "resplit", None, None,
                  {m1.id: 50_000_000, m3.id: 350_000_000}, "Costs move later.", today)  # fmt: skip
    return [moved.id, resplit.id, withdrawn.id]


def _pending_section(page: str) -> str:
    start = page.index('<section class="card pending-amendments"')
    return page[start : page.index("</section>", start)]


def test_pending_amendment_requests_are_shown_with_links(client: FlaskClient) -> None:
    world = make_grant()
    moved, resplit, withdrawn = _request_amendments(world)
    login_english(client, world.applicant)
    section = _pending_section(client.get(f"/grants/{world.grant.id}").get_data(as_text=True))
    assert "Amendment requests awaiting a decision" in section
    assert f'href="/grants/{world.grant.id}/amendments"' in section
    for amendment_id in (moved, resplit):
        assert f'href="/grants/{world.grant.id}/amendments#amendment-{amendment_id}"' in section
    assert f"#amendment-{withdrawn}" not in section
    assert "Due date change" in section and "Tranche re-split" in section
    assert "2. Milestone 2: due date from 30 Mar 2027 to 30 Apr 2027" in section
    assert "1. Milestone 1: tranche from ¥100,000,000 to ¥50,000,000" in section
    assert "3. Milestone 3: tranche from ¥300,000,000 to ¥350,000,000" in section
    assert section.count('<span class="badge">Requested</span>') == 2
    officer = make_user(Role.officer, locale=Locale.en)
    switch(client, officer)
    assert "Amendment requests awaiting a decision" in client.get(
        f"/grants/{world.grant.id}"
    ).get_data(as_text=True)


def test_pending_amendment_requests_in_japanese(client: FlaskClient) -> None:
    world = make_grant()
    _request_amendments(world)
    login(client, world.applicant.email)
    section = _pending_section(client.get(f"/grants/{world.grant.id}").get_data(as_text=True))
    assert "決定待ちの変更申請" in section and "交付額の再配分" in section
    assert "2. Milestone 2：期日を 2027年3月30日 から 2027年4月30日 に変更" in section
    assert "1. Milestone 1：トランシェを 1億円 から 5,000万円 に変更" in section


def test_no_pending_section_without_pending_requests_or_for_reviewers(
    client: FlaskClient,
) -> None:
    world = make_grant()
    login(client, world.applicant.email)
    assert "pending-amendments" not in client.get(f"/grants/{world.grant.id}").get_data(
        as_text=True
    )
    _request_amendments(world)
    switch(client, world.reviewers[0])
    assert "pending-amendments" not in client.get(f"/grants/{world.grant.id}").get_data(
        as_text=True
    )


def test_a_no_go_is_explained_beside_the_rejected_milestone(client: FlaskClient) -> None:
    world = make_grant()
    first, second, third = world.milestones
    first.state = MilestoneState.approved
    second.state = MilestoneState.rejected
    db.session.commit()
    login_english(client, world.applicant)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    rejected = _section(page, second)
    assert f'id="milestone-{second.id}-no-go"' in rejected
    assert "This milestone was not approved (no-go)." in rejected
    assert "the programme officer decides whether the grant continues" in rejected
    assert f'href="/grants/{world.grant.id}/amendments#amendment-new"' in rejected
    later = _section(page, third)
    assert "Evidence for this milestone waits for milestone 2, which was not approved" in later
    assert "/evidence" not in later
    assert "no-go" not in _section(page, first)
    # the officer reads the same, without the grantee's amendment link
    switch(client, make_user(Role.officer, locale=Locale.en))
    rejected = _section(client.get(f"/grants/{world.grant.id}").get_data(as_text=True), second)
    assert "This milestone was not approved (no-go)." in rejected
    assert "#amendment-new" not in rejected


def test_the_no_go_in_japanese_and_for_a_suspended_grant(client: FlaskClient) -> None:
    world = make_grant()
    first = world.milestones[0]
    first.state = MilestoneState.rejected
    world.grant.state = GrantState.suspended  # no amendment can be requested
    db.session.commit()
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    rejected = _section(page, first)
    assert "このマイルストーンは承認されませんでした（No-Go）。" in rejected
    assert "プログラムオフィサーが判断します" in rejected
    assert "#amendment-new" not in rejected


@pytest.mark.parametrize("case", ["none rejected", "terminated"])
def test_no_no_go_notice_otherwise(client: FlaskClient, case: str) -> None:
    world = make_grant()
    if case == "terminated":
        world.milestones[0].state = MilestoneState.cancelled
        world.grant.state = GrantState.terminated
    db.session.commit()
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert "-no-go" not in page and "waits-for-no-go" not in page
