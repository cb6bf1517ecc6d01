"""Applicant page: the reviewers' feedback on a decided application (criterion means and
numbered comments, never a reviewer's name)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from grants.core.http.access import actor, requires
from grants.core.permissions import Action
from grants.merit_review.feedback.queries import feedback, offers_feedback

bp = Blueprint("merit_feedback", __name__, url_prefix="/applications")


@bp.app_template_global()
def feedback_url(application: Any) -> str | None:
    """The feedback page's address for the signed-in user, when it has something for them."""
    if not current_user.is_authenticated or not offers_feedback(actor(), application):
        return None
    return url_for("merit_feedback.show", application_id=application.id)


@bp.get("/<int:application_id>/feedback")
@requires(Action.view_feedback)
def show(application_id: int) -> str:
    return render_template(
        "merit_review/feedback/show.html", feedback=feedback(actor(), application_id)
    )
