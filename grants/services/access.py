"""Loading grants and milestones, and the actor's relation to them for domain.permissions."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import exists, select

from grants.domain.errors import NotFound
from grants.domain.permissions import Action, Subject
from grants.extensions import db
from grants.models import Grant, Milestone, Review, ReviewerAssignment
from grants.services.actors import Actor
from grants.services.permission import require
from grants.services.reviewers import reviewer_conflicts


def get_grant(grant_id: int) -> Grant:
    grant = db.session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_("Not found."))
    return grant


def get_milestone(milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(_("Not found."))
    return milestone


def grant_subject(
    actor: Actor, grant: Grant, milestone: Milestone | None = None, state: str | None = None
) -> Subject:
    """The actor's relation to `grant` (and to `milestone`, whose state is used by default)."""
    assigned = _is_assigned(actor, grant)
    return Subject(
        role=actor.role,
        is_owner_org=actor.organization_id is not None
        and actor.organization_id == grant.organization_id,
        is_assigned_reviewer=assigned,
        is_conflicted=assigned and bool(reviewer_conflicts(grant, [actor])[actor.id]),
        is_reviewer_of_milestone=milestone is not None
        and (assigned or _has_reviewed(actor, milestone)),
        state=state if state is not None else (str(milestone.state) if milestone else None),
    )


def require_on_grant(
    action: Action,
    actor: Actor,
    grant: Grant,
    milestone: Milestone | None = None,
    state: str | None = None,
) -> None:
    """Raise NotAllowed (or Conflict for a state refusal) unless `actor` may do `action`."""
    require(action, grant_subject(actor, grant, milestone, state))


def _is_assigned(actor: Actor, grant: Grant) -> bool:
    if actor.id is None:
        return False
    query = select(
        exists().where(
            ReviewerAssignment.grant_id == grant.id, ReviewerAssignment.reviewer_id == actor.id
        )
    )
    return bool(db.session.scalar(query))


def _has_reviewed(actor: Actor, milestone: Milestone) -> bool:
    """Separation of duties also covers someone who reviewed it before a change of role."""
    if actor.id is None:
        return False
    query = select(
        exists().where(Review.milestone_id == milestone.id, Review.reviewer_id == actor.id)
    )
    return bool(db.session.scalar(query))
