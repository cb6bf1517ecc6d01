"""Officer page: assigning reviewers to a grant, conflicted candidates excluded with reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import AnyOf

from grants.awards.models import Grant
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, IdField, apply_errors
from grants.core.permissions import Action
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.assignments.queries import assignments_view

bp = Blueprint("assignments", __name__, url_prefix="/officer/grants")
ASSIGN = "assign"
UNASSIGN = "unassign"


class AssignmentForm(Form):
    reviewer_id = IdField(message=_l("Choose a reviewer from the list."))
    op = HiddenField(validators=[AnyOf([ASSIGN, UNASSIGN])])


@bp.route("/<int:grant_id>/reviewers", methods=["GET", "POST"])
@requires(Action.assign_reviewers)
def edit(grant_id: int) -> tuple[str, int] | Response:
    grant = db.get_or_404(Grant, grant_id)
    form = AssignmentForm()
    if form.validate_on_submit():
        reviewer_id = form.reviewer_id.data
        assert reviewer_id is not None  # IdField: required, 1 to ID_MAX
        try:
            if form.op.data == ASSIGN:
                assignments.assign_reviewer(actor(), grant_id, reviewer_id, _today())
                flash(_("The reviewer was assigned."), "success")
            else:
                assignments.unassign_reviewer(actor(), grant_id, reviewer_id)
                flash(_("The reviewer was removed from the grant."), "success")
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            return redirect(url_for("assignments.edit", grant_id=grant_id))
    errors = list(form.form_errors) + [m for f in form for m in f.errors]
    view = assignments_view(actor(), grant)
    page = render_template(
        "milestones/assignments/edit.html", view=view, grant=grant, errors=errors
    )
    return page, 422 if errors else 200


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
