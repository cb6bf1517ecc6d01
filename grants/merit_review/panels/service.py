"""Panels: officers assign reviewers to applications (one by one, or every panel of a
programme filled at once), and send the top of the written ranking on to the hearing.

A panel is the reviewers of one application in one stage; the programme's panel size N
counts its reviewers without a conflict of interest. Conflicted reviewers are refused
(same organisation, an investing organisation, a declared conflict: merit_review.queries),
and one who declares a conflict after the assignment stays listed but no longer counts.
The first assignment moves the application from screened eligible to under review. Every
change of a panel takes its application's row lock (filling many panels takes them one by
one in the same order), so that concurrent assignments never fill a panel beyond N.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grants.accounts.models import User
from grants.applications.models import Application
from grants.applications.service import locked
from grants.core import audit
from grants.core.actors import Actor
from grants.core.conflicts import Reasons, conflict_reasons
from grants.core.db import locked_row, use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState, transition
from grants.extensions import db
from grants.merit_review.models import HearingShortlist, MeritAssignment
from grants.merit_review.queries import (
    IN_REVIEW,
    application_parties,
    candidates,
    reviewer_conflicts,
    rubric_for,
)
from grants.merit_review.ranking.queries import ranking_of
from grants.merit_review.rules import StageName
from grants.programs.models import Program

DUE_DAYS_MAX = 365


@use_case
def assign(
    actor: Actor,
    application_id: int,
    reviewer_id: int,
    stage: str,
    today: date,
    due_on: date | None = None,
) -> MeritAssignment:
    """Put an active, non-conflicted reviewer on the application's panel for `stage`, with a
    deadline (`due_on`, by default the programme's days to score from today)."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    application = locked(application_id)
    program = application.program
    stage = _stage(application, stage)
    due = _due(due_on, today, program)
    reviewer = _reviewer(reviewer_id)
    if reasons := reviewer_conflicts(application, [reviewer])[reviewer.id]:
        message = N_(
            "%(name)s has a conflict of interest with this application: %(reasons)s.",
            name=reviewer.name,
            reasons=Reasons(tuple(reasons)),
        )
        raise RuleViolation(message, {"reviewer_id": [message]})
    panel = _panel(application, stage)
    if reviewer.id in {a.reviewer_id for a in panel}:
        raise Conflict(N_("This reviewer is already on the panel."))
    if len(_counted(application, panel)) >= program.merit_panel_size:
        raise Conflict(
            N_(
                "The panel already has %(n)d reviewers, the programme's panel size.",
                n=program.merit_panel_size,
            )
        )
    assignment = _add(actor, application, reviewer.id, stage, due)
    _commit(N_("This reviewer was assigned at the same time. Reload the page."))
    return assignment


@dataclass
class PanelsFilled:
    """What filling a programme's panels did: the assignments made, and the applications
    whose panel stays short (too few reviewers without a conflict)."""

    stage: str
    assigned: list[MeritAssignment] = field(default_factory=list)
    short: dict[int, int] = field(default_factory=dict)  # application id -> reviewers missing


@use_case
def fill_panels(
    actor: Actor, program_id: int, stage: str, today: date, due_on: date | None = None
) -> PanelsFilled:
    """Fill every panel of the programme's applications in `stage` up to the panel size:
    for the written review, every application in review with a rubric; for the hearing,
    the shortlisted ones. Reviewers without a conflict are chosen with the fewest
    assignments in the programme first (then by name), so the work is spread evenly."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    program = db.session.get(Program, program_id)
    if program is None:
        raise NotFound(N_("Not found."))
    due = _due(due_on, today, program)
    stage = _known_stage(stage)
    reviewers = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.reviewer, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )
    panels = _panels(program.id, stage)
    people = {c.user_id: c for c in candidates([*reviewers, *_members(panels)])}
    load = _load(program.id)
    report = PanelsFilled(stage)
    for application in _fillable(program.id, stage):
        parties = application_parties(application)
        panel = panels.get(application.id, [])
        clear = {user_id for user_id, c in people.items() if not conflict_reasons(c, parties)}
        counted = [a for a in panel if a.reviewer.active and a.reviewer_id in clear]
        missing = max(program.merit_panel_size - len(counted), 0)
        taken = {a.reviewer_id for a in panel}
        free = [u for u in reviewers if u.id not in taken and u.id in clear]
        free.sort(key=lambda user: load[user.id])  # stable: by name within equal loads
        if missing and free:
            application = locked(application.id)
        for reviewer in free[:missing]:
            report.assigned.append(_add(actor, application, reviewer.id, stage, due))
            load[reviewer.id] += 1
        if missing > len(free):
            report.short[application.id] = missing - len(free)
    _commit(N_("The panels were changed at the same time. Reload the page."))
    return report


@use_case
def unassign(actor: Actor, assignment_id: int) -> None:
    """Take a reviewer off a panel; one who submitted scores stays (the scores count)."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    assignment = db.session.get(MeritAssignment, assignment_id)
    if assignment is None:
        raise NotFound(N_("Not found."))
    locked(assignment.application_id)
    assignment = _locked_assignment(assignment_id)
    if assignment.submitted_at is not None:
        raise Conflict(N_("This reviewer has submitted scores: they stay on the panel."))
    if assignment.application.state not in IN_REVIEW:
        raise Conflict(N_("The application has been decided: its panel is closed."))
    audit.record(actor, "merit.unassign", assignment, before=assignment_snapshot(assignment))
    db.session.delete(assignment)
    _commit(N_("The panel was changed at the same time. Reload the page."))


@use_case
def shortlist(actor: Actor, program_id: int, today: date) -> list[HearingShortlist]:
    """Send the top of the written ranking on to the hearing: as many undecided applications
    as the rubric's shortlist, once every written review of the programme is submitted."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    program = _lock_program(program_id)
    found = ranking_of(program.id, today)
    if found.rubric is None or found.rubric.hearing is None:
        raise Conflict(N_("The rubric of this call has no hearing."))
    if _shortlisted(program.id):
        raise Conflict(N_("The hearing's shortlist has been drawn already."))
    if open_reviews := _open_written(program.id):
        raise Conflict(
            N_(
                "%(n)d written reviews are still open: the shortlist is drawn once every "
                "reviewer has submitted (or was taken off the panel).",
                n=open_reviews,
            )
        )
    chosen = [found.row(i) for i in found.undecided][: found.rubric.shortlist]
    if not chosen:
        raise Conflict(N_("No undecided application has been ranked yet."))
    made = []
    for row in chosen:
        assert row is not None and row.rank is not None and row.written is not None
        score = row.written.score
        entry = HearingShortlist(
            application_id=row.application_id,
            program_id=program.id,
            written_rank=row.rank,
            written_score=f"{score.numerator}/{score.denominator}",
            shortlisted_by_id=actor.id,
        )
        db.session.add(entry)
        after = {"application_id": row.application_id, "written_rank": row.rank}
        audit.record(actor, "merit.shortlist", entry, after=after)
        made.append(entry)
    _commit(N_("The shortlist was drawn at the same time. Reload the page."))
    return made


# --- helpers ---------------------------------------------------------------------------------


def _lock_program(program_id: int) -> Program:
    """The programme, row-locked: one shortlist at a time."""
    return locked_row(Program, program_id)


def _locked_assignment(assignment_id: int) -> MeritAssignment:
    return locked_row(MeritAssignment, assignment_id)


def _known_stage(stage: str) -> str:
    if stage not in set(StageName):
        message = N_("Choose the written review or the hearing.")
        raise RuleViolation(message, {"stage": [message]})
    return stage


def _stage(application: Application, stage: str) -> str:
    """The stage, when the application takes reviewers in it now."""
    stage = _known_stage(stage)
    if application.state not in IN_REVIEW:
        raise Conflict(
            N_("Reviewers are assigned only to eligible applications that are not decided.")
        )
    rubric = rubric_for(application)
    if rubric is None:
        raise Conflict(
            N_("The rule set of this application has no rubric: it is not reviewed on merit.")
        )
    if stage == StageName.hearing:
        if rubric.hearing is None:
            raise Conflict(N_("The rubric of this application has no hearing."))
        if application.id not in _shortlisted(application.program_id):
            raise Conflict(N_("Only shortlisted applications are heard."))
    return stage


def _due(due_on: date | None, today: date, program: Program) -> date:
    due = due_on or today + timedelta(days=program.merit_review_days)
    if not today <= due <= today + timedelta(days=DUE_DAYS_MAX):
        message = N_("Give a deadline from today to %(n)d days from today.", n=DUE_DAYS_MAX)
        raise RuleViolation(message, {"due_on": [message]})
    return due


def _reviewer(reviewer_id: int) -> User:
    user = db.session.get(User, reviewer_id)
    if user is None or user.role != Role.reviewer or not user.active:
        message = N_("Choose an active user with the reviewer role.")
        raise RuleViolation(message, {"reviewer_id": [message]})
    return user


def _panel(application: Application, stage: str) -> list[MeritAssignment]:
    query = select(MeritAssignment).where(
        MeritAssignment.application_id == application.id, MeritAssignment.stage == stage
    )
    return list(db.session.scalars(query.options(selectinload(MeritAssignment.reviewer))))


def _counted(application: Application, panel: list[MeritAssignment]) -> list[MeritAssignment]:
    """The panel's reviewers that count: active and without a conflict of interest."""
    reviewers = [a.reviewer for a in panel]
    conflicts = reviewer_conflicts(application, reviewers)
    return [a for a in panel if a.reviewer.active and not conflicts[a.reviewer_id]]


def _fillable(program_id: int, stage: str) -> list[Application]:
    """The applications whose panels the stage fills, in the order their rows are locked."""
    query = (
        select(Application)
        .where(Application.program_id == program_id, Application.state.in_(IN_REVIEW))
        .options(selectinload(Application.co_investments), selectinload(Application.ruleset))
        .order_by(Application.id)
    )
    if stage == StageName.hearing:
        heard = select(HearingShortlist.application_id).where(
            HearingShortlist.program_id == program_id
        )
        query = query.where(Application.id.in_(heard))
    found = []
    for application in db.session.scalars(query):
        rubric = rubric_for(application)
        if rubric is not None and (stage == StageName.written or rubric.hearing is not None):
            found.append(application)
    return found


def _panels(program_id: int, stage: str) -> dict[int, list[MeritAssignment]]:
    """Every panel of the programme in the stage, with its reviewers (one query)."""
    query = (
        select(MeritAssignment)
        .join(Application, Application.id == MeritAssignment.application_id)
        .where(Application.program_id == program_id, MeritAssignment.stage == stage)
        .options(selectinload(MeritAssignment.reviewer))
    )
    found: dict[int, list[MeritAssignment]] = defaultdict(list)
    for assignment in db.session.scalars(query):
        found[assignment.application_id].append(assignment)
    return found


def _members(panels: dict[int, list[MeritAssignment]]) -> list[User]:
    return list({a.reviewer_id: a.reviewer for panel in panels.values() for a in panel}.values())


def _load(program_id: int) -> Counter[int]:
    """Each reviewer's assignments in the programme."""
    query = (
        select(MeritAssignment.reviewer_id, func.count())
        .join(Application, Application.id == MeritAssignment.application_id)
        .where(Application.program_id == program_id)
        .group_by(MeritAssignment.reviewer_id)
    )
    return Counter(dict(db.session.execute(query).tuples().all()))


def _shortlisted(program_id: int) -> set[int]:
    query = select(HearingShortlist.application_id).where(HearingShortlist.program_id == program_id)
    return set(db.session.scalars(query))


def _open_written(program_id: int) -> int:
    query = (
        select(func.count())
        .select_from(MeritAssignment)
        .join(Application, Application.id == MeritAssignment.application_id)
        .where(
            Application.program_id == program_id,
            Application.state.in_(IN_REVIEW),
            MeritAssignment.stage == StageName.written,
            MeritAssignment.submitted_at.is_(None),
        )
    )
    return int(db.session.scalar(query) or 0)


def _add(
    actor: Actor, application: Application, reviewer_id: int, stage: str, due: date
) -> MeritAssignment:
    assignment = MeritAssignment(
        application_id=application.id,
        reviewer_id=reviewer_id,
        stage=stage,
        due_on=due,
        assigned_by_id=actor.id,
    )
    db.session.add(assignment)
    if application.state == ApplicationState.screened_eligible:
        before = {"state": str(application.state)}
        application.state = transition(application.state, ApplicationState.under_review)
        application.updated_at = utcnow()
        audit.record(actor, "application.review", application, before, {"state": "under_review"})
    audit.record(actor, "merit.assign", assignment, after=assignment_snapshot(assignment))
    return assignment


def assignment_snapshot(assignment: MeritAssignment) -> dict[str, object]:
    return {
        "application_id": assignment.application_id,
        "reviewer_id": assignment.reviewer_id,
        "stage": assignment.stage,
        "due_on": assignment.due_on.isoformat(),
    }


def _commit(race_message: Problem) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(race_message) from None
