"""Officer page for reviewer assignment: eligibility, excluded candidates with reasons."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.awards.models import ReviewerAssignment
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import REVIEWERS, refused, statuses
from tests.support.web import login, post_form


def assignment_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("assignments."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            urls += [(m, path) for m in sorted((rule.methods or set()) & {"GET", "POST"})]
    return urls


def assigned_ids(world: GrantWorld) -> set[int]:
    rows = db.session.query(ReviewerAssignment).filter_by(grant_id=world.grant.id)
    return {row.reviewer_id for row in rows}


def path_of(world: GrantWorld) -> str:
    return f"/officer/grants/{world.grant.id}/reviewers"


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(assignment_urls(app)) == {
        ("GET", "/officer/grants/1/reviewers"),
        ("POST", "/officer/grants/1/reviewers"),
        ("GET", "/officer/grants/reviewers"),
        ("GET", "/officer/grants/reviewers/bulk"),
        ("POST", "/officer/grants/reviewers/bulk"),
    }


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Officers only; anonymous POSTs are sent to sign in too."""
    world = make_grant()
    assert world.grant.id == 1
    candidate = make_user(Role.reviewer, make_org(OrgKind.university))
    paths = sorted(assignment_urls(app))
    table = statuses(
        client, world, paths, lambda method, path: {"reviewer_id": candidate.id, "op": "assign"}
    )
    refused(table, "applicant_other_org", "grantee", *REVIEWERS, "admin")
    edit, assignable, confirm, assign, bulk = paths
    # the bulk pages without grants ticked go back to the list
    expected = {edit: 200, assignable: 200, confirm: 302, assign: 302, bulk: 302}
    assert table["officer"] == expected
    # Only the officer's assignment was made (beside the matrix's own conflicted reviewer).
    added = assigned_ids(world) - {r.id for r in world.reviewers}
    assert candidate.id in added and len(added) == 2
    assert db.session.query(AuditEvent).filter_by(action="reviewer.assign").count() == 1


def test_the_page_shows_eligibility_and_excluded_candidates_with_reasons(
    client: FlaskClient,
) -> None:
    world = make_grant()
    free = make_user(Role.reviewer, make_org(OrgKind.university))
    same = make_user(Role.reviewer, world.grantee)
    vc_person = make_user(Role.reviewer, world.vc)
    declared = make_user(Role.reviewer)
    assignments.declare_conflict(declared, None, world.grant.id, "Advisor")
    assignments.declare_conflict(world.reviewers[0], world.vc.id, None, "LP")
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(path_of(world)).get_data(as_text=True)
    assert "Same organization" in page and "Tied to an investing VC" in page
    assert "Declared conflict" in page and "Eligible to review" in page and "Can review" in page
    assert f'name="reviewer_id" value="{free.id}"' in page
    for excluded in (same, vc_person, declared):
        assert excluded.name in page
        assert f'name="reviewer_id" value="{excluded.id}"' not in page
    row = page[page.index(world.reviewers[0].name) :]
    assert "Conflicted" in row[: row.index("</tr>")]


def test_japanese_reason_labels(client: FlaskClient) -> None:
    world = make_grant()
    make_user(Role.reviewer, world.grantee)
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = client.get(path_of(world)).get_data(as_text=True)
    assert "同一組織" in page
    # Eligible to review (no conflict), not the application's eligibility (応募資格).
    assert '<th scope="col">審査可否</th>' in page and "審査可</span>" in page
    assert "応募資格" not in page


def test_officer_assigns_and_unassigns(client: FlaskClient) -> None:
    world = make_grant()
    free = make_user(Role.reviewer, make_org(OrgKind.university))
    login(client, make_user(Role.officer).email)
    response = post_form(client, path_of(world), {"reviewer_id": free.id, "op": "assign"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path_of(world))
    assert free.id in assigned_ids(world)
    gone = world.reviewers[0]
    response = post_form(client, path_of(world), {"reviewer_id": gone.id, "op": "unassign"})
    assert response.status_code == 302
    assert assigned_ids(world) == {world.reviewers[1].id, free.id}
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"reviewer.assign", "reviewer.unassign"} <= actions


