"""Officer page: assigning reviewers to a grant, conflicted candidates excluded with reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import AnyOf

from grants.accounts.models import User
from grants.awards.models import Grant
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, IdField, apply_errors
from grants.core.http.i18n import localise
from grants.core.http.listing import ListView, chosen_ids, list_query
from grants.core.permissions import Action
from grants.extensions import db
from grants.milestones.assignments import queries as assignment_queries
from grants.milestones.assignments import service as assignments
from grants.milestones.assignments.queries import ASSIGNABLE, SHORT, assignments_view
from grants.programs import queries as programme_queries

bp = Blueprint("assignments", __name__, url_prefix="/officer/grants")
ASSIGN = "assign"
UNASSIGN = "unassign"


class AssignmentForm(Form):
    reviewer_id = IdField(message=_l("Choose a reviewer from the list."))
    op = HiddenField(validators=[AnyOf([ASSIGN, UNASSIGN])])


class BulkForm(Form):
    """Only the CSRF token: the grants and the reviewer come as hidden fields, and each
    assignment is checked by its own use case."""


@bp.get("/reviewers")
@requires(Action.assign_reviewers)
def assignable() -> str:
    """The active grants to assign reviewers to, those short of reviewers first to open
    from "My work": tick several, choose a reviewer, confirm."""
    programs = programme_queries.all_programmes()
    asked = list_query(ASSIGNABLE, programs)
    view = ListView(
        ASSIGNABLE,
        asked,
        assignment_queries.assignable_list(actor(), asked),
        states=[(SHORT, _("Short of reviewers"))],
        programs=programs,
    )
    reviewers = assignment_queries.active_reviewers()
    return render_template("milestones/assignments/bulk.html", view=view, reviewers=reviewers)


@bp.get("/reviewers/bulk")
@requires(Action.assign_reviewers)
def confirm_bulk() -> tuple[str, int] | Response:
    """What assigning the chosen reviewer to each ticked grant would meet; nothing changes
    before the confirmation's POST."""
    grant_ids = chosen_ids(request.args.getlist("grant_id"))[: assignments.BULK_MAX]
    reviewer = _reviewer(request.args.get("reviewer_id", ""))
    if not grant_ids or reviewer is None:
        flash(_("Tick the grants and choose a reviewer first."), "warning")
        return redirect(url_for("assignments.assignable", state=SHORT))
    found = assignment_queries.prospects(reviewer, grant_ids)
    page = render_template(
        "milestones/assignments/bulk_confirm.html",
        form=BulkForm(),
        reviewer=reviewer,
        prospects=found,
        clear=[p for p in found if p.clear],
    )
    return page, 200


@bp.post("/reviewers/bulk")
@requires(Action.assign_reviewers)
def assign_bulk() -> tuple[str, int] | Response:
    """Assign the reviewer to each confirmed grant, each by its own use case, and report
    each one's outcome."""
    form = BulkForm()
    grant_ids = chosen_ids(request.form.getlist("grant_id"))
    reviewer_id = chosen_ids([request.form.get("reviewer_id", "")])
    if not form.validate_on_submit() or not grant_ids or not reviewer_id:
        flash(_("Tick the grants and choose a reviewer first."), "warning")
        return redirect(url_for("assignments.assignable", state=SHORT))
    try:
        outcomes = assignments.assign_each(actor(), grant_ids, reviewer_id[0], _today())
    except RuleViolation as error:  # more than a bulk assignment may name
        flash(localise(error.message), "error")
        return redirect(url_for("assignments.assignable", state=SHORT))
    numbers = assignment_queries.grant_numbers(grant_ids)
    page = render_template(
        "milestones/assignments/bulk_result.html",
        results=[(outcome, numbers.get(outcome.grant_id)) for outcome in outcomes],
        assigned=sum(outcome.assigned for outcome in outcomes),
    )
    return page, 200


def _reviewer(value: str) -> User | None:
    """The active reviewer an id names, else None."""
    ids = chosen_ids([value])
    return assignment_queries.active_reviewer(ids[0]) if ids else None


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
