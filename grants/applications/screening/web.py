"""Officer pages: the screening queue, and screening an application (the decision on it is
the awards feature's page)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.applications.queries import may_screen
from grants.applications.screening import service as screening
from grants.applications.screening.queries import QUEUE_STATES, SCREENING, screening_list
from grants.core.calendar import tokyo_today
from grants.core.http.access import actor, requires
from grants.core.http.labels import state_choices
from grants.core.http.listing import ListView, list_query
from grants.core.permissions import Action
from grants.core.states import ApplicationState
from grants.programs import queries as programme_queries

bp = Blueprint("screening", __name__, url_prefix="/officer/screening")


@bp.get("")
@requires(Action.screen_application)
def queue() -> str:
    programs = programme_queries.all_programmes()
    asked = list_query(SCREENING, programs)
    page = screening_list(actor(), asked)
    view = ListView(
        SCREENING,
        asked,
        page,
        states=state_choices(QUEUE_STATES),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    return render_template(
        "applications/screening/queue.html",
        view=view,
        screenable={a.id for a in page.items if may_screen(actor(), a)},
    )


@bp.post("/<int:application_id>/screen")
@requires(Action.screen_application)
def screen(application_id: int) -> Response:
    application = screening.screen(actor(), application_id, tokyo_today(datetime.now(UTC)))
    if application.state == ApplicationState.screened_eligible:
        flash(_("Screened: the application is eligible."), "success")
    else:
        flash(_("Screened: the application is not eligible."), "warning")
    return redirect(url_for("awards.show", application_id=application_id))