@pytest.mark.parametrize(
    ("kind", "text"),
    [("same", "Same organization"), ("vc", "Tied to an investing VC"), ("declared", "Declared")],
)
def test_a_forged_assignment_of_a_conflicted_reviewer_is_422_with_the_reason(
    client: FlaskClient, kind: str, text: str
) -> None:
    world = make_grant()
    if kind == "same":
        user = make_user(Role.reviewer, world.grantee)
    elif kind == "vc":
        user = make_user(Role.reviewer, world.vc)
    else:
        user = make_user(Role.reviewer)
        assignments.declare_conflict(user, world.grantee.id, None, "Family")
    login(client, make_user(Role.officer, locale=Locale.en).email)
    response = post_form(client, path_of(world), {"reviewer_id": user.id, "op": "assign"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "conflict of interest with this grant" in page and text in page
    assert user.id not in assigned_ids(world)


def test_refusals_in_japanese(client: FlaskClient) -> None:
    world = make_grant()
    conflicted = make_user(Role.reviewer, world.grantee)
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = post_form(client, path_of(world), {"reviewer_id": conflicted.id, "op": "assign"})
    assert f"{conflicted.name} はこの助成案件と利益相反があります：" in page.get_data(as_text=True)
    twice = post_form(
        client, path_of(world), {"reviewer_id": world.reviewers[0].id, "op": "assign"}
    )
    assert twice.status_code == 409
    assert "この評価者は既にこの助成案件に割り当てられています。" in twice.get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"reviewer_id": "abc", "op": "assign"},
        {"reviewer_id": "", "op": "assign"},
        {"reviewer_id": "5", "op": "delete-all"},
        {"reviewer_id": "999999", "op": "assign"},
    ],
)
def test_bad_input_is_422(client: FlaskClient, data: dict[str, str]) -> None:
    world = make_grant()
    login(client, make_user(Role.officer).email)
    assert post_form(client, path_of(world), data).status_code == 422
    assert assigned_ids(world) == {r.id for r in world.reviewers}


def test_twice_is_409_unknown_grant_404_closed_grant_has_no_buttons(client: FlaskClient) -> None:
    world = make_grant()
    login(client, make_user(Role.officer).email)
    data = {"reviewer_id": world.reviewers[0].id, "op": "assign"}
    assert post_form(client, path_of(world), data).status_code == 409
    assert client.get("/officer/grants/999999/reviewers").status_code == 404
    world.grant.state = GrantState.terminated
    db.session.commit()
    page = client.get(path_of(world)).get_data(as_text=True)
    assert 'name="op"' not in page
    data = {"reviewer_id": world.reviewers[0].id, "op": "unassign"}
    assert post_form(client, path_of(world), data).status_code == 409


def test_the_grant_page_links_officers_to_the_reviewers_page(client: FlaskClient) -> None:
    world = make_grant()
    login(client, make_user(Role.officer).email)
    assert path_of(world) in client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    post_form(client, "/logout", {})
    login(client, world.applicant.email)
    assert path_of(world) not in client.get(f"/grants/{world.grant.id}").get_data(as_text=True)


def test_a_quorum_that_cannot_be_reached_is_warned_about(client: FlaskClient) -> None:
    world = make_grant(reviewers=2)  # the preset's review quorum is 2
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(path_of(world)).get_data(as_text=True)
    assert 'id="quorum-warning"' not in page
    # Assigned before declaring a conflict: still on the grant, no longer counted.
    assignments.declare_conflict(world.reviewers[0], None, world.grant.id, "Advisor")
    page = client.get(path_of(world)).get_data(as_text=True)
    assert 'id="quorum-warning"' in page
    warning = page[
        page.index('id="quorum-warning"') : page.index("</div>", page.index('id="quorum-warning"'))
    ]
    assert "1 eligible reviewer is assigned, and the rule set's quorum is 2" in warning
    assert "Assign at least 1 more eligible reviewer," in warning
    free = make_user(Role.reviewer, make_org(OrgKind.university))
    post_form(client, path_of(world), {"reviewer_id": free.id, "op": "assign"})
    assert 'id="quorum-warning"' not in client.get(path_of(world)).get_data(as_text=True)


def test_a_grant_without_reviewers_is_warned_about_in_the_plural(client: FlaskClient) -> None:
    world = make_grant(reviewers=0)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(path_of(world)).get_data(as_text=True)
    assert "0 eligible reviewers are assigned, and the rule set's quorum is 2" in page
    assert "Assign at least 2 more eligible reviewers," in page


def test_a_closed_grant_shows_no_quorum_warning(client: FlaskClient) -> None:
    world = make_grant(reviewers=0)
    world.grant.state = GrantState.terminated
    db.session.commit()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    assert 'id="quorum-warning"' not in client.get(path_of(world)).get_data(as_text=True)


def test_the_grant_page_warns_its_officers_of_an_unreachable_quorum(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(reviewers=1)  # the preset's review quorum is 2
    grant_page = f"/grants/{world.grant.id}"
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(grant_page).get_data(as_text=True)
    assert "1 eligible reviewer is assigned, and the rule set's quorum is 2" in page
    grantee = app.test_client()
    login(grantee, world.applicant.email)
    assert 'id="quorum-warning"' not in grantee.get(grant_page).get_data(as_text=True)
    post_form(client, path_of(world), {"reviewer_id": make_user(Role.reviewer).id, "op": "assign"})
    assert 'id="quorum-warning"' not in client.get(grant_page).get_data(as_text=True)
