"""Reviewer eligibility: conflict-of-interest exclusion per grant (domain.conflicts decides)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from grants.domain.conflicts import Candidate, ConflictReason, GrantParties, conflict_reasons
from grants.extensions import db
from grants.models import ConflictDeclaration, Grant, ReviewerAssignment, User


def grant_parties(grant: Grant) -> GrantParties:
    vc_ids = frozenset(ci.vc_organization_id for ci in grant.application.co_investments)
    return GrantParties(grant.id, grant.organization_id, vc_ids)


def candidates(users: Iterable[User]) -> list[Candidate]:
    users = list(users)
    declared_orgs: dict[int, set[int]] = defaultdict(set)
    declared_grants: dict[int, set[int]] = defaultdict(set)
    ids = [u.id for u in users]
    if ids:
        query = select(ConflictDeclaration).where(ConflictDeclaration.reviewer_id.in_(ids))
        for declaration in db.session.scalars(query):
            if declaration.organization_id is not None:
                declared_orgs[declaration.reviewer_id].add(declaration.organization_id)
            if declaration.grant_id is not None:
                declared_grants[declaration.reviewer_id].add(declaration.grant_id)
    return [
        Candidate(
            u.id,
            u.organization_id,
            frozenset(declared_orgs[u.id]),
            frozenset(declared_grants[u.id]),
        )
        for u in users
    ]


def assigned_reviewers(grant: Grant) -> list[User]:
    query = (
        select(User)
        .join(ReviewerAssignment, ReviewerAssignment.reviewer_id == User.id)
        .where(ReviewerAssignment.grant_id == grant.id)
        .order_by(User.name)
    )
    return list(db.session.scalars(query))


def reviewer_conflicts(grant: Grant, users: Iterable[User]) -> dict[int, list[ConflictReason]]:
    """Each user's conflict reasons with `grant` (an empty list when none)."""
    parties = grant_parties(grant)
    return {c.user_id: conflict_reasons(c, parties) for c in candidates(users)}


def eligible_reviewer_ids(grant: Grant) -> set[int]:
    """Assigned, active reviewers with no conflict of interest with `grant`."""
    reviewers = [u for u in assigned_reviewers(grant) if u.active]
    conflicts = reviewer_conflicts(grant, reviewers)
    return {user_id for user_id, reasons in conflicts.items() if not reasons}
