"""A reviewer's scores of an application assigned to them, and their declarations of a
conflict with one.

Scores are submitted once, every criterion of the stage's rubric at a time, each on the
rubric's scale with a comment where the rubric asks for one; then they are final. Bad
input is refused with a message per field (`scores.<criterion id>.score|comment`) and
nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from grants.accounts.models import ConflictDeclaration
from grants.core import audit
from grants.core.actors import Actor
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.text import control_problem
from grants.extensions import db
from grants.merit_review.models import MeritAssignment, MeritScore
from grants.merit_review.queries import application_subject, is_assigned, rubric_for
from grants.merit_review.rules import ScoreEntry, score_problems
from grants.rules.rubric import Stage

NOTE_MAX = 500


@use_case
def submit_scores(
    actor: Actor, assignment_id: int, entries: Sequence[ScoreEntry]
) -> MeritAssignment:
    """Record the reviewer's scores of every criterion of the assignment's stage."""
    assignment = _own(actor, assignment_id, locked=True)
    application = assignment.application
    require(Action.score_application, application_subject(actor, application))
    if assignment.submitted_at is not None:
        raise Conflict(N_("Your scores have been submitted: they are final."))
    stage = stage_of(assignment)
    if errors := score_problems(entries, stage):
        raise RuleViolation(N_("The scores could not be submitted."), errors)
    given = {entry.criterion_id: entry for entry in entries}
    for criterion in stage.criteria:
        entry = given[criterion.id]
        assert entry.score is not None
        db.session.add(
            MeritScore(
                assignment_id=assignment.id,
                criterion_id=criterion.id,
                score=entry.score,
                comment=entry.comment.strip(),
            )
        )
    assignment.submitted_at = utcnow()
    after = {
        "application_id": application.id,
        "stage": assignment.stage,
        "scores": {c.id: given[c.id].score for c in stage.criteria},
    }
    audit.record(actor, "merit.submit_scores", assignment, after=after)
    db.session.commit()
    return assignment


@use_case
def declare_conflict(actor: Actor, application_id: int, note: str) -> ConflictDeclaration:
    """A reviewer declares a conflict with an application assigned to them: from then on
    they are not counted on its panel and may not score it."""
    require(Action.declare_conflict, Subject(role=actor.role))
    if not is_assigned(actor, application_id):
        raise NotFound(N_("Not found."))
    note = (note or "").strip()
    if problem := _note_problem(note):
        raise RuleViolation(N_("The declaration could not be saved."), {"note": [problem]})
    declaration = ConflictDeclaration(
        reviewer_id=actor.id, application_id=application_id, note=note
    )
    db.session.add(declaration)
    after = {"application_id": application_id, "note": note}
    audit.record(actor, "conflict.declare", declaration, after=after)
    db.session.commit()
    return declaration


def _note_problem(note: str) -> Problem | None:
    if not note:
        return N_("Describe the conflict.")
    if len(note) > NOTE_MAX:
        return N_("At most %(n)d characters.", n=NOTE_MAX)
    return control_problem(note)


def stage_of(assignment: MeritAssignment) -> Stage:
    """The rubric stage the assignment is scored on."""
    rubric = rubric_for(assignment.application)
    stage = rubric.stage(assignment.stage) if rubric else None
    if stage is None:
        raise Conflict(N_("The rule set of this application has no rubric for this stage."))
    return stage


def _own(actor: Actor, assignment_id: int, locked: bool) -> MeritAssignment:
    """The actor's own assignment; anyone else's answers 404, as one that does not exist."""
    query = select(MeritAssignment).where(MeritAssignment.id == assignment_id)
    if locked:
        query = query.with_for_update().execution_options(populate_existing=True)
    assignment = db.session.scalar(query)
    if assignment is None or assignment.reviewer_id != actor.id:
        raise NotFound(N_("Not found."))
    return assignment
