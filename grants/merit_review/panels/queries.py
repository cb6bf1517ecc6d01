"""The officer's views of the panels: a programme's applications with how far their panels
are, and one application's panel per stage with its reviewers, their conflicts, their
scores (officers see every submitted score, with names) and the candidates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from grants.accounts.models import User
from grants.applications.models import Application
from grants.core.actors import Actor
from grants.core.conflicts import ConflictReason
from grants.core.db import Page, paginate
from grants.core.errors import NotFound
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_
from grants.extensions import db
from grants.merit_review.models import HearingShortlist, MeritAssignment
from grants.merit_review.queries import (
    IN_REVIEW,
    get_application,
    reviewer_conflicts,
    rubric_for,
    settings_of,
)
from grants.merit_review.ranking.queries import RankedApplication, ranking_of
from grants.merit_review.rules import Settings, StageName, weighted_score
from grants.programs.models import Program
from grants.rules.rubric import Rubric, Stage, rubric_of
from grants.rulesets import service as rulesets

PAGE_SIZE = 50


def may_assign(actor: Actor) -> bool:
    return decide(Action.assign_reviewers, Subject(role=actor.role)).allowed


# --- one application's panel ---------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    assignment: MeritAssignment
    conflicts: list[ConflictReason]
    scores: dict[str, tuple[int, str]]  # criterion id -> (score, comment), once submitted
    weighted: Fraction | None

    @property
    def counted(self) -> bool:
        return self.assignment.reviewer.active and not self.conflicts

    def overdue(self, today: date) -> bool:
        return self.assignment.submitted_at is None and self.assignment.due_on < today


@dataclass(frozen=True)
class StagePanel:
    stage: StageName
    criteria: Stage
    members: list[Member]
    candidates: list[tuple[User, list[ConflictReason]]]
    panel_size: int
    open: bool  # takes reviewers now (in review, and shortlisted for the hearing)

    @property
    def counted(self) -> int:
        return sum(1 for member in self.members if member.counted)

    @property
    def missing(self) -> int:
        return max(self.panel_size - self.counted, 0)


@dataclass(frozen=True)
class PanelView:
    application: Application
    rubric: Rubric | None
    settings: Settings
    stages: list[StagePanel]
    standing: RankedApplication | None  # its row in the ranking
    may_assign: bool
    in_review: bool


def panel_view(actor: Actor, application_id: int, today: date) -> PanelView:
    require(Action.assign_reviewers, Subject(role=actor.role))
    application = get_application(application_id)
    rubric = rubric_for(application)
    settings = settings_of(application.program)
    in_review = application.state in IN_REVIEW
    shortlisted = _is_shortlisted(application.id)
    stages = []
    if rubric is not None:
        for name in StageName:
            criteria = rubric.stage(name)
            if criteria is None:
                continue
            open_ = in_review and (name == StageName.written or shortlisted)
            stages.append(_stage_panel(application, name, criteria, settings, open_))
    return PanelView(
        application=application,
        rubric=rubric,
        settings=settings,
        stages=stages,
        standing=ranking_of(application.program_id, today).row(application.id),
        may_assign=may_assign(actor),
        in_review=in_review,
    )


def _stage_panel(
    application: Application, stage: StageName, criteria: Stage, settings: Settings, open_: bool
) -> StagePanel:
    query = (
        select(MeritAssignment)
        .where(MeritAssignment.application_id == application.id, MeritAssignment.stage == stage)
        .options(
            joinedload(MeritAssignment.reviewer).joinedload(User.organization),
            selectinload(MeritAssignment.scores),
        )
        .order_by(MeritAssignment.id)
    )
    assignments = list(db.session.scalars(query).unique())
    conflicts = reviewer_conflicts(application, [a.reviewer for a in assignments])
    members = []
    for assignment in assignments:
        sheet = {s.criterion_id: (s.score, s.comment) for s in assignment.scores}
        complete = assignment.submitted_at is not None and set(sheet) == set(criteria.weights)
        weighted = (
            weighted_score({k: v[0] for k, v in sheet.items()}, criteria) if complete else None
        )
        members.append(Member(assignment, conflicts[assignment.reviewer_id], sheet, weighted))
    taken = {a.reviewer_id for a in assignments}
    return StagePanel(
        stage=stage,
        criteria=criteria,
        members=members,
        candidates=_candidates(application, taken) if open_ else [],
        panel_size=settings.panel_size,
        open=open_,
    )


def _candidates(
    application: Application, taken: set[int]
) -> list[tuple[User, list[ConflictReason]]]:
    """Active reviewers not on the panel, with their conflicts with the application."""
    query = (
        select(User)
        .where(User.role == Role.reviewer, User.active.is_(True), User.id.not_in(taken))
        .options(selectinload(User.organization))
        .order_by(User.name, User.id)
    )
    users = list(db.session.scalars(query))
    found = reviewer_conflicts(application, users)
    return [(user, found[user.id]) for user in users]


def _is_shortlisted(application_id: int) -> bool:
    query = select(HearingShortlist.id).where(HearingShortlist.application_id == application_id)
    return db.session.scalar(query) is not None


def assignment_application(actor: Actor, assignment_id: int) -> int:
    """The application of an assignment (the officers' link from an alert)."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    assignment = db.session.get(MeritAssignment, assignment_id)
    if assignment is None:
        raise NotFound(N_("Not found."))
    return assignment.application_id


# --- a programme's panels ------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far one stage's panel of an application is."""

    assigned: int = 0
    submitted: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class PanelStatus:
    application: Application
    shortlisted: bool
    stages: dict[str, Progress] = field(default_factory=dict)

    def progress(self, stage: str) -> Progress:
        return self.stages.get(stage, Progress())


@dataclass(frozen=True)
class ProgrammePanels:
    program: Program
    settings: Settings
    rubric: Rubric | None  # of the rule set in force today
    page: Page
    may_assign: bool
    may_shortlist: bool
    shortlisted: int


def programme_panels(
    actor: Actor, program_id: int, today: date, page: int, per_page: int = PAGE_SIZE
) -> ProgrammePanels:
    """The programme's applications in review or decided after one, a page at a time."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    program = db.session.get(Program, program_id)
    if program is None:
        raise NotFound(N_("Not found."))
    listed = paginate(_listed(program.id), page, per_page)
    ids = [application.id for application in listed.items]
    progress = _progress(ids, today)
    heard = _shortlisted(ids)
    rows = [PanelStatus(a, a.id in heard, progress.get(a.id, {})) for a in listed.items]
    in_force = rulesets.in_force(program.id, today)
    rubric = rubric_of(in_force.document) if in_force else None
    drawn = _shortlist_size(program.id)
    ranking = ranking_of(program.id, today)
    hearing = ranking.rubric is not None and ranking.rubric.hearing is not None
    return ProgrammePanels(
        program=program,
        settings=settings_of(program),
        rubric=rubric,
        page=Page(rows, listed.page, listed.per_page, listed.total or 0),
        may_assign=may_assign(actor),
        may_shortlist=may_assign(actor) and hearing and not drawn,
        shortlisted=drawn,
    )


def _listed(program_id: int) -> Select[tuple[Application]]:
    """In review, or decided after a merit review."""
    reviewed = Application.id.in_(select(MeritAssignment.application_id))
    return (
        select(Application)
        .where(Application.program_id == program_id)
        .where(Application.state.in_(IN_REVIEW) | reviewed)
        .options(joinedload(Application.organization))
        .order_by(Application.submitted_on, Application.id)
    )


def _progress(ids: list[int], today: date) -> dict[int, dict[str, Progress]]:
    if not ids:
        return {}
    open_ = MeritAssignment.submitted_at.is_(None)
    query = (
        select(
            MeritAssignment.application_id,
            MeritAssignment.stage,
            func.count(),
            func.count(MeritAssignment.submitted_at),
            func.sum(case((open_ & (MeritAssignment.due_on < today), 1), else_=0)),
        )
        .where(MeritAssignment.application_id.in_(ids))
        .group_by(MeritAssignment.application_id, MeritAssignment.stage)
    )
    found: dict[int, dict[str, Progress]] = defaultdict(dict)
    for application_id, stage, assigned, submitted, overdue in db.session.execute(query):
        found[application_id][stage] = Progress(assigned, submitted, int(overdue or 0))
    return found


def _shortlisted(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    query = select(HearingShortlist.application_id).where(HearingShortlist.application_id.in_(ids))
    return set(db.session.scalars(query))


def _shortlist_size(program_id: int) -> int:
    query = select(func.count()).where(HearingShortlist.program_id == program_id)
    return int(db.session.scalar(query) or 0)
