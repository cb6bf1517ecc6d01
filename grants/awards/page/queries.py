"""The grant page's read model: milestones, evidence rounds, reviews and money, for
everyone involved, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.accounts.models import User
from grants.awards import charts
from grants.awards.models import (
    Amendment,
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
)
from grants.awards.queries import (
    QuorumOutlook,
    assigned,
    grant_subject,
    may_now,
    pending_for_grant,
    quorum_outlook,
    stages_of,
    takes_evidence,
)
from grants.awards.rules import GrantMoney
from grants.core.calendar import tokyo_today
from grants.core.conflicts import ConflictReason
from grants.core.errors import NotFound
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, decide, require
from grants.core.states import (
    RUNNING,
    AmendmentState,
    MilestoneState,
    no_go,
    waits_for_no_go,
)
from grants.extensions import db


@dataclass
class Round:
    submission: EvidenceSubmission
    reviews: list[Review] = field(default_factory=list)


@dataclass
class MilestoneView:
    milestone: Milestone
    rounds: list[Round]
    disbursement: Disbursement | None
    can_submit: bool
    can_review: bool
    may_release: bool  # the tranche can go now, and the actor may send it
    waits_for_no_go: bool  # awaits evidence behind a rejected earlier milestone


@dataclass(frozen=True)
class Offers:
    """What the actor may open or do on the grant now, as the permission table and the
    grant's state decide (awards.queries.may_now)."""

    reviewers: bool  # the grant's reviewer assignments (listed also once the grant closed)
    investments: bool  # its VC investments (likewise)
    amendments: bool  # its amendment requests: the grantee asks, an officer decides
    request_amendment: bool
    terminate: bool

    @property
    def links(self) -> bool:
        return self.reviewers or self.investments or self.amendments or self.terminate


def _offers(subject: Subject) -> Offers:
    def allowed(action: Action) -> bool:
        return decide(action, subject).allowed

    return Offers(
        reviewers=allowed(Action.assign_reviewers),
        investments=allowed(Action.record_investment),
        amendments=allowed(Action.request_amendment) or allowed(Action.decide_amendment),
        request_amendment=may_now(Action.request_amendment, subject),
        terminate=may_now(Action.terminate_grant, subject),
    )


@dataclass
class GrantPage:
    grant: Grant
    subject: Subject
    milestones: list[MilestoneView]
    released: int
    reviewers: list[tuple[User, list[ConflictReason]]]
    timeline: charts.Timeline
    quorum: QuorumOutlook | None  # for officers of an open grant: can a round be decided?
    pending: list[Amendment]  # amendment requests waiting for an officer's decision
    no_go: Milestone | None  # the current milestone, when it was rejected: nothing goes on
    offers: Offers

    @property
    def milestones_by_id(self) -> dict[int, Milestone]:
        return {view.milestone.id: view.milestone for view in self.milestones}

    @property
    def remaining(self) -> int:
        return GrantMoney(self.grant.award_amount, self.released, self.grant.state).remaining

    @property
    def sees_evidence(self) -> bool:
        return not (self.subject.role == Role.reviewer and self.subject.is_conflicted)

    @property
    def is_officer(self) -> bool:
        return self.subject.role == Role.officer


def load_page(user: User, grant_id: int, today: date, locale: str = "ja") -> GrantPage:
    """Everything the page shows, in a fixed number of queries whatever the grant's size."""
    grant = db.session.scalar(
        select(Grant)
        .where(Grant.id == grant_id)
        .options(
            selectinload(Grant.program),
            selectinload(Grant.organization),
            selectinload(Grant.ruleset),
            selectinload(Grant.milestones),
        )
    )
    if grant is None:
        raise NotFound()
    subject = grant_subject(user, grant)
    require(Action.view_grant, subject)
    milestone_ids = [m.id for m in grant.milestones]
    rounds = _rounds(milestone_ids)
    disbursements = {
        d.milestone_id: d
        for d in db.session.scalars(select(Disbursement).where(Disbursement.grant_id == grant.id))
    }
    decided = {
        r.submission.id
        for milestone_rounds in rounds.values()
        for r in milestone_rounds
        if any(review.reviewer_id == user.id for review in r.reviews)
    }
    stages = stages_of(grant.milestones)
    views = [
        _milestone_view(grant, m, subject, rounds[m.id], disbursements.get(m.id), decided, stages)
        for m in grant.milestones
    ]
    released = sum(d.amount for d in disbursements.values())
    planned = _planned_due_dates(grant.id)
    points = [_point(view, planned) for view in views]
    timeline = charts.timeline(points, today, locale)
    # for an officer who can still change the reviewers: can a round ever be decided?
    quorum = quorum_outlook(grant) if may_now(Action.assign_reviewers, subject) else None
    return GrantPage(
        grant,
        subject,
        views,
        released,
        assigned(grant),
        timeline,
        quorum,
        pending_for_grant(grant.id),
        _no_go(grant, stages),
        _offers(subject),
    )


