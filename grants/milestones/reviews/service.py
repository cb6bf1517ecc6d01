"""Reviewer sign-off on a milestone's evidence round, decided by quorum of eligible reviewers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from grants.accounts.queries import (
    active_officers,
    applicants_and_officers,
    organisation_applicants,
)
from grants.awards.models import EvidenceSubmission, Milestone, Review
from grants.awards.queries import eligible_reviewer_ids, require_on_grant
from grants.awards.rules import decide_round, grant_allows, quorum_of
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.core.problems import N_, Problem
from grants.core.states import MilestoneState, ReviewDecision, transition
from grants.extensions import db

COMMENT_MAX = 5_000
_COMMENT_REQUIRED = frozenset({ReviewDecision.request_changes, ReviewDecision.reject})
# The alert that tells the grantee how a review round ended.
DECIDED = {
    MilestoneState.approved: AlertKind.milestone_approved,
    MilestoneState.changes_requested: AlertKind.changes_requested,
    MilestoneState.rejected: AlertKind.milestone_rejected,
}


@use_case
def decide(
    actor: Actor,
    milestone_id: int,
    decision: ReviewDecision | str,
    comment: str,
    today: date,
) -> Review:
    """Record the actor's decision on the current round; settle the round once quorum is met."""
    milestone = _locked_milestone(milestone_id)
    submission = check_may_review(actor, milestone)
    chosen, comment = _checked_input(decision, comment)
    if _has_decided(actor.id, submission.id):
        raise Conflict(N_("You have already decided on this submission."))
    review = Review(
        milestone_id=milestone.id,
        submission_id=submission.id,
        reviewer_id=actor.id,
        decision=chosen,
        comment=comment,
    )
    db.session.add(review)
    try:
        db.session.flush()
        after = {"decision": str(chosen), "round": submission.round, "on": today.isoformat()}
        audit.record(actor, "review.decide", review, after=after)
        _settle_round(actor, milestone, submission, today)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("You have already decided on this submission.")) from None
    return review


def check_may_review(actor: Actor, milestone: Milestone) -> EvidenceSubmission:
    """The evidence round `actor` may decide on now, else the refusal (the authoritative
    check; the review page asks it before it shows the form): an assigned reviewer without a
    conflict, for a submitted milestone of an active grant."""
    require_on_grant(Action.review_milestone, actor, milestone.grant, milestone)
    if not grant_allows(Action.review_milestone, milestone.grant.state):
        raise Conflict(N_("Milestones of a grant that is not active cannot be reviewed."))
    submission = current_submission(milestone)
    if submission is None:
        raise Conflict(N_("There is no evidence to review."))
    return submission


def current_submission(milestone: Milestone) -> EvidenceSubmission | None:
    query = select(EvidenceSubmission).where(
        EvidenceSubmission.milestone_id == milestone.id,
        EvidenceSubmission.round == milestone.round,
    )
    return db.session.scalar(query)


def _locked_milestone(milestone_id: int) -> Milestone:
    """The milestone row, locked until commit so that concurrent decisions queue."""
    query = (
        select(Milestone)
        .where(Milestone.id == milestone_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    milestone = db.session.scalar(query)
    if milestone is None:
        raise NotFound(N_("Not found."))
    return milestone


def _checked_input(decision: ReviewDecision | str, comment: str) -> tuple[ReviewDecision, str]:
    errors: dict[str, list[Problem]] = {}
    chosen: ReviewDecision | None = None
    try:
        chosen = ReviewDecision(decision)
    except ValueError:
        errors["decision"] = [N_("Choose a decision.")]
    comment = (comment or "").strip()
    if chosen in _COMMENT_REQUIRED and not comment:
        errors["comment"] = [N_("Explain what must change or why the milestone fails.")]
    elif len(comment) > COMMENT_MAX:
        errors["comment"] = [N_("At most %(n)d characters.", n=COMMENT_MAX)]
    if errors or chosen is None:
        raise RuleViolation(N_("The review could not be saved."), errors)
    return chosen, comment


def _has_decided(reviewer_id: int | None, submission_id: int) -> bool:
    query = select(
        exists().where(Review.submission_id == submission_id, Review.reviewer_id == reviewer_id)
    )
    return bool(db.session.scalar(query))


def _settle_round(
    actor: Actor, milestone: Milestone, submission: EvidenceSubmission, today: date
) -> None:
    """Apply the quorum rule to the eligible reviewers' decisions of this round; tell the
    grantee the outcome, and the officers too: a change request or a no-go as such, an
    approval as the tranche ready to release (quorum reached)."""
    eligible = eligible_reviewer_ids(milestone.grant)
    query = select(Review.decision).where(
        Review.submission_id == submission.id, Review.reviewer_id.in_(eligible)
    )
    decisions = list(db.session.scalars(query))
    quorum = quorum_of(milestone.grant.ruleset.document)
    outcome = decide_round(decisions, quorum)
    if outcome is None:
        return
    before = {"state": str(milestone.state), "round": milestone.round}
    milestone.state = transition(milestone.state, outcome)
    milestone.decided_at = utcnow()
    after = {"state": str(outcome), "round": milestone.round, "decisions": len(decisions)}
    audit.record(actor, "milestone.decide", milestone, before, after)
    grantee = milestone.grant.organization_id
    approved = outcome == MilestoneState.approved
    notify.record(
        actor,
        organisation_applicants(grantee) if approved else applicants_and_officers(grantee),
        DECIDED[outcome],
        SubjectType.evidence_submission,
        submission.id,
        today=today,
        grant_id=milestone.grant_id,
        milestone_id=milestone.id,
    )
    if approved:
        notify.record(
            actor,
            active_officers(),
            AlertKind.tranche_ready,
            SubjectType.milestone,
            milestone.id,
            today=today,
            grant_id=milestone.grant_id,
            milestone_id=milestone.id,
        )
