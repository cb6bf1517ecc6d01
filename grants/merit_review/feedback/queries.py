"""What the applicant learns of the merit review, once their application is decided (awarded
or rejected) and never before: each criterion's mean score and the reviewers' comments,
the reviewers numbered ("Reviewer 1", "Reviewer 2"), never named. The same scores count as
in the ranking: submitted, by reviewers without a conflict of interest with it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application
from grants.applications.queries import unrevealed_application
from grants.core.actors import Actor
from grants.core.conflicts import conflict_reasons
from grants.core.permissions import Action, decide, require
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.queries import (
    application_parties,
    application_subject,
    candidates,
    rubric_for,
)
from grants.merit_review.rules import StageName
from grants.rules.rubric import Criterion, Stage


@dataclass(frozen=True)
class CriterionFeedback:
    criterion: Criterion
    mean: Fraction
    comments: tuple[tuple[int, str], ...]  # (reviewer number, comment), comments given only


@dataclass(frozen=True)
class StageFeedback:
    stage: StageName
    criteria: Stage
    reviewers: int
    rows: tuple[CriterionFeedback, ...]


@dataclass(frozen=True)
class Feedback:
    application: Application
    stages: tuple[StageFeedback, ...]  # empty: the application was not reviewed on merit


def feedback(actor: Actor, application_id: int) -> Feedback:
    """The applicant's feedback (another organisation's application answers 404; one not
    decided yet is refused)."""
    application = unrevealed_application(actor, application_id)
    require(Action.view_feedback, application_subject(actor, application))
    rubric = rubric_for(application)
    if rubric is None:
        return Feedback(application, ())
    sheets = _sheets(application)
    stages = []
    for name in StageName:
        criteria = rubric.stage(name)
        own = [sheet for stage, sheet in sheets if stage == name]
        if criteria is not None and own:
            stages.append(_stage(name, criteria, own))
    return Feedback(application, tuple(stages))


def _sheets(application: Application) -> list[tuple[str, dict[str, tuple[int, str]]]]:
    """(stage, criterion -> (score, comment)) of every counted sheet, by assignment order."""
    query = (
        select(MeritAssignment)
        .where(
            MeritAssignment.application_id == application.id,
            MeritAssignment.submitted_at.is_not(None),
        )
        .options(selectinload(MeritAssignment.scores), selectinload(MeritAssignment.reviewer))
        .order_by(MeritAssignment.id)
    )
    assignments = list(db.session.scalars(query))
    parties = application_parties(application)
    people = {c.user_id: c for c in candidates([a.reviewer for a in assignments])}
    return [
        (a.stage, {s.criterion_id: (s.score, s.comment) for s in a.scores})
        for a in assignments
        if not conflict_reasons(people[a.reviewer_id], parties)
    ]


def _stage(
    name: StageName, criteria: Stage, sheets: list[dict[str, tuple[int, str]]]
) -> StageFeedback:
    complete = [sheet for sheet in sheets if set(sheet) == set(criteria.weights)]
    rows = []
    for criterion in criteria.criteria:
        scores = [sheet[criterion.id][0] for sheet in complete]
        comments = tuple(
            (number, sheet[criterion.id][1])
            for number, sheet in enumerate(complete, start=1)
            if sheet[criterion.id][1]
        )
        rows.append(CriterionFeedback(criterion, Fraction(sum(scores), len(scores)), comments))
    return StageFeedback(name, criteria, len(complete), tuple(rows))


def offers_feedback(actor: Actor, application: Application) -> bool:
    """Whether the application's page links to the feedback: the actor may read it now,
    and the application was reviewed against a rubric."""
    subject = application_subject(actor, application)
    return decide(Action.view_feedback, subject).allowed and rubric_for(application) is not None
