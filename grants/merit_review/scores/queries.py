"""What a reviewer sees of their merit review work: the applications assigned to them, and
one assignment with its rubric, their own scores and, once they have submitted theirs, the
other reviewers' submitted scores (numbered, never named)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grants.applications.models import Application
from grants.core.actors import Actor
from grants.core.conflicts import ConflictReason
from grants.core.errors import NotFound
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.queries import application_subject, own_conflicts, rubric_for
from grants.rules.rubric import Stage


@dataclass(frozen=True)
class Assigned:
    """One of the reviewer's assignments, for their list."""

    assignment: MeritAssignment
    conflicted: bool

    @property
    def submitted(self) -> bool:
        return self.assignment.submitted_at is not None

    def overdue(self, today: date) -> bool:
        return not self.submitted and self.assignment.due_on < today


def my_assignments(actor: Actor) -> list[Assigned]:
    """The reviewer's assignments: open ones first, by deadline; then the submitted ones."""
    require(Action.declare_conflict, Subject(role=actor.role))  # the reviewer role
    query = (
        select(MeritAssignment)
        .where(MeritAssignment.reviewer_id == actor.id)
        .options(
            joinedload(MeritAssignment.application).joinedload(Application.program),
            joinedload(MeritAssignment.application).joinedload(Application.organization),
            joinedload(MeritAssignment.application).selectinload(Application.co_investments),
        )
    )
    found = list(db.session.scalars(query).unique())
    found.sort(key=lambda a: (a.submitted_at is not None, a.due_on, a.id))
    return [Assigned(a, bool(own_conflicts(actor, a.application))) for a in found]


@dataclass(frozen=True)
class OtherSheet:
    """Another reviewer's submitted scores, known to the reader only by a number."""

    number: int
    scores: dict[str, tuple[int, str]]  # criterion id -> (score, comment)


@dataclass(frozen=True)
class AssignmentView:
    assignment: MeritAssignment
    application: Application
    stage: Stage | None  # None: the rule set has no rubric for the stage (any more)
    conflicts: list[ConflictReason]
    may_score: bool
    mine: dict[str, tuple[int, str]]  # my submitted scores
    others: list[OtherSheet]  # only once mine are submitted

    @property
    def submitted(self) -> bool:
        return self.assignment.submitted_at is not None


def assignment_view(actor: Actor, assignment_id: int) -> AssignmentView:
    """The reviewer's own assignment (anyone else's answers 404)."""
    assignment = db.session.get(MeritAssignment, assignment_id)
    if assignment is None or assignment.reviewer_id != actor.id:
        raise NotFound(N_("Not found."))
    application = assignment.application
    subject = application_subject(actor, application)
    rubric = rubric_for(application)
    stage = rubric.stage(assignment.stage) if rubric else None
    submitted = assignment.submitted_at is not None
    return AssignmentView(
        assignment=assignment,
        application=application,
        stage=stage,
        conflicts=own_conflicts(actor, application),
        may_score=stage is not None
        and not submitted
        and decide(Action.score_application, subject).allowed,
        mine=_sheet(assignment),
        others=_others(assignment) if submitted else [],
    )


def _sheet(assignment: MeritAssignment) -> dict[str, tuple[int, str]]:
    return {s.criterion_id: (s.score, s.comment) for s in assignment.scores}


def _others(assignment: MeritAssignment) -> list[OtherSheet]:
    """The panel's other submitted sheets, numbered in the order of the assignments."""
    query = (
        select(MeritAssignment)
        .where(
            MeritAssignment.application_id == assignment.application_id,
            MeritAssignment.stage == assignment.stage,
            MeritAssignment.submitted_at.is_not(None),
            MeritAssignment.id != assignment.id,
        )
        .options(selectinload(MeritAssignment.scores))
        .order_by(MeritAssignment.id)
    )
    return [
        OtherSheet(number, _sheet(other))
        for number, other in enumerate(db.session.scalars(query), start=1)
    ]
