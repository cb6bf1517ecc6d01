"""The milestones list: every milestone the reader may see, across grants."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from grants.core.http.access import actor
from grants.core.http.labels import state_choices
from grants.core.http.listing import ListView, list_query
from grants.core.states import MilestoneState
from grants.milestones.queries import MILESTONES, milestone_list
from grants.programs import queries as programme_queries

bp = Blueprint("milestones", __name__)


@bp.get("/milestones")
@login_required
def index() -> str:
    """Applicants see their organisation's milestones, reviewers their grants', officers
    and administrators every one (the grants each may see)."""
    programs = programme_queries.all_programmes()
    asked = list_query(MILESTONES, programs)
    view = ListView(
        MILESTONES,
        asked,
        milestone_list(actor(), asked),
        states=state_choices(MilestoneState),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    return render_template("milestones/index.html", view=view)