def _no_go(grant: Grant, stages: list[tuple[int, str]]) -> Milestone | None:
    """The rejected current milestone (states.no_go) of a grant that is still running."""
    sequence = no_go(stages)
    if sequence is None or grant.state not in RUNNING:
        return None
    return next(m for m in grant.milestones if m.sequence == sequence)


def _planned_due_dates(grant_id: int) -> dict[int, date]:
    """Each milestone's due date before the first approved amendment that changed it."""
    snapshots = db.session.scalars(
        select(Amendment.snapshot)
        .where(Amendment.grant_id == grant_id, Amendment.state == AmendmentState.approved)
        .order_by(Amendment.decided_at, Amendment.id)
    )
    planned: dict[int, date] = {}
    for snapshot in snapshots:
        before = snapshot.get("before") if isinstance(snapshot, dict) else None
        for key, numbers in (before or {}).items():
            try:
                planned.setdefault(int(key), date.fromisoformat(numbers["due_date"]))
            except (KeyError, TypeError, ValueError):
                continue
    return planned


def _point(view: MilestoneView, planned: dict[int, date]) -> charts.MilestonePoint:
    milestone = view.milestone
    latest = view.rounds[-1].submission if view.rounds else None
    return charts.MilestonePoint(
        key=milestone.id,
        label=f"{milestone.sequence}. {milestone.title}",
        planned=planned.get(milestone.id, milestone.due_date),
        due=milestone.due_date,
        state=MilestoneState(milestone.state),
        submitted=tokyo_today(latest.submitted_at) if latest else None,
        decided=tokyo_today(milestone.decided_at) if milestone.decided_at else None,
        overdue_since=milestone.overdue_since,
    )


def _rounds(milestone_ids: list[int]) -> dict[int, list[Round]]:
    found: dict[int, list[Round]] = defaultdict(list)
    if not milestone_ids:
        return found
    submissions = db.session.scalars(
        select(EvidenceSubmission)
        .where(EvidenceSubmission.milestone_id.in_(milestone_ids))
        .options(selectinload(EvidenceSubmission.files))
        .order_by(EvidenceSubmission.milestone_id, EvidenceSubmission.round)
    )
    by_id: dict[int, Round] = {}
    for submission in submissions:
        by_id[submission.id] = Round(submission)
        found[submission.milestone_id].append(by_id[submission.id])
    reviews = db.session.scalars(
        select(Review)
        .where(Review.milestone_id.in_(milestone_ids))
        .options(selectinload(Review.reviewer))
        .order_by(Review.decided_at, Review.id)
    )
    for review in reviews:
        if review.submission_id in by_id:
            by_id[review.submission_id].reviews.append(review)
    return found


def _milestone_view(
    grant: Grant,
    milestone: Milestone,
    subject: Subject,
    rounds: list[Round],
    disbursement: Disbursement | None,
    decided: set[int],
    stages: list[tuple[int, str]],
) -> MilestoneView:
    reviewed = any(r.submission.id in decided for r in rounds)  # in any round
    relation = replace(
        subject,
        state=str(milestone.state),
        is_reviewer_of_milestone=subject.is_assigned_reviewer or reviewed,
        is_released=disbursement is not None,
    )
    current = next((r for r in rounds if r.submission.round == milestone.round), None)
    awaiting_me = current is not None and current.submission.id not in decided
    return MilestoneView(
        milestone=milestone,
        rounds=rounds,
        disbursement=disbursement,
        # evidence for the grant's current milestone only, as milestones.evidence.service checks
        can_submit=takes_evidence(relation, grant.state, milestone.sequence, stages),
        can_review=awaiting_me and may_now(Action.review_milestone, relation),
        may_release=decide(Action.release_tranche, relation).allowed,
        waits_for_no_go=waits_for_no_go(milestone.sequence, milestone.state, stages),
    )
