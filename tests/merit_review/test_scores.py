"""Reviewers score what is assigned to them: every criterion on the scale with a comment,
once; the others' scores stay hidden until their own are in; a declared conflict takes
them (and their scores) out."""

from __future__ import annotations

from fractions import Fraction

import pytest
from flask import Flask

from grants.accounts.models import ConflictDeclaration
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.merit_review.models import MeritAssignment, MeritScore
from grants.merit_review.ranking.queries import ranking_of
from grants.merit_review.rules import ScoreEntry
from grants.merit_review.scores import service as scores
from grants.merit_review.scores.queries import assignment_view, my_assignments
from tests.support.applications import TODAY
from tests.support.merit import RUBRIC, assign, entries, merit_world, scored


def _stored() -> tuple[int, int]:
    submitted = db.session.query(MeritAssignment).filter(MeritAssignment.submitted_at.is_not(None))
    return db.session.query(MeritScore).count(), submitted.count()


def test_scores_are_submitted_once_and_audited(app: Flask) -> None:
    world = merit_world(applications=1)
    reviewer = world.reviewers[0]
    assignment = assign(world, world.applications[0], reviewer)
    done = scores.submit_scores(reviewer, assignment.id, entries((4, 3, 5)))
    assert done.submitted_at is not None and _stored() == (3, 1)
    event = db.session.query(AuditEvent).filter_by(action="merit.submit_scores").one()
    assert event.after["scores"] == {"fit": 4, "science": 3, "plan": 5}
    with pytest.raises(Conflict):
        scores.submit_scores(reviewer, assignment.id, entries((5, 5, 5)))
    assert _stored() == (3, 1)


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ((6, 3, 5), "scores.fit.score", "Give a score from 1 to 5."),
        ((0, 3, 5), "scores.fit.score", "Give a score from 1 to 5."),
        ((None, 3, 5), "scores.fit.score", "Give a score."),
    ],
)
def test_a_score_outside_the_scale_is_refused_and_nothing_stored(
    app: Flask, given: tuple[int | None, ...], field: str, message: str
) -> None:
    world = merit_world(applications=1)
    reviewer = world.reviewers[0]
    assignment = assign(world, world.applications[0], reviewer)
    with pytest.raises(RuleViolation) as refused:
        scores.submit_scores(reviewer, assignment.id, entries(given))  # type: ignore[arg-type]
    assert refused.value.fields == {field: [message]}
    assert _stored() == (0, 0)


def test_a_missing_comment_is_refused(app: Flask) -> None:
    world = merit_world(applications=1)
    reviewer = world.reviewers[0]
    assignment = assign(world, world.applications[0], reviewer)
    given = entries((4, 3, 5))
    given[2] = ScoreEntry("plan", 5, "   ")
    with pytest.raises(RuleViolation) as refused:
        scores.submit_scores(reviewer, assignment.id, given)
    assert refused.value.fields == {"scores.plan.comment": ["Give a comment with the score."]}
    assert _stored() == (0, 0)


def test_a_comment_may_be_left_out_when_the_rubric_allows_it(app: Flask) -> None:
    world = merit_world(applications=1, rubric={**RUBRIC, "comment_required": False})
    reviewer = world.reviewers[0]
    assignment = assign(world, world.applications[0], reviewer)
    scores.submit_scores(reviewer, assignment.id, entries((4, 3, 5), comment=""))
    assert _stored() == (3, 1)


def test_only_the_assigned_reviewer_scores_and_not_with_a_conflict(app: Flask) -> None:
    world = merit_world(applications=1)
    mine, other = world.reviewers[0], world.reviewers[1]
    assignment = assign(world, world.applications[0], mine)
    with pytest.raises(NotFound):
        scores.submit_scores(other, assignment.id, entries((4, 3, 5)))
    with pytest.raises(NotFound):
        assignment_view(other, assignment.id)
    scores.declare_conflict(mine, world.applications[0], "申請者の共同研究者")
    with pytest.raises(NotAllowed):
        scores.submit_scores(mine, assignment.id, entries((4, 3, 5)))
    assert _stored() == (0, 0)
    view = assignment_view(mine, assignment.id)
    assert view.conflicts and not view.may_score
    assert my_assignments(mine)[0].conflicted


def test_a_declaration_needs_a_note_and_an_assignment(app: Flask) -> None:
    world = merit_world(applications=1)
    reviewer = world.reviewers[0]
    with pytest.raises(NotFound):
        scores.declare_conflict(reviewer, world.applications[0], "他人の申請")
    assign(world, world.applications[0], reviewer)
    with pytest.raises(RuleViolation) as refused:
        scores.declare_conflict(reviewer, world.applications[0], " ")
    assert refused.value.fields == {"note": ["Describe the conflict."]}
    with pytest.raises(NotAllowed):
        scores.declare_conflict(world.officer, world.applications[0], "役員")
    assert db.session.query(ConflictDeclaration).count() == 0


def test_others_scores_are_hidden_until_mine_are_submitted(app: Flask) -> None:
    world = merit_world(applications=1)
    first, second, third = world.reviewers
    application_id = world.applications[0]
    scored(world, application_id, first, (5, 5, 5))
    scored(world, application_id, second, (2, 2, 2))
    mine = assign(world, application_id, third)
    before = assignment_view(third, mine.id)
    assert before.others == [] and before.mine == {} and before.may_score
    scores.submit_scores(third, mine.id, entries((3, 3, 3)))
    after = assignment_view(third, mine.id)
    assert [o.number for o in after.others] == [1, 2]
    assert after.others[0].scores["fit"][0] == 5 and after.others[1].scores["fit"][0] == 2
    assert not after.may_score


def test_a_conflict_declared_after_scoring_takes_the_scores_out_of_the_ranking(
    app: Flask,
) -> None:
    world = merit_world(applications=1)
    application_id = world.applications[0]
    scored(world, application_id, world.reviewers[0], (5, 5, 5))
    scored(world, application_id, world.reviewers[1], (1, 1, 1))
    assert ranking_of(world.program.id, TODAY).row(application_id).written.score == 3  # type: ignore[union-attr]
    scores.declare_conflict(world.reviewers[1], application_id, "後から判明した親族関係")
    row = ranking_of(world.program.id, TODAY).row(application_id)
    assert row is not None and row.written is not None
    assert (row.written.score, row.written.reviewers) == (Fraction(5), 1)
