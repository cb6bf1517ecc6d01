"""Building the rules engine's `facts` mappings from stored applications and grants.

Loaders take many objects at once so that a what-if over a whole programme stays a
handful of queries.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from grants.applications.facts import Facts, application_facts, certifications_by_vc
from grants.awards.models import Disbursement, EvidenceSubmission, Investment, Milestone, Review
from grants.core.states import MilestoneState, ReviewDecision
from grants.extensions import db
from grants.programs.models import BudgetPool


def tranche_facts(milestone: Milestone, release_date: date) -> Facts:
    """Tranche-gate facts for releasing `milestone` on `release_date` (plus the grant's own)."""
    grant = milestone.grant
    application = grant.application
    certs = certifications_by_vc(ci.vc_organization_id for ci in application.co_investments)
    facts = application_facts(application, release_date, certs)
    released = _sum(Disbursement.amount, Disbursement.grant_id == grant.id)
    paid_in = _sum(
        Investment.amount,
        Investment.grant_id == grant.id,
        Investment.verified_at.is_not(None),
        Investment.paid_on <= release_date,
    )
    prior = [m for m in grant.milestones if m.sequence < milestone.sequence]
    approvals, reviewers = review_counts(milestone)
    facts.update(
        {
            "award_amount": grant.award_amount,
            "release_date": release_date,
            "tranche_amount": milestone.tranche_amount,
            "cumulative_subsidy": released + milestone.tranche_amount,
            "paid_in_total": paid_in,
            "pool_available": pool_room(grant.program_id, milestone),
            "prior_milestones_total": len(prior),
            "prior_milestones_approved": sum(m.state == MilestoneState.approved for m in prior),
            "eligible_approvals": approvals,
            "eligible_reviewers": reviewers,
        }
    )
    return facts


def _sum(column: Any, *conditions: Any) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(column), 0)).where(*conditions)))


def pool_room(program_id: int, milestone: Milestone) -> int | None:
    """Room for this tranche: what is available plus its own commitment (already counted).

    An awarded tranche stays in its pool's `committed` until released, so its own
    reservation is room for it, not for the others."""
    pool = db.session.scalar(
        select(BudgetPool).where(
            BudgetPool.program_id == program_id, BudgetPool.fiscal_year == milestone.fiscal_year
        )
    )
    if pool is None:
        return None
    own = milestone.tranche_amount if milestone.state != MilestoneState.cancelled else 0
    return pool.available + own


def review_counts(milestone: Milestone) -> tuple[int, int]:
    """Approvals in the current round from eligible reviewers, and how many are eligible."""
    from grants.awards.queries import eligible_reviewer_ids

    eligible = eligible_reviewer_ids(milestone.grant)
    approvals = db.session.scalar(
        select(func.count())
        .select_from(Review)
        .join(EvidenceSubmission, Review.submission_id == EvidenceSubmission.id)
        .where(
            Review.milestone_id == milestone.id,
            EvidenceSubmission.round == milestone.round,
            Review.decision == ReviewDecision.approve,
            Review.reviewer_id.in_(eligible),
        )
    )
    return int(approvals or 0), len(eligible)
