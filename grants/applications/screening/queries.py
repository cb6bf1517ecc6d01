"""Whether an officer may screen an application now: for the queue, the decision page and
the API alike."""

from __future__ import annotations

from grants.applications.models import Application
from grants.core.actors import Actor
from grants.core.permissions import Action, Subject, decide
from grants.core.states import ApplicationState, can_transition


def may_screen(actor: Actor, application: Application) -> bool:
    """The actor's role screens, and the application waits for its screening."""
    allowed = decide(Action.screen_application, Subject(role=actor.role)).allowed
    return allowed and can_transition(application.state, ApplicationState.screened_eligible)
