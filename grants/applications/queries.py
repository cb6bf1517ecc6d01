"""What the reader of an application may do with it now, for its page and its API resource."""

from __future__ import annotations

from dataclasses import dataclass

from grants.applications.models import Application
from grants.applications.screening.queries import may_screen
from grants.applications.service import get_application, subject
from grants.core.actors import Actor
from grants.core.errors import NotAllowed, NotFound
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_


@dataclass(frozen=True)
class ApplicationActions:
    may_edit: bool
    may_submit: bool
    may_withdraw: bool
    may_screen: bool


def application_actions(actor: Actor, application: Application) -> ApplicationActions:
    """The permission table's answers for this actor and the application as it stands."""
    relation = subject(actor, application)
    return ApplicationActions(
        may_edit=decide(Action.edit_application, relation).allowed,
        may_submit=decide(Action.submit_application, relation).allowed,
        may_withdraw=decide(Action.withdraw_application, relation).allowed,
        may_screen=may_screen(actor, application),
    )


def application_for(actor: Actor, application_id: int, action: Action) -> Application:
    """The application, when the actor may do `action` with it now: a page asks before it
    reads a form (NotAllowed for another's, Conflict for one past that state)."""
    application = get_application(actor, application_id)
    require(action, subject(actor, application))
    return application


def unrevealed_application(actor: Actor, application_id: int) -> Application:
    """The application, if the actor may see it; another organisation's is not revealed to
    an applicant (NotFound, as for an id that does not exist). A role that may not see
    applications at all is refused (NotAllowed)."""
    try:
        return get_application(actor, application_id)
    except NotAllowed:
        mine_only = Subject(role=actor.role, is_owner_org=True)
        if decide(Action.view_application, mine_only).allowed:
            raise NotFound(N_("Not found.")) from None
        raise
