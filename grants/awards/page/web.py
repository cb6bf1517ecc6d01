"""The grant page: milestones, evidence rounds, reviews and money, for everyone involved."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template
from flask_babel import get_locale

from grants.awards.page.queries import load_page
from grants.core.calendar import tokyo_today
from grants.core.http.access import actor, requires
from grants.core.permissions import Action

bp = Blueprint("grant_page", __name__, url_prefix="/grants")


@bp.get("/<int:grant_id>")
@requires(Action.view_grant)
def show(grant_id: int) -> str:
    locale = str(get_locale() or "ja")
    page = load_page(actor(), grant_id, tokyo_today(datetime.now(UTC)), locale)
    return render_template("awards/show.html", page=page, grant=page.grant)
