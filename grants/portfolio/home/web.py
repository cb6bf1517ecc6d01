"""The home page: what the signed-in user can do, by role, with a dashboard of their work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

from grants.core.calendar import tokyo_today
from grants.core.http.access import actor
from grants.core.identity import Role
from grants.portfolio.home import queries as dashboard

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def home() -> str:
    return render_template("portfolio/home/home.html", **_dashboard())


def _dashboard() -> dict[str, Any]:
    """The role's part of the page; each service call is a fixed number of queries."""
    user = actor()
    today = tokyo_today(datetime.now(UTC))
    if user.role == Role.applicant:
        return {"today": today, "mine": dashboard.applicant_dashboard(user, today)}
    if user.role == Role.reviewer:
        return {"today": today, "waiting": dashboard.reviewer_waiting(user)}
    if user.role == Role.officer:
        return {"today": today, "summary": dashboard.officer_summary(user)}
    return {"today": today}
