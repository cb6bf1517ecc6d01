"""The scan's merit review pass: the reviewer is told of an assignment, reminded before the
deadline and chased after it, the officers told once it is long past; exactly once each,
and none for a reviewer with a conflict, a submitted assignment or a decided application."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from grants.accounts.models import User
from grants.alerts.inbox.queries import settled_ids
from grants.alerts.inbox.texts import advice, describe, subject_link
from grants.alerts.models import Alert
from grants.awards import service as awards
from grants.core.identity import Role
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.panels import service as panels
from grants.merit_review.scores import service as scores
from tests.support.alerts import keys, run_scan, staff
from tests.support.applications import TODAY
from tests.support.merit import MeritWorld, entries, merit_world

DUE = TODAY + timedelta(days=21)  # the programme's days to score
DAY = timedelta(days=1)
SUBJECT = "merit_assignment"


@pytest.fixture
def world(app: Flask) -> MeritWorld:
    return merit_world(applications=2)


def _assigned(world: MeritWorld, application: int, reviewer: int) -> MeritAssignment:
    application_id, reviewer_id = world.applications[application], world.reviewers[reviewer].id
    return panels.assign(world.officer, application_id, reviewer_id, "written", TODAY)


def _merit(kind: str | None = None) -> list[tuple[int, str, int, str, int]]:
    found = [key for key in keys() if key[1] == SUBJECT]
    return [key for key in found if kind is None or key[3] == kind]


def test_the_reviewer_is_told_reminded_and_chased_the_officers_once_late(
    world: MeritWorld,
) -> None:
    staff(Role.officer)
    officers = {user.id for user in db.session.query(User).filter_by(role=Role.officer)}
    assignment = _assigned(world, 0, 0)
    reviewer, subject = world.reviewers[0].id, assignment.id
    run_scan(TODAY)
    assert _merit() == [(reviewer, SUBJECT, subject, "merit_review_requested", 1)]
    run_scan(DUE - timedelta(days=8))  # beyond the nearest reminder (7 days)
    assert len(_merit()) == 1
    run_scan(DUE - timedelta(days=7))
    assert _merit()[-1] == (reviewer, SUBJECT, subject, "merit_review_due", 1)
    run_scan(DUE)
    assert len(_merit()) == 2  # due today: not late yet
    run_scan(DUE + DAY)
    assert _merit()[-1] == (reviewer, SUBJECT, subject, "merit_review_due", 2)
    run_scan(DUE + timedelta(days=13))
    assert len(_merit()) == 3
    run_scan(DUE + timedelta(days=14))  # the nearest escalation offset
    escalated = {key[0] for key in _merit() if key[4] == 3}
    assert escalated == officers  # every active officer
    for day in (DUE + timedelta(days=14), DUE + timedelta(days=40)):
        assert run_scan(day).total == 0 and run_scan(day, whole=True).total == 0
    assert len(_merit()) == 3 + len(officers)


def test_an_assignment_made_after_the_days_scan_is_told_the_same_day(world: MeritWorld) -> None:
    run_scan(TODAY)
    assert run_scan(TODAY).unchanged
    _assigned(world, 0, 1)
    rerun = run_scan(TODAY)
    assert not rerun.unchanged and len(_merit("merit_review_requested")) == 1
    assert run_scan(TODAY).unchanged


def test_no_alert_once_submitted_decided_or_conflicted(world: MeritWorld) -> None:
    submitted = _assigned(world, 0, 0)
    scores.submit_scores(world.reviewers[0], submitted.id, entries((3, 3, 3)))
    _assigned(world, 1, 1)
    awards.reject(world.officer, world.applications[1], "予算の範囲外", TODAY)
    conflicted = _assigned(world, 0, 2)
    scores.declare_conflict(world.reviewers[2], world.applications[0], "親族")
    run_scan(DUE + timedelta(days=30))
    assert _merit() == []
    assert conflicted.id  # it stays listed for the officers, unchased


def test_the_inbox_says_it_leads_to_it_and_settles_it(world: MeritWorld) -> None:
    assignment = _assigned(world, 0, 0)
    run_scan(DUE + DAY)
    reviewer = world.reviewers[0]
    alerts = list(db.session.query(Alert).filter_by(user_id=reviewer.id).order_by(Alert.id))
    requested, overdue = alerts
    title = world.calls[0].application.title
    assert title in describe(requested, "en") and "by" in describe(requested, "en")
    assert "期限" in describe(overdue, "ja") and advice(overdue, "en").startswith("Please score")
    link = subject_link(overdue, Role.reviewer)
    assert link is not None and link.endpoint == "merit_scores.show"
    assert link.values == {"assignment_id": assignment.id}
    officer_link = subject_link(overdue, Role.officer)
    assert officer_link is not None and officer_link.endpoint == "merit_panels.assignment"
    assert settled_ids(reviewer, alerts) == set()
    scores.submit_scores(reviewer, assignment.id, entries((4, 4, 4)))
    assert settled_ids(reviewer, alerts) == {requested.id, overdue.id}
