"""Permission checks as the services make them: the domain's decision, refused in words."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from grants.domain import states
from grants.domain.accounts import Role
from grants.domain.errors import Conflict, NotAllowed
from grants.domain.permissions import Action, Reason, Subject, decide
from grants.domain.states import ApplicationState, MilestoneState

# The object whose state an action's state check reads (see Subject.state).
_MILESTONE_ACTIONS = frozenset({Action.submit_evidence, Action.review_milestone})


def require(action: Action, subject: Subject) -> None:
    """Raise Conflict when the object's state refuses `action`, NotAllowed on any other
    refusal, with a message in the user's language."""
    decision = decide(action, subject)
    if decision.allowed:
        return
    if decision.reason is Reason.not_current_milestone:
        raise Conflict(_("Evidence is accepted only for the grant's current milestone."))
    if decision.reason is Reason.state:
        raise Conflict(
            _("This cannot be done while it is “%(state)s”.", state=_state_label(action, subject))
        )
    if decision.reason is Reason.separation_of_duties and subject.role != Role.admin:
        raise NotAllowed(_("You reviewed this milestone: another officer must do this."))
    raise NotAllowed(_refusals()[decision.reason])


def _state_label(action: Action, subject: Subject) -> str:
    kind = MilestoneState if action in _MILESTONE_ACTIONS else ApplicationState
    return states.label(kind(subject.state), str(get_locale() or "ja"))


def _refusals() -> dict[Reason, str]:
    return {
        Reason.role: _("Your role does not allow this."),
        Reason.separation_of_duties: _(
            "Administrators do not handle money: a program officer does this."
        ),
        Reason.not_owner: _("This belongs to another organisation."),
        Reason.not_assigned: _("You are not assigned to this grant."),
        Reason.conflicted: _("You have a conflict of interest with this grant."),
    }
