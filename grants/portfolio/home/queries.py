"""The home page's read queries, per role: a fixed number of SQL statements whatever the size.

The applicant's applications are one query; the organization's grants with their
milestones and disbursements are another (joined, filtered by the organization; never a
query per grant). The officer's counts are scalar subqueries of one SELECT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.applications.screening.queries import QUEUE_STATES
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.queries import grant_money, takes_evidence
from grants.awards.rules import GrantMoney
from grants.core.actors import Actor
from grants.core.calendar import days_overdue
from grants.core.lists import count_of
from grants.core.permissions import Action, Subject, require
from grants.core.states import (
    RUNNING,
    UNDECIDED,
    ApplicationState,
    GrantState,
    MilestoneState,
)
from grants.extensions import db
from grants.milestones.reviews.queries import waiting_reviews
from grants.programs.models import Program


@dataclass(frozen=True)
class ApplicationRow:
    application_id: int
    title: str
    state: ApplicationState
    submitted_on: date | None
    program_code: str
    program_name_ja: str
    program_name_en: str

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


@dataclass(frozen=True)
class TimelineStep:
    """One milestone of a grant's timeline, seen on `today`. Overdue iff the scan flagged it
    (overdue_since set: the first day it counts as overdue, after the grace period)."""

    milestone_id: int
    sequence: int
    title: str
    due_date: date
    state: MilestoneState
    tranche_amount: int
    fiscal_year: int
    released: bool
    overdue_since: date | None
    days_left: int  # due_date - today: negative once the date has passed
    days_overdue: int  # on `today`, the first overdue day counting as 1; 0 unless flagged
    takes_evidence: bool = False  # the grantee may submit evidence for it now

    @property
    def is_open(self) -> bool:
        return self.state in UNDECIDED

    @property
    def overdue(self) -> bool:
        return self.overdue_since is not None


@dataclass(frozen=True)
class GrantSummary:
    grant_id: int
    number: str
    state: GrantState
    title: str
    program_code: str
    program_name_ja: str
    program_name_en: str
    money: GrantMoney
    steps: tuple[TimelineStep, ...]

    @property
    def award(self) -> int:
        return self.money.award

    @property
    def released(self) -> int:
        return self.money.released

    @property
    def remaining(self) -> int:
        return self.money.remaining

    @property
    def due_next(self) -> TimelineStep | None:
        """The first open milestone in sequence order (what the grantee works on next)."""
        return next((step for step in self.steps if step.is_open), None)

    @property
    def overdue_count(self) -> int:
        return sum(step.overdue for step in self.steps)

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


@dataclass(frozen=True)
class ApplicantDashboard:
    applications: list[ApplicationRow]
    grants: list[GrantSummary]


@dataclass(frozen=True)
class OfficerSummary:
    awaiting_screening: int
    awaiting_decision: int
    awaiting_release: int
    overdue_milestones: int


def applicant_dashboard(actor: Actor, today: date) -> ApplicantDashboard:
    """The actor's organization's applications and grants with their milestone timelines."""
    require(Action.create_application, Subject(role=actor.role))
    if actor.organization_id is None:
        return ApplicantDashboard([], [])
    return ApplicantDashboard(
        _applications(actor.organization_id), _grants(actor, actor.organization_id, today)
    )


def reviewer_waiting(actor: Actor) -> int:
    """How many milestones wait for the actor's decision (the review queue's length)."""
    return count_of(waiting_reviews(actor))


def officer_summary(actor: Actor) -> OfficerSummary:
    """Applications to screen or decide, tranches to release, overdue (flagged) milestones:
    one query. `today` is the page's day (the counts do not depend on it).

    Each count is driven by a milestone index (the grant's state is a per-row check), so
    the work follows the matching milestones.
    """
    require(Action.screen_application, Subject(role=actor.role))
    screening = _applications_in(ApplicationState.submitted)
    deciding = _applications_in(*(s for s in QUEUE_STATES if s != ApplicationState.submitted))
    released = select(Disbursement.milestone_id).where(Disbursement.milestone_id == Milestone.id)
    releasable = _milestones(
        Milestone.state == MilestoneState.approved,
        Milestone.released_at.is_(None),  # the index's candidates; the disbursement decides
        ~released.exists(),
        _grant_in(GrantState.active),
    )
    # flagged by the scan (a range rather than IS NOT NULL, so that the index is used)
    overdue = _milestones(Milestone.overdue_since >= date.min, _grant_in(*RUNNING))
    row = db.session.execute(select(screening, deciding, releasable, overdue)).one()
    return OfficerSummary(*(int(value or 0) for value in row))


def _applications_in(*states: ApplicationState) -> Any:
    query = select(func.count()).select_from(Application).where(Application.state.in_(states))
    return query.scalar_subquery()


def _milestones(*conditions: Any) -> Any:
    return select(func.count()).select_from(Milestone).where(*conditions).scalar_subquery()


def _grant_in(*states: GrantState) -> Any:
    """The milestone's grant is in one of `states` (checked per milestone row)."""
    return select(Grant.id).where(Grant.id == Milestone.grant_id, Grant.state.in_(states)).exists()


# ---- queries ----------------------------------------------------------------------------------


def _applications(organization_id: int) -> list[ApplicationRow]:
    query = (
        select(
            Application.id,
            Application.title,
            Application.state,
            Application.submitted_on,
            Program.code,
            Program.name_ja,
            Program.name_en,
        )
        .join(Program, Program.id == Application.program_id)
        .where(Application.organization_id == organization_id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    return [
        ApplicationRow(row[0], row[1], ApplicationState(row[2]), *row[3:])
        for row in db.session.execute(query)
    ]


def _grants(actor: Actor, organization_id: int, today: date) -> list[GrantSummary]:
    """The organization's grants, each row a milestone with its grant and its disbursement."""
    query = (
        select(
            Grant.id,
            Grant.number,
            Grant.state,
            Application.title,
            Program.code,
            Program.name_ja,
            Program.name_en,
            Grant.award_amount,
            Milestone.id,
            Milestone.sequence,
            Milestone.title,
            Milestone.due_date,
            Milestone.state,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.overdue_since,
            Disbursement.amount,
        )
        .join(Program, Program.id == Grant.program_id)
        .join(Application, Application.id == Grant.application_id)
        .outerjoin(Milestone, Milestone.grant_id == Grant.id)
        .outerjoin(Disbursement, Disbursement.milestone_id == Milestone.id)
        .where(Grant.organization_id == organization_id)
        .order_by(Grant.awarded_at.desc(), Grant.id.desc(), Milestone.sequence, Milestone.id)
    )
    grants: dict[int, tuple[Any, ...]] = {}
    steps: dict[int, list[TimelineStep]] = defaultdict(list)
    released: dict[int, int] = defaultdict(int)
    for row in db.session.execute(query):
        grants.setdefault(row[0], tuple(row[1:8]))
        if row[8] is not None:
            steps[row[0]].append(_step(row[8:], today))
            released[row[0]] += int(row[16] or 0)
    money = grant_money(
        (grant_id, row[6], released[grant_id], row[1]) for grant_id, row in grants.items()
    )
    return [
        GrantSummary(
            grant_id=grant_id,
            number=number,
            state=GrantState(state),
            title=title,
            program_code=code,
            program_name_ja=name_ja,
            program_name_en=name_en,
            money=money[grant_id],
            steps=_with_evidence(actor, GrantState(state), steps[grant_id]),
        )
        for grant_id, (number, state, title, code, name_ja, name_en, award) in grants.items()
    ]


def _with_evidence(
    actor: Actor, grant_state: GrantState, steps: list[TimelineStep]
) -> tuple[TimelineStep, ...]:
    """Mark the steps that take the actor's evidence now (the rule milestones.evidence.service
    enforces; the grants listed are the actor's organization's own)."""
    stages = [(step.sequence, str(step.state)) for step in steps]

    def takes(step: TimelineStep) -> bool:
        subject = Subject(role=actor.role, is_owner_org=True, state=str(step.state))
        return takes_evidence(subject, grant_state, step.sequence, stages)

    return tuple(replace(step, takes_evidence=takes(step)) for step in steps)


def _step(row: Any, today: date) -> TimelineStep:
    milestone_id, sequence, title, due, state, tranche, year, since, paid = row
    return TimelineStep(
        milestone_id=milestone_id,
        sequence=sequence,
        title=title,
        due_date=due,
        state=MilestoneState(state),
        tranche_amount=int(tranche),
        fiscal_year=year,
        released=paid is not None,
        overdue_since=since,
        days_left=(due - today).days,
        days_overdue=days_overdue(since, today),
    )
