"""A grant's reviewers and the candidates for it, whether the actor may change them now, and
a reviewer's own conflict declarations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.accounts.models import ConflictDeclaration, User
from grants.awards.models import Grant, ReviewerAssignment
from grants.awards.queries import (
    QuorumOutlook,
    Reviewed,
    assigned,
    grant_subject,
    may_now,
    quorum_outlook,
    reviewer_conflicts,
)
from grants.core.actors import Actor
from grants.core.identity import Role
from grants.core.permissions import Action
from grants.extensions import db


@dataclass(frozen=True)
class AssignmentsView:
    grant: Grant
    assigned: Reviewed  # with their conflict reasons (empty when eligible)
    candidates: Reviewed
    quorum: QuorumOutlook
    may_assign: bool  # an officer, while the grant is open


def assignments_view(actor: Actor, grant: Grant) -> AssignmentsView:
    return AssignmentsView(
        grant=grant,
        assigned=assigned(grant),
        candidates=candidates(grant),
        quorum=quorum_outlook(grant),
        may_assign=may_now(Action.assign_reviewers, grant_subject(actor, grant)),
    )


def candidates(grant: Grant) -> Reviewed:
    """Active reviewers not yet assigned to `grant`, with their conflict reasons."""
    taken = select(ReviewerAssignment.reviewer_id).where(ReviewerAssignment.grant_id == grant.id)
    query = (
        select(User)
        .where(User.role == Role.reviewer, User.active.is_(True), User.id.not_in(taken))
        .options(selectinload(User.organization))
        .order_by(User.name, User.id)
    )
    users = list(db.session.scalars(query))
    found = reviewer_conflicts(grant, users)
    return [(user, found[user.id]) for user in users]


def declarations_of(actor: Actor) -> list[ConflictDeclaration]:
    query = (
        select(ConflictDeclaration)
        .where(ConflictDeclaration.reviewer_id == actor.id)
        .order_by(ConflictDeclaration.declared_at.desc(), ConflictDeclaration.id.desc())
    )
    return list(db.session.scalars(query))
