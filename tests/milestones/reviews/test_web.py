"""Reviewer pages: queue, sign-off with quorum, conflicts of interest; forbidden to others."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.awards.models import ConflictDeclaration, Milestone, Review
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from tests.support.approvals import sibling_grant
from tests.support.factories import make_org, make_user, uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import refused, statuses
from tests.support.web import login, login_english, post_form

PDF = b"%PDF-1.7\n%%EOF\n"


def review_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("reviews."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            urls += [(m, path) for m in sorted((rule.methods or set()) & {"GET", "POST"})]
    return urls


def submitted(world: GrantWorld, index: int = 0) -> Milestone:
    milestone = world.milestones[index]
    evidence.submit_evidence(
        world.applicant,
        milestone.id,
        "Assay results attached.",
        {0: "7.5"},
        [("assay.pdf", io.BytesIO(PDF), "application/pdf")],
        date(2026, 9, 1),
        upload_folder=uploads(),
    )
    return milestone


def switch(client: FlaskClient, user: User) -> None:
    post_form(client, "/logout", {})
    login(client, user.email)


def state_of(milestone: Milestone) -> MilestoneState:
    stored = db.session.get(Milestone, milestone.id)
    assert stored is not None
    return stored.state


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(review_urls(app)) == {
        ("GET", "/reviewer/queue"),
        ("GET", "/milestones/1/review"),
        ("POST", "/milestones/1/review"),
        ("GET", "/reviewer/conflicts"),
        ("POST", "/reviewer/conflicts"),
        ("POST", "/reviewer/conflicts/1/withdraw"),  # test_withdrawing_a_declaration
    }


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Reviewers only: the queue and declarations for every reviewer, the sign-off for an
    assigned one without a conflict. Anonymous GETs and POSTs are sent to sign in."""
    world = make_grant()
    milestone = submitted(world)
    elsewhere = make_org(OrgKind.university)  # declaring a conflict with it is harmless
    assert milestone.id == 1
    paths = sorted(url for url in review_urls(app) if not url[1].endswith("/withdraw"))
    queue, declare_form, declare = (
        ("GET", "/reviewer/queue"),
        ("GET", "/reviewer/conflicts"),
        ("POST", "/reviewer/conflicts"),
    )
    review_form, review = ("GET", "/milestones/1/review"), ("POST", "/milestones/1/review")
    data = {"decision": "approve", "comment": "", "organization_id": elsewhere.id, "note": "x"}
    table = statuses(client, world, paths, lambda method, path: data)
    refused(table, "applicant_other_org", "grantee", "officer", "admin")
    assert table["reviewer"] == {
        queue: 200, review_form: 200, review: 302, declare_form: 200, declare: 302
    }  # fmt: skip
    for reviewer in ("reviewer_not_assigned", "reviewer_conflicted"):
        assert table[reviewer] == {
            queue: 200, review_form: 403, review: 403, declare_form: 200, declare: 302
        }, reviewer  # fmt: skip
    # One decision (the assigned reviewer's); one declaration per reviewer who posted one.
    reviews = db.session.query(Review).all()
    assert [r.reviewer_id for r in reviews] == [world.reviewers[0].id]
    declared = db.session.query(ConflictDeclaration).filter_by(organization_id=elsewhere.id)
    assert declared.count() == 3


def test_nav_links_only_for_reviewers(client: FlaskClient) -> None:
    login(client, make_user(Role.officer).email)
    page = client.get("/").get_data(as_text=True)
    assert "/reviewer/queue" not in page and "/reviewer/conflicts" not in page
    switch(client, make_user(Role.reviewer))
    page = client.get("/").get_data(as_text=True)
    assert "/reviewer/queue" in page and "/reviewer/conflicts" in page


def test_the_queue_lists_milestones_awaiting_me(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, world.reviewers[0].email)
    page = client.get("/reviewer/queue").get_data(as_text=True)
    assert "MS-TEST-0001" in page and "Milestone 1" in page
    assert f"/milestones/{milestone.id}/review" in page
    switch(client, make_user(Role.reviewer))
    page = client.get("/reviewer/queue").get_data(as_text=True)
    assert "MS-TEST-0001" not in page and f"/milestones/{milestone.id}/review" not in page


