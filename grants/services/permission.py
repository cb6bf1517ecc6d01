"""Permission checks as the services make them: the domain's decision, refused in words."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from grants.domain import states
from grants.domain.accounts import Role
from grants.domain.errors import Conflict, NotAllowed
from grants.domain.permissions import Action, Reason, Subject, decide, refused_state


def require(action: Action, subject: Subject) -> None:
    """Raise Conflict when the object's state refuses `action`, NotAllowed on any other
    refusal, with a message in the user's language."""
    decision = decide(action, subject)
    if decision.allowed:
        return
    if decision.reason is Reason.not_current_milestone:
        raise Conflict(_("Evidence is accepted only for the grant's current milestone."))
    if decision.reason is Reason.state:
        raise Conflict(_state_refusal(action, subject))
    if decision.reason is Reason.separation_of_duties and subject.role != Role.admin:
        raise NotAllowed(_("You reviewed this milestone: another officer must do this."))
    raise NotAllowed(_refusals()[decision.reason])


def _state_refusal(action: Action, subject: Subject) -> str:
    state = refused_state(action, subject)
    if state is None:
        return _("This cannot be done in its present state.")
    label = states.label(state, str(get_locale() or "ja"))
    return _("This cannot be done while it is “%(state)s”.", state=label)


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
