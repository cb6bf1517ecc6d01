"""Panels: officers assign reviewers without a conflict of interest, one by one or every
panel at once; the hearing's shortlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from grants.accounts.models import ConflictDeclaration
from grants.applications.models import Application
from grants.awards import service as awards
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review.models import HearingShortlist, MeritAssignment
from grants.merit_review.panels import service as panels
from grants.merit_review.panels.queries import panel_view
from grants.merit_review.scores import service as scores
from tests.support.applications import TODAY, screened_application
from tests.support.factories import make_org, make_user
from tests.support.i18n import said
from tests.support.merit import HEARING, RUBRIC, assign, entries, merit_world, scored


def _assignments() -> int:
    return db.session.query(MeritAssignment).count()


def test_assigning_puts_the_application_under_review_with_a_deadline(app: Flask) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    assignment = assign(world, application_id, world.reviewers[0])
    assert assignment.due_on == TODAY + timedelta(days=21)  # the programme's days to score
    assert db.session.get(Application, application_id).state == ApplicationState.under_review
    other = panels.assign(
        world.officer,
        application_id,
        world.reviewers[1].id,
        "written",
        TODAY,
        TODAY + timedelta(days=5),
    )
    assert other.due_on == TODAY + timedelta(days=5)
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions.count("merit.assign") == 2 and actions.count("application.review") == 1


@pytest.mark.parametrize("tie", ["same_organization", "investing", "declared_org", "declared"])
def test_a_conflicted_reviewer_is_refused_with_the_reason(app: Flask, tie: str) -> None:
    world = merit_world(applications=1)
    call = world.calls[0]
    org = {"same_organization": call.org, "investing": call.vc}.get(
        tie, make_org(OrgKind.university)
    )
    reviewer = make_user(Role.reviewer, org)
    if tie == "declared_org":
        db.session.add(
            ConflictDeclaration(reviewer_id=reviewer.id, organization_id=call.org.id, note="親族")
        )
    if tie == "declared":
        db.session.add(
            ConflictDeclaration(
                reviewer_id=reviewer.id, application_id=call.application.id, note="共同研究"
            )
        )
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        assign(world, call.application.id, reviewer)
    message = refused.value.fields["reviewer_id"][0]
    expected = {
        "same_organization": "Same organization",
        "investing": "Tied to an investing VC",
    }.get(tie, "Declared conflict")
    assert expected in message
    assert "利益相反" in said(message, "ja")
    assert _assignments() == 0
    assert db.session.get(Application, call.application.id).state == (
        ApplicationState.screened_eligible
    )


def test_a_panel_takes_reviewers_up_to_the_programmes_size(app: Flask) -> None:
    world = merit_world(applications=1, reviewers=4)
    application_id = world.applications[0]
    for reviewer in world.reviewers[:3]:
        assign(world, application_id, reviewer)
    with pytest.raises(Conflict):
        assign(world, application_id, world.reviewers[3])
    with pytest.raises(Conflict):
        assign(world, application_id, world.reviewers[0])  # already on it
    # a reviewer who declares a conflict no longer counts: another one may join
    scores.declare_conflict(world.reviewers[0], application_id, "元共同研究者")
    assign(world, application_id, world.reviewers[3])
    assert _assignments() == 4


def test_only_active_reviewers_of_an_application_with_a_rubric_in_review(app: Flask) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    with pytest.raises(RuleViolation) as refused:
        assign(world, application_id, make_user(Role.officer))
    assert "reviewer_id" in refused.value.fields
    with pytest.raises(RuleViolation):
        assign(world, application_id, make_user(Role.reviewer, active=False))
    with pytest.raises(RuleViolation) as refused:
        panels.assign(world.officer, application_id, world.reviewers[0].id, "oral", TODAY)
    assert "stage" in refused.value.fields
    with pytest.raises(RuleViolation) as refused:
        panels.assign(
            world.officer,
            application_id,
            world.reviewers[0].id,
            "written",
            TODAY,
            TODAY - timedelta(1),
        )
    assert "due_on" in refused.value.fields
    with pytest.raises(NotAllowed):
        panels.assign(world.reviewers[1], application_id, world.reviewers[0].id, "written", TODAY)
    with pytest.raises(NotFound):
        assign(world, 10**9, world.reviewers[0])
    plain = screened_application("milestone")  # its rule set has no rubric
    with pytest.raises(Conflict):
        assign(world, plain.application.id, world.reviewers[0])
    assert _assignments() == 0


def test_no_reviewer_joins_a_decided_application_nor_leaves_it(app: Flask) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    open_one = assign(world, application_id, world.reviewers[0])
    awards.reject(world.officer, application_id, "予算の範囲外", TODAY)
    with pytest.raises(Conflict):
        assign(world, application_id, world.reviewers[1])
    with pytest.raises(Conflict):
        panels.unassign(world.officer, open_one.id)


def test_a_reviewer_who_submitted_stays_on_the_panel(app: Flask) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    done = scored(world, application_id, world.reviewers[0], (3, 3, 3))
    waiting = assign(world, application_id, world.reviewers[1])
    with pytest.raises(Conflict):
        panels.unassign(world.officer, done.id)
    panels.unassign(world.officer, waiting.id)
    assert _assignments() == 1
    with pytest.raises(NotFound):
        panels.unassign(world.officer, waiting.id)


def test_filling_every_panel_spreads_the_work_and_skips_conflicts(app: Flask) -> None:
    world = merit_world(applications=4, reviewers=4)
    conflicted = world.reviewers[0]
    db.session.add(
        ConflictDeclaration(
            reviewer_id=conflicted.id, organization_id=world.calls[0].org.id, note="出資関係"
        )
    )
    db.session.commit()
    report = panels.fill_panels(world.officer, world.program.id, "written", TODAY)
    assert len(report.assigned) == 12 and report.short == {}
    loads: dict[int, int] = {}
    for assignment in db.session.query(MeritAssignment):
        loads[assignment.reviewer_id] = loads.get(assignment.reviewer_id, 0) + 1
    assert sorted(loads.values()) == [3, 3, 3, 3]
    first_panel = {
        a.reviewer_id
        for a in db.session.query(MeritAssignment).filter_by(application_id=world.applications[0])
    }
    assert conflicted.id not in first_panel
    again = panels.fill_panels(world.officer, world.program.id, "written", TODAY)
    assert again.assigned == [] and again.short == {}


def test_filling_reports_the_panels_that_stay_short(app: Flask) -> None:
    world = merit_world(applications=2, reviewers=2)
    report = panels.fill_panels(world.officer, world.program.id, "written", TODAY)
    assert len(report.assigned) == 4
    assert report.short == {world.applications[0]: 1, world.applications[1]: 1}


def test_the_panel_view_shows_conflicts_and_candidates(app: Flask) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    scored(world, application_id, world.reviewers[0], (4, 3, 5))
    neighbour = make_user(Role.reviewer, world.calls[0].org)
    view = panel_view(world.officer, application_id, TODAY)
    (written,) = view.stages
    assert written.counted == 1 and written.missing == 2
    assert written.members[0].weighted is not None and str(written.members[0].weighted) == "41/10"
    candidates = dict((user.id, reasons) for user, reasons in written.candidates)
    assert candidates[neighbour.id] and candidates[world.reviewers[1].id] == []
    assert view.standing is not None and view.standing.rank == 1


def test_the_hearing_is_for_the_shortlist_drawn_from_the_written_ranking(app: Flask) -> None:
    world = merit_world(applications=3, rubric={**RUBRIC, "hearing": HEARING})
    first, second, third = world.applications
    scored(world, first, world.reviewers[0], (2, 2, 2))
    scored(world, second, world.reviewers[0], (5, 5, 5))
    waiting = assign(world, third, world.reviewers[0])
    with pytest.raises(Conflict):
        panels.assign(world.officer, second, world.reviewers[1].id, "hearing", TODAY)
    with pytest.raises(Conflict):  # a written review is still open
        panels.shortlist(world.officer, world.program.id, TODAY)
    scores.submit_scores(world.reviewers[0], waiting.id, entries((3, 3, 3)))
    made = panels.shortlist(world.officer, world.program.id, TODAY)
    assert [(m.application_id, m.written_rank) for m in made] == [(second, 1), (third, 2)]
    assert db.session.query(HearingShortlist).count() == 2
    with pytest.raises(Conflict):
        panels.shortlist(world.officer, world.program.id, TODAY)
    with pytest.raises(Conflict):
        panels.assign(world.officer, first, world.reviewers[1].id, "hearing", TODAY)
    heard = panels.fill_panels(world.officer, world.program.id, "hearing", TODAY)
    assert {a.application_id for a in heard.assigned} == {second, third}
