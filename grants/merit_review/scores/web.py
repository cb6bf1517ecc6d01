"""Reviewer pages: my merit review assignments, and one of them: the application, the
rubric's score form, my submitted scores and then the others' (numbered, never named)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors, status
from grants.core.http.labels import modality_labels, stage_labels, theme_labels
from grants.core.permissions import Action
from grants.merit_review.rules import shown
from grants.merit_review.scores import service as scores
from grants.merit_review.scores.forms import (
    DeclarationForm,
    ScoresForm,
    entries,
    renames,
    scores_form,
)
from grants.merit_review.scores.queries import AssignmentView, assignment_view, my_assignments

bp = Blueprint("merit_scores", __name__, url_prefix="/reviewer/merit")


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


@bp.get("")
@requires(Action.declare_conflict)
def index() -> str:
    return render_template(
        "merit_review/scores/index.html",
        assignments=my_assignments(actor()),
        today=_today(),
    )


@bp.route("/<int:assignment_id>", methods=["GET", "POST"])
@requires(Action.declare_conflict)
def show(assignment_id: int) -> tuple[str, int] | Response:
    view = assignment_view(actor(), assignment_id)
    form = _form(view, post=True)
    if form is not None and view.stage is not None and form.validate_on_submit():
        try:
            scores.submit_scores(actor(), assignment_id, entries(form, view.stage))
        except RuleViolation as error:
            apply_errors(form, error, renames(view.stage))
        else:
            flash(_("Your scores were submitted."), "success")
            return redirect(url_for("merit_scores.show", assignment_id=assignment_id))
    return _page(view, form, DeclarationForm(formdata=None))


@bp.post("/<int:assignment_id>/conflict")
@requires(Action.declare_conflict)
def declare(assignment_id: int) -> tuple[str, int] | Response:
    view = assignment_view(actor(), assignment_id)
    declaration = DeclarationForm()
    if declaration.validate_on_submit():
        try:
            scores.declare_conflict(actor(), view.application.id, declaration.note.data or "")
        except RuleViolation as error:
            apply_errors(declaration, error)
        else:
            flash(
                _("Your conflict was declared: an officer will assign another reviewer."), "success"
            )
            return redirect(url_for("merit_scores.show", assignment_id=assignment_id))
    return _page(view, _form(view, post=False), declaration)


def _form(view: AssignmentView, post: bool) -> ScoresForm | None:
    if view.stage is None or not view.may_score:
        return None
    if post:
        return scores_form(view.stage, current_locale())
    return scores_form(view.stage, current_locale(), formdata=None)


def _page(
    view: AssignmentView, form: ScoresForm | None, declaration: DeclarationForm
) -> tuple[str, int]:
    page = render_template(
        "merit_review/scores/show.html",
        view=view,
        application=view.application,
        form=form,
        declaration=declaration,
        shown=shown,
        theme_labels=theme_labels(),
        modality_labels=modality_labels(),
        stage_labels=stage_labels(),
        today=_today(),
    )
    failed = (form is not None and status(form) == 422) or status(declaration) == 422
    return page, 422 if failed else 200
