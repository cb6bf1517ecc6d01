"""The screening queue: submitted applications, up to the decision on them."""

from __future__ import annotations

from grants.applications.models import Application
from grants.applications.queries import (
    APPLICATION_SORTS,
    counted_applications,
    listed_applications,
    narrowed,
)
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.lists import Filter, Listing, ListQuery, count_of, page_of
from grants.core.permissions import Action, Subject, require
from grants.core.states import ApplicationState

# Submitted, and not decided yet.
QUEUE_STATES = (
    ApplicationState.submitted,
    ApplicationState.screened_eligible,
    ApplicationState.screened_ineligible,
    ApplicationState.under_review,
)

SCREENING = Listing(
    name="screening",
    sorts={key: columns for key, columns in APPLICATION_SORTS.items() if key != "created"},
    default_sort="submitted_on",
    tiebreak=Application.id,
    states=QUEUE_STATES,
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year}),
)


def screening_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of the applications waiting for an officer (oldest submission first unless
    asked otherwise): submitted, screened or under review, not decided yet."""
    require(Action.screen_application, Subject(role=actor.role))
    waiting = Application.state.in_(QUEUE_STATES)
    shown = narrowed(listed_applications().where(waiting), asked)
    counted = narrowed(counted_applications(asked).where(waiting), asked)
    return page_of(shown, SCREENING, asked, count=lambda: count_of(counted))
