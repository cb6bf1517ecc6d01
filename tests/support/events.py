"""Every event of issue 16's list, made through its use case in one cast of people.

The cast: the grantee's users (two active applicants, one whose account is closed),
another organisation's applicant, three officers (one closed), the grant's reviewers (two
eligible, one assigned but conflicted, one not assigned) and an admin. Each event says
whose alerts it must make (`Told`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.amendments import service as amendments
from grants.applications import service as applications
from grants.applications.screening import service as screening
from grants.awards import service as awards
from grants.awards.models import ReviewerAssignment
from grants.awards.termination import service as terminations
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.identity import OrgKind, Role
from grants.core.states import AmendmentKind, ReviewDecision
from grants.extensions import db
from grants.investments import service as investments
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from grants.milestones.reviews import service as reviews
from grants.releases import service as releases
from tests.support.applications import make_pools, ready_application
from tests.support.approvals import approve
from tests.support.factories import make_org, make_user, uploads
from tests.support.grants import GrantWorld, make_grant

TODAY = date(2026, 10, 1)
K = AlertKind


@dataclass
class Cast:
    world: GrantWorld
    colleague: User  # a second active applicant of the grantee
    officer: User  # the acting officer
    other_officer: User
    conflicted: User  # assigned to the grant, with a declared conflict
    unassigned: User

    @property
    def grantee(self) -> set[int]:
        return {self.world.applicant.id, self.colleague.id}

    @property
    def officers(self) -> set[int]:
        return {self.officer.id, self.other_officer.id}

    @property
    def eligible(self) -> set[int]:
        return {reviewer.id for reviewer in self.world.reviewers}


def make_cast() -> Cast:
    world = make_grant()
    colleague = make_user(Role.applicant, world.grantee)
    make_user(Role.applicant, world.grantee, active=False)
    make_user(Role.applicant, make_org())  # another organisation
    officer, other_officer = make_user(Role.officer), make_user(Role.officer)
    make_user(Role.officer, active=False)
    make_user(Role.admin)
    conflicted = make_user(Role.reviewer, make_org(OrgKind.university))
    db.session.add(ReviewerAssignment(grant_id=world.grant.id, reviewer_id=conflicted.id))
    db.session.commit()
    assignments.declare_conflict(conflicted, None, world.grant.id, "Advised the founders")
    unassigned = make_user(Role.reviewer, make_org(OrgKind.university))
    return Cast(world, colleague, officer, other_officer, conflicted, unassigned)


# --- the events: each makes one, and says who must hear of it ---------------------------------


@dataclass(frozen=True)
class Told:
    """Who an event's alert of `kind` must reach, about which subject, and the actor."""

    kind: AlertKind
    recipients: set[int]
    subject: tuple[SubjectType, int]
    actor: User


def submit_evidence(cast: Cast, index: int = 0) -> int:
    milestone = cast.world.milestones[index]
    submission = evidence.submit_evidence(
        cast.world.applicant, milestone.id, "Done.", {0: "8"}, [], TODAY, upload_folder=uploads()
    )
    return submission.id


def _decide_all(cast: Cast, decision: ReviewDecision) -> None:
    milestone_id = cast.world.milestones[0].id
    for reviewer in cast.world.reviewers:
        reviews.decide(reviewer, milestone_id, decision, "See the comment.", TODAY)


def application_submitted(cast: Cast) -> list[Told]:
    world = ready_application(applicant=cast.world.applicant)
    applications.submit(cast.world.applicant, world.application.id, date(2026, 5, 1))
    subject = (SubjectType.application, world.application.id)
    return [Told(K.application_submitted, cast.officers, subject, cast.world.applicant)]


def _submitted_application(cast: Cast) -> int:
    world = ready_application(applicant=cast.world.applicant)
    applications.submit(cast.world.applicant, world.application.id, date(2026, 5, 1))
    make_pools(world.program)
    return world.application.id


def application_screened(cast: Cast) -> list[Told]:
    application_id = _submitted_application(cast)
    screening.screen(cast.officer, application_id, TODAY)
    subject = (SubjectType.application, application_id)
    return [Told(K.application_screened, cast.grantee, subject, cast.officer)]


def application_awarded(cast: Cast) -> list[Told]:
    application_id = _submitted_application(cast)
    screening.screen(cast.other_officer, application_id, TODAY)
    awards.award(cast.officer, application_id, date(2026, 6, 1))
    subject = (SubjectType.application, application_id)
    return [Told(K.application_awarded, cast.grantee, subject, cast.officer)]


def application_rejected(cast: Cast) -> list[Told]:
    application_id = _submitted_application(cast)
    screening.screen(cast.other_officer, application_id, TODAY)
    awards.reject(cast.officer, application_id, "Budget priorities.", TODAY)
    subject = (SubjectType.application, application_id)
    return [Told(K.application_rejected, cast.grantee, subject, cast.officer)]