def test_the_review_page_shows_targets_measured_values_and_files(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, world.reviewers[0].email)  # a Japanese-speaking reviewer
    page = client.get(f"/milestones/{milestone.id}/review").get_data(as_text=True)
    assert "Assay results attached." in page
    assert "IC50" in page and "&lt;= 10" in page and "7.5" in page and "nM" in page
    assert "assay.pdf" in page and "/evidence/files/" in page
    assert page.count('type="radio"') == 3 and '="None"' not in page
    assert 'value="approve"' in page and 'value="request_changes"' in page
    assert 'value="reject"' in page and "修正依頼" in page
    assert "<textarea" in page and 'for="comment"' in page


def test_two_approvals_through_the_pages_approve_the_milestone(client: FlaskClient) -> None:
    world = make_grant()
    first, second = world.reviewers
    milestone = submitted(world)
    login(client, first.email)
    path = f"/milestones/{milestone.id}/review"
    response = post_form(client, path, {"decision": "approve", "comment": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reviewer/queue")
    assert state_of(milestone) == MilestoneState.submitted
    page = client.get(path).get_data(as_text=True)
    assert 'type="radio"' not in page  # my decision is shown instead of the form
    switch(client, second)
    assert post_form(client, path, {"decision": "approve", "comment": "OK"}).status_code == 302
    assert state_of(milestone) == MilestoneState.approved
    assert db.session.query(AuditEvent).filter_by(action="review.decide").count() == 2
    assert db.session.query(AuditEvent).filter_by(action="milestone.decide").count() == 1


def test_a_reviewer_cannot_decide_twice(client: FlaskClient) -> None:
    world = make_grant(reviewers=3)
    milestone = submitted(world)
    login(client, world.reviewers[0].email)
    path = f"/milestones/{milestone.id}/review"
    assert post_form(client, path, {"decision": "approve", "comment": ""}).status_code == 302
    response = post_form(client, path, {"decision": "reject", "comment": "No."})
    assert response.status_code == 409
    assert db.session.query(Review).count() == 1


def test_reject_rejects_and_request_changes_reopens_for_round_two(client: FlaskClient) -> None:
    world = make_grant()
    first, second = world.reviewers
    # Two grants: after a no-go no later milestone of the same grant takes evidence.
    milestone, other = submitted(world, 0), submitted(sibling_grant(world, "MS-TEST-0002"), 0)
    login(client, first.email)
    post_form(client, f"/milestones/{milestone.id}/review", {"decision": "approve"})
    post_form(
        client,
        f"/milestones/{other.id}/review",
        {"decision": "request_changes", "comment": "Raw data?"},
    )
    switch(client, second)
    post_form(
        client, f"/milestones/{milestone.id}/review", {"decision": "reject", "comment": "Not met."}
    )
    post_form(client, f"/milestones/{other.id}/review", {"decision": "approve"})
    assert state_of(milestone) == MilestoneState.rejected
    assert state_of(other) == MilestoneState.changes_requested
    switch(client, world.applicant)
    response = post_form(
        client,
        f"/milestones/{other.id}/evidence",
        {"narrative": "Raw data attached.", "measured_0": "7", "files": []},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    stored = db.session.get(Milestone, other.id)
    assert stored is not None and stored.round == 2 and stored.state == MilestoneState.submitted
    switch(client, first)
    page = client.get("/reviewer/queue").get_data(as_text=True)
    assert f"/milestones/{other.id}/review" in page


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_comment_is_required_to_object(client: FlaskClient, decision: str) -> None:
    world = make_grant()
    milestone = submitted(world)
    login_english(client, world.reviewers[0])
    response = post_form(
        client, f"/milestones/{milestone.id}/review", {"decision": decision, "comment": " "}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="comment-error"' in page and "Explain what must change" in page
    assert db.session.query(Review).count() == 0


def test_the_japanese_comment_help_names_the_options_as_they_read(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, world.reviewers[0].email)  # Japanese
    page = client.get(f"/milestones/{milestone.id}/review").get_data(as_text=True)
    assert "不承認（No-Go）</label>" in page and "修正依頼</label>" in page
    assert "修正依頼または不承認（No-Go）の場合は必須です。" in page and "不採択" not in page


def test_no_decision_chosen_is_422(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, world.reviewers[0].email)
    response = post_form(client, f"/milestones/{milestone.id}/review", {"comment": "hm"})
    assert response.status_code == 422
    assert 'id="decision-error"' in response.get_data(as_text=True)


def test_a_conflicted_reviewer_gets_403_and_is_not_counted(client: FlaskClient) -> None:
    world = make_grant(reviewers=3)
    a, b, c = world.reviewers
    milestone = submitted(world)
    assignments.declare_conflict(c, world.grantee.id, None, "Shareholder")
    path = f"/milestones/{milestone.id}/review"
    login(client, c.email)
    assert client.get(path).status_code == 403
    assert post_form(client, path, {"decision": "approve"}).status_code == 403
    assert f"/milestones/{milestone.id}/review" not in client.get("/reviewer/queue").get_data(
        as_text=True
    )
    switch(client, a)
    post_form(client, path, {"decision": "approve"})
    assert state_of(milestone) == MilestoneState.submitted
    switch(client, b)
    post_form(client, path, {"decision": "approve"})
    assert state_of(milestone) == MilestoneState.approved


def test_an_unassigned_reviewer_gets_403(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, make_user(Role.reviewer).email)
    path = f"/milestones/{milestone.id}/review"
    assert client.get(path).status_code == 403
    assert post_form(client, path, {"decision": "approve"}).status_code == 403


def test_a_planned_milestone_is_409_and_unknown_is_404(client: FlaskClient) -> None:
    world = make_grant()
    login(client, world.reviewers[0].email)
    assert client.get(f"/milestones/{world.milestones[0].id}/review").status_code == 409
    assert client.get("/milestones/999999/review").status_code == 404


@pytest.mark.parametrize(
    ("locale", "refusal"),
    [
        (Locale.ja, "実施中でない助成案件のマイルストーンは評価できません。"),
        (Locale.en, "Milestones of a grant that is not active cannot be reviewed."),
    ],
)
def test_the_service_s_refusal_is_shown_in_the_reviewer_s_language(
    client: FlaskClient, locale: Locale, refusal: str
) -> None:
    world = make_grant()
    milestone = submitted(world)
    world.grant.state = GrantState.suspended
    reviewer = world.reviewers[0]
    reviewer.locale = locale
    db.session.commit()
    login(client, reviewer.email)
    path = f"/milestones/{milestone.id}/review"
    for response in (client.get(path), post_form(client, path, {"decision": "approve"})):
        assert response.status_code == 409
        assert refusal in response.get_data(as_text=True)
    assert db.session.query(Review).count() == 0


def test_declaring_a_conflict(client: FlaskClient) -> None:
    world = make_grant()
    reviewer = world.reviewers[0]
    login(client, reviewer.email)
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    assert world.grantee.name in page and "MS-TEST-0001" in page
    response = post_form(
        client,
        "/reviewer/conflicts",
        {"organization_id": str(world.vc.id), "grant_id": "", "note": "元パートナー"},
    )
    assert response.status_code == 302
    declaration = db.session.query(ConflictDeclaration).one()
    assert declaration.reviewer_id == reviewer.id and declaration.organization_id == world.vc.id
    assert declaration.grant_id is None
    assert db.session.query(AuditEvent).filter_by(action="conflict.declare").count() == 1
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    assert "元パートナー" in page and world.vc.name in page
    switch(client, world.reviewers[1])
    assert "元パートナー" not in client.get("/reviewer/conflicts").get_data(as_text=True)


def test_withdrawing_a_declaration(client: FlaskClient) -> None:
    """Only its reviewer withdraws a declaration (another's is not found), with an audit
    row; the other roles are refused, and an anonymous visitor is sent to sign in."""
    world = make_grant()
    mine = assignments.declare_conflict(world.reviewers[0], world.vc.id, None, "元パートナー")
    theirs = assignments.declare_conflict(world.reviewers[1], world.vc.id, None, "株主")
    anonymous = post_form(client, f"/reviewer/conflicts/{mine.id}/withdraw", {})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for role in (Role.applicant, Role.officer, Role.admin):
        switch(client, make_user(role))
        assert post_form(client, f"/reviewer/conflicts/{mine.id}/withdraw", {}).status_code == 403
    switch(client, world.reviewers[0])
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    assert f'action="/reviewer/conflicts/{mine.id}/withdraw"' in page
    assert post_form(client, f"/reviewer/conflicts/{theirs.id}/withdraw", {}).status_code == 404
    response = post_form(client, f"/reviewer/conflicts/{mine.id}/withdraw", {})
    assert response.status_code == 302
    assert [d.id for d in db.session.query(ConflictDeclaration)] == [theirs.id]
    withdrawn = db.session.query(AuditEvent).filter_by(action="conflict.withdraw").one()
    assert (
        withdrawn.actor_id == world.reviewers[0].id and withdrawn.before["note"] == "元パートナー"
    )
    assert "元パートナー" not in client.get("/reviewer/conflicts").get_data(as_text=True)


def test_the_grant_choices_name_the_project_and_the_grantee(client: FlaskClient) -> None:
    world = make_grant()
    world.grantee.name_en = "Sakura Bio"
    db.session.commit()
    login(client, world.reviewers[0].email)
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    choices = page[page.index('id="grant_id"') :]
    option = f'<option value="{world.grant.id}">'
    label = choices[choices.index(option) + len(option) :].split("</option>")[0]
    assert label == f"MS-TEST-0001 · 抗菌薬候補の開発 · {world.grantee.name}"
    world.reviewers[0].locale = Locale.en
    db.session.commit()
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    choices = page[page.index('id="grant_id"') :]
    assert f"{option}MS-TEST-0001 · 抗菌薬候補の開発 · Sakura Bio</option>" in choices


@pytest.mark.parametrize(
    ("data", "field_id"),
    [
        ({"organization_id": "", "grant_id": "", "note": "x"}, "organization_id"),
        ({"organization_id": "ORG", "grant_id": "", "note": " "}, "note"),
        ({"organization_id": "abc", "grant_id": "", "note": "x"}, "organization_id"),
        ({"organization_id": "999999", "grant_id": "", "note": "x"}, "organization_id"),
        ({"organization_id": "", "grant_id": "999999", "note": "x"}, "grant_id"),
    ],
)
def test_bad_declarations_are_422(client: FlaskClient, data: dict[str, str], field_id: str) -> None:
    world = make_grant()
    login(client, world.reviewers[0].email)
    data = {k: (str(world.grantee.id) if v == "ORG" else v) for k, v in data.items()}
    response = post_form(client, "/reviewer/conflicts", data)
    assert response.status_code == 422
    assert f'id="{field_id}-error"' in response.get_data(as_text=True)
    assert db.session.query(ConflictDeclaration).count() == 0


def test_another_grant_cannot_be_chosen(client: FlaskClient) -> None:
    world = make_grant()
    other = make_grant(code="OTHER")
    login(client, world.reviewers[0].email)
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    assert "OTHER-0001" not in page
    data = {"organization_id": "", "grant_id": str(other.grant.id), "note": "x"}
    assert post_form(client, "/reviewer/conflicts", data).status_code == 422


def test_a_declared_conflict_hides_the_grant_from_my_queue(client: FlaskClient) -> None:
    world = make_grant()
    milestone = submitted(world)
    login(client, world.reviewers[0].email)
    assert f"/milestones/{milestone.id}/review" in client.get("/reviewer/queue").get_data(
        as_text=True
    )
    data = {"organization_id": "", "grant_id": str(world.grant.id), "note": "Advisor"}
    assert post_form(client, "/reviewer/conflicts", data).status_code == 302
    assert f"/milestones/{milestone.id}/review" not in client.get("/reviewer/queue").get_data(
        as_text=True
    )


def test_my_declarations_name_the_grant_as_the_choices_do(client: FlaskClient) -> None:
    world = make_grant()
    login(client, world.reviewers[0].email)
    data = {"organization_id": "", "grant_id": str(world.grant.id), "note": "共同研究者"}
    assert post_form(client, "/reviewer/conflicts", data).status_code == 302
    page = client.get("/reviewer/conflicts").get_data(as_text=True)
    listing = page[page.index("共同研究者") - 400 : page.index("共同研究者")]
    assert f"<td>MS-TEST-0001 · 抗菌薬候補の開発 · {world.grantee.name}</td>" in listing
