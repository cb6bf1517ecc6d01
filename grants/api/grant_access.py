"""Which grants the caller may see: 404 for the others, so their existence is not revealed.

The rules are the web grant page's (domain.permissions view_grant through
services.access.grant_subject). Officers and admins, who list every grant, get 403
instead of 404 when the permission table refuses them an action on a grant.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, false, select

from grants.domain.accounts import Role
from grants.domain.errors import NotAllowed, NotFound
from grants.domain.permissions import Action, Reason, Subject, decide
from grants.extensions import db
from grants.models import Amendment, Grant, Investment, Milestone, ReviewerAssignment, User
from grants.services.access import get_grant, grant_subject


def lists_every_grant(user: User) -> bool:
    """Officers and admins see the whole portfolio."""
    return decide(Action.view_portfolio, Subject(role=user.role)).allowed


def visible_grants(user: User, query: Select[tuple[Grant]]) -> Select[tuple[Grant]]:
    """`query` narrowed to the grants `user` may see (the set form of view_grant)."""
    if lists_every_grant(user):
        return query
    if user.role == Role.applicant and user.organization_id is not None:
        return query.where(Grant.organization_id == user.organization_id)
    if user.role == Role.reviewer:
        mine = select(ReviewerAssignment.grant_id).where(ReviewerAssignment.reviewer_id == user.id)
        return query.where(Grant.id.in_(mine))
    return query.where(false())


def visible_grant(user: User, grant_id: int) -> tuple[Grant, Subject]:
    """The grant and the caller's relation to it; NotFound when the caller may not see it."""
    grant = get_grant(grant_id)
    subject = grant_subject(user, grant)
    if not decide(Action.view_grant, subject).allowed:
        if lists_every_grant(user):
            raise NotAllowed(_("You may not open this grant."))
        raise NotFound(_("Not found."))
    return grant, subject


def visible_milestone(user: User, milestone_id: int) -> tuple[Milestone, Subject]:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(_("Not found."))
    grant, _subject = visible_grant(user, milestone.grant_id)
    return milestone, grant_subject(user, grant, milestone)


def visible_investment(user: User, investment_id: int) -> Investment:
    investment = db.session.get(Investment, investment_id)
    if investment is None:
        raise NotFound(_("Not found."))
    visible_grant(user, investment.grant_id)
    return investment


def visible_amendment(user: User, amendment_id: int) -> Amendment:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound(_("Not found."))
    visible_grant(user, amendment.grant_id)
    return amendment


def require_role(user: User, action: Action) -> None:
    """The web's role gate: refuse a role that never performs `action` (the service decides
    the rest)."""
    reason = decide(action, Subject(role=user.role)).reason
    if reason in (Reason.role, Reason.separation_of_duties):
        raise NotAllowed(_("Your role may not do this."))