def reviewer_assigned(cast: Cast) -> list[Told]:
    grant_id, reviewer = cast.world.grant.id, cast.unassigned
    assignment = assignments.assign_reviewer(cast.officer, grant_id, reviewer.id, TODAY)
    subject = (SubjectType.reviewer_assignment, assignment.id)
    return [Told(K.reviewer_assigned, {reviewer.id}, subject, cast.officer)]


def evidence_submitted(cast: Cast) -> list[Told]:
    submission_id = submit_evidence(cast)
    subject = (SubjectType.evidence_submission, submission_id)
    return [Told(K.evidence_submitted, cast.eligible, subject, cast.world.applicant)]


def evidence_resubmitted(cast: Cast) -> list[Told]:
    submit_evidence(cast)
    _decide_all(cast, ReviewDecision.request_changes)
    db.session.execute(db.delete(Alert))  # only the second round's alerts are looked at
    db.session.commit()
    submission_id = submit_evidence(cast)
    subject = (SubjectType.evidence_submission, submission_id)
    return [Told(K.evidence_submitted, cast.eligible, subject, cast.world.applicant)]


def milestone_approved(cast: Cast) -> list[Told]:
    submission_id = submit_evidence(cast)
    _decide_all(cast, ReviewDecision.approve)
    last = cast.world.reviewers[-1]
    round_ = (SubjectType.evidence_submission, submission_id)
    milestone = (SubjectType.milestone, cast.world.milestones[0].id)
    return [
        Told(K.milestone_approved, cast.grantee, round_, last),
        Told(K.tranche_ready, cast.officers, milestone, last),
    ]


def changes_requested(cast: Cast) -> list[Told]:
    submission_id = submit_evidence(cast)
    _decide_all(cast, ReviewDecision.request_changes)
    told = cast.grantee | cast.officers
    subject = (SubjectType.evidence_submission, submission_id)
    return [Told(K.changes_requested, told, subject, cast.world.reviewers[-1])]


def milestone_rejected(cast: Cast) -> list[Told]:
    submission_id = submit_evidence(cast)
    _decide_all(cast, ReviewDecision.reject)
    told = cast.grantee | cast.officers
    subject = (SubjectType.evidence_submission, submission_id)
    return [Told(K.milestone_rejected, told, subject, cast.world.reviewers[-1])]


def tranche_released(cast: Cast) -> list[Told]:
    milestone = cast.world.milestones[0]
    approve(cast.world, milestone)
    disbursement = releases.release(cast.officer, milestone.id, TODAY)
    subject = (SubjectType.disbursement, disbursement.id)
    return [Told(K.tranche_released, cast.grantee, subject, cast.officer)]


def _amendment(cast: Cast) -> int:
    milestone = cast.world.milestones[0]
    amendment = amendments.request_amendment(
        cast.world.applicant, cast.world.grant.id, AmendmentKind.due_date, milestone.id,
        date(2026, 12, 15), None, "治験施設の準備に時間がかかるため", TODAY,
    )  # fmt: skip
    return amendment.id


def amendment_requested(cast: Cast) -> list[Told]:
    amendment_id = _amendment(cast)
    subject = (SubjectType.amendment, amendment_id)
    return [Told(K.amendment_requested, cast.officers, subject, cast.world.applicant)]


def amendment_decided(cast: Cast) -> list[Told]:
    amendment_id = _amendment(cast)
    amendments.decide_amendment(cast.officer, amendment_id, False, "Not this year.", TODAY)
    subject = (SubjectType.amendment, amendment_id)
    return [Told(K.amendment_decided, cast.grantee, subject, cast.officer)]


def investment_recorded(cast: Cast) -> list[Told]:
    investment = investments.record_investment(
        cast.officer, cast.world.grant.id, cast.world.vc.id, 50_000_000, date(2026, 9, 1),
        "振込番号 20260901-0042", TODAY,
    )  # fmt: skip
    subject = (SubjectType.investment, investment.id)
    return [Told(K.investment_recorded, {cast.other_officer.id}, subject, cast.officer)]


def grant_terminated(cast: Cast) -> list[Told]:
    terminations.terminate(cast.officer, cast.world.grant.id, "No-go at the review.", TODAY)
    told = cast.grantee | cast.eligible | {cast.conflicted.id}
    subject = (SubjectType.grant, cast.world.grant.id)
    return [Told(K.grant_terminated, told, subject, cast.officer)]


EVENTS = [
    application_submitted,
    application_screened,
    application_awarded,
    application_rejected,
    reviewer_assigned,
    evidence_submitted,
    evidence_resubmitted,
    milestone_approved,
    changes_requested,
    milestone_rejected,
    tranche_released,
    amendment_requested,
    amendment_decided,
    investment_recorded,
    grant_terminated,
]


# The kinds each event makes (by default the kind named like the event).
MADE = {
    "milestone_approved": {K.milestone_approved, K.tranche_ready},
    "evidence_resubmitted": {K.evidence_submitted},
}


def made(event: Callable[[Cast], list[Told]]) -> set[AlertKind]:
    return MADE[event.__name__] if event.__name__ in MADE else {K(event.__name__)}
