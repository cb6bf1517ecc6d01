"""Grants short of reviewers, and assigning one reviewer to several grants at once.

The conflict of interest is decided in SQL for the lists (awards.queries.conflict_clause)
and in Python for one grant (core.conflicts): both must say the same.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.awards.models import Grant, ReviewerAssignment
from grants.awards.queries import conflict_clause, eligible_reviewer_ids, reviewer_conflicts
from grants.core.alert_kinds import AlertKind
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState
from grants.extensions import db
from grants.milestones.assignments import queries as assignment_queries
from grants.milestones.assignments import service as assignments
from grants.milestones.assignments.queries import ASSIGNABLE, SHORT
from tests.support.api import api_as, assert_error
from tests.support.approvals import sibling_grant
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

TODAY = date(2026, 6, 1)


def _reviewers_of_every_kind(world: GrantWorld) -> list[User]:
    """Reviewers without an organisation, of another one, of the grantee, of its VC, and
    with a conflict declared with the grant, the grantee or the VC."""
    plain = [make_user(Role.reviewer), make_user(Role.reviewer, make_org(OrgKind.university))]
    tied = [make_user(Role.reviewer, world.grantee), make_user(Role.reviewer, world.vc)]
    declared = [make_user(Role.reviewer) for _ in range(3)]
    assignments.declare_conflict(declared[0], None, world.grant.id, "Advisor")
    assignments.declare_conflict(declared[1], world.grantee.id, None, "Family")
    assignments.declare_conflict(declared[2], world.vc.id, None, "LP")
    return plain + tied + declared


def test_sql_and_python_agree_on_every_conflict(app: Flask) -> None:
    world = make_grant()
    other = sibling_grant(world, "MS-TEST-0002")
    reviewers = _reviewers_of_every_kind(world)
    for grant in (world.grant, other.grant):
        reasons = reviewer_conflicts(grant, reviewers)
        expected = {reviewer.id for reviewer in reviewers if reasons[reviewer.id]}
        found = set()
        for reviewer in reviewers:
            query = select(Grant.id).where(
                Grant.id == grant.id, conflict_clause(reviewer.id, reviewer.organization_id)
            )
            if db.session.scalar(query) is not None:
                found.add(reviewer.id)
        assert found == expected, grant.number
    # the grant's own declaration is the only difference between the two grants
    assert len(expected) == 4


def test_eligible_reviewers_are_counted_as_for_one_grant(app: Flask) -> None:
    world = make_grant(reviewers=0)
    reviewers = _reviewers_of_every_kind(world)
    db.session.add_all(
        ReviewerAssignment(grant_id=world.grant.id, reviewer_id=r.id) for r in reviewers
    )
    reviewers[1].active = False
    db.session.commit()
    officer = make_user(Role.officer)
    (row,) = assignment_queries.assignable_list(officer, ASSIGNABLE.query()).items
    assert row.eligible == len(eligible_reviewer_ids(world.grant)) == 1
    assert row.quorum == 2 and row.short and row.missing == 1


def test_short_of_reviewers_lists_only_grants_that_cannot_make_their_quorum(app: Flask) -> None:
    full = make_grant(reviewers=2)  # quorum 2, two eligible reviewers
    short = sibling_grant(full, "MS-TEST-0002")
    db.session.query(ReviewerAssignment).filter_by(grant_id=short.grant.id).delete()
    db.session.add(ReviewerAssignment(grant_id=short.grant.id, reviewer_id=full.reviewers[0].id))
    closed = sibling_grant(full, "MS-TEST-0003")
    closed.grant.state = GrantState.suspended
    db.session.query(ReviewerAssignment).filter_by(grant_id=closed.grant.id).delete()
    db.session.commit()
    officer = make_user(Role.officer)
    page = assignment_queries.assignable_list(officer, ASSIGNABLE.query(state=SHORT))
    assert [row.number for row in page.items] == ["MS-TEST-0002"] and page.total == 1
    assert assignment_queries.short_of_reviewers_count() == 1
    everything = assignment_queries.assignable_list(officer, ASSIGNABLE.query())
    assert {row.number for row in everything.items} == {"MS-TEST-0001", "MS-TEST-0002"}


def test_several_grants_each_get_the_reviewer_or_say_why_not(app: Flask) -> None:
    world = make_grant()
    second = sibling_grant(world, "MS-TEST-0002")
    tied = sibling_grant(world, "MS-TEST-0003")
    officer = make_user(Role.officer)
    reviewer = make_user(Role.reviewer, make_org(OrgKind.university))
    assignments.declare_conflict(reviewer, None, tied.grant.id, "Co-author")
    assignments.assign_reviewer(officer, second.grant.id, reviewer.id, TODAY)
    grant_ids = [world.grant.id, second.grant.id, tied.grant.id, 999_999, world.grant.id]
    outcomes = assignments.assign_each(officer, grant_ids, reviewer.id, TODAY)
    assert [o.grant_id for o in outcomes] == [
        world.grant.id,
        second.grant.id,
        tied.grant.id,
        999_999,
    ]
    assert [o.assigned for o in outcomes] == [True, False, False, False]
    assert db.session.query(AuditEvent).filter_by(action="reviewer.assign").count() == 2
    # each assignment told the reviewer once, the refused ones not at all
    told = select(Alert.grant_id).where(
        Alert.user_id == reviewer.id, Alert.kind == AlertKind.reviewer_assigned
    )
    assert sorted(db.session.scalars(told)) == sorted([second.grant.id, world.grant.id])
    # the page's preview says the same before anything is done
    prospects = assignment_queries.prospects(reviewer, grant_ids)
    assert [(p.number, p.assigned, p.conflicted) for p in prospects] == [
        ("MS-TEST-0001", True, False),
        ("MS-TEST-0002", True, False),
        ("MS-TEST-0003", False, True),
    ]


# --- the pages and the API ---------------------------------------------------------------


def _short_grants() -> tuple[GrantWorld, GrantWorld, GrantWorld]:
    """Three active grants with no reviewer at all: short of two each."""
    world = make_grant(reviewers=0)
    second = sibling_grant(world, "MS-TEST-0002")
    third = sibling_grant(world, "MS-TEST-0003")
    return world, second, third


def test_tick_grants_choose_a_reviewer_confirm_and_read_each_outcome(
    app: Flask, client: FlaskClient
) -> None:
    world, second, third = _short_grants()
    reviewer = make_user(Role.reviewer, make_org(OrgKind.university))
    assignments.declare_conflict(reviewer, None, third.grant.id, "Co-author")
    login(client, make_user(Role.officer, locale=Locale.en).email)
    listed = client.get(f"/officer/grants/reviewers?state={SHORT}").get_data(as_text=True)
    assert listed.count('class="assignable-row is-short"') == 3
    assert "0 of 2 needed" in listed and f'<option value="{reviewer.id}">' in listed
    ids = [world.grant.id, second.grant.id, third.grant.id]
    query = "&".join(f"grant_id={i}" for i in ids) + f"&reviewer_id={reviewer.id}"
    confirm = client.get(f"/officer/grants/reviewers/bulk?{query}").get_data(as_text=True)
    assert confirm.count('class="prospect-clear"') == 2 and "Conflict of interest" in confirm
    assert db.session.query(ReviewerAssignment).count() == 0  # nothing yet
    # the confirmation names the clear ones; a conflicted one sent anyway is refused
    response = post_form(
        client, "/officer/grants/reviewers/bulk", {"grant_id": ids, "reviewer_id": reviewer.id}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Assigned to 2 grants; 1 refused." in page and "conflict of interest" in page
    assert db.session.query(ReviewerAssignment).count() == 2


def test_a_bulk_assignment_needs_grants_and_an_active_reviewer(
    app: Flask, client: FlaskClient
) -> None:
    world, _second, _third = _short_grants()
    inactive = make_user(Role.reviewer, active=False)
    login(client, make_user(Role.officer).email)
    for query in (
        f"reviewer_id={inactive.id}&grant_id={world.grant.id}",
        "reviewer_id=1",
        f"grant_id={world.grant.id}&reviewer_id=99999999999999999999999",
    ):
        response = client.get(f"/officer/grants/reviewers/bulk?{query}")
        assert response.status_code == 302, query
    response = post_form(client, "/officer/grants/reviewers/bulk", {"grant_id": world.grant.id})
    assert response.status_code == 302
    assert db.session.query(ReviewerAssignment).count() == 0


def test_the_api_assigns_each_grant_as_its_single_assignment_would(
    app: Flask, client: FlaskClient
) -> None:
    world, second, third = _short_grants()
    reviewer = make_user(Role.reviewer, make_org(OrgKind.university))
    assignments.declare_conflict(reviewer, None, third.grant.id, "Co-author")
    api = api_as(client, Role.officer)
    body = {
        "reviewer_id": reviewer.id,
        "grant_ids": [world.grant.id, second.grant.id, third.grant.id, 999_999, world.grant.id],
    }
    answer = api.post("/api/v1/reviewer-assignments/bulk", json=body).get_json()
    assert (answer["assigned"], answer["refused"]) == (2, 2)
    found = [(i["grant_id"], i["status"], i["outcome"]) for i in answer["items"]]
    assert found == [
        (world.grant.id, 201, "assigned"),
        (second.grant.id, 201, "assigned"),
        (third.grant.id, 422, "refused"),
        (999_999, 404, "refused"),
    ]
    assert answer["items"][0]["reviewer"]["reviewer_id"] == reviewer.id
    assert "reviewer_id" in answer["items"][2]["error"]["fields"]
    again = api.post("/api/v1/reviewer-assignments/bulk", json=body).get_json()
    assert [i["status"] for i in again["items"]] == [409, 409, 422, 404]  # already assigned
    assert db.session.query(ReviewerAssignment).count() == 2
    assert_error(api.post("/api/v1/reviewer-assignments/bulk", json={**body, "grant_ids": []}), 422)
    assert_error(
        api_as(client, Role.admin).post("/api/v1/reviewer-assignments/bulk", json=body), 403
    )
