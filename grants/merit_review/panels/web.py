"""Officer pages: a programme's merit review (its panels, filling them, the hearing's
shortlist) and one application's panel (assigning and removing reviewers, their scores)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors, status
from grants.core.http.i18n import localise
from grants.core.http.labels import modality_labels, stage_labels, theme_labels
from grants.core.http.listing import page_number
from grants.core.permissions import Action
from grants.merit_review.panels import service as panels
from grants.merit_review.panels.forms import AssignForm, FillForm, UnassignForm
from grants.merit_review.panels.queries import (
    PanelView,
    assignment_application,
    panel_view,
    programme_panels,
)

bp = Blueprint("merit_panels", __name__, url_prefix="/officer")


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


@bp.get("/programs/<int:program_id>/merit")
@requires(Action.assign_reviewers)
def programme(program_id: int) -> str:
    return _programme(program_id, None)


def _programme(program_id: int, form: FillForm | None) -> str:
    view = programme_panels(actor(), program_id, _today(), page_number())
    hearing = view.rubric is not None and view.rubric.hearing is not None
    if form is None:
        form = FillForm(formdata=None, locale=current_locale(), hearing=hearing)
    return render_template("merit_review/panels/programme.html", view=view, form=form)


@bp.post("/programs/<int:program_id>/merit/fill")
@requires(Action.assign_reviewers)
def fill(program_id: int) -> tuple[str, int] | Response:
    form = FillForm(locale=current_locale(), hearing=True)
    if form.validate_on_submit():
        try:
            report = panels.fill_panels(
                actor(), program_id, form.stage.data or "", _today(), form.due_on.data
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_fill_message(len(report.assigned), len(report.short)), "success")
            return redirect(url_for("merit_panels.programme", program_id=program_id))
    return _programme(program_id, form), status(form)


def _fill_message(assigned: int, short: int) -> str:
    made = ngettext("%(num)d reviewer was assigned.", "%(num)d reviewers were assigned.", assigned)
    if not short:
        return made
    left = ngettext(
        "%(num)d panel stays short: too few reviewers without a conflict of interest.",
        "%(num)d panels stay short: too few reviewers without a conflict of interest.",
        short,
    )
    return f"{made} {left}"


@bp.post("/programs/<int:program_id>/merit/shortlist")
@requires(Action.assign_reviewers)
def shortlist(program_id: int) -> Response:
    made = panels.shortlist(actor(), program_id, _today())
    flash(
        ngettext(
            "%(num)d application was shortlisted for the hearing.",
            "%(num)d applications were shortlisted for the hearing.",
            len(made),
        ),
        "success",
    )
    return redirect(url_for("merit_panels.programme", program_id=program_id))


@bp.get("/merit/applications/<int:application_id>")
@requires(Action.assign_reviewers)
def application(application_id: int) -> str:
    return _application(application_id, AssignForm(formdata=None))[0]


@bp.post("/merit/applications/<int:application_id>/assign")
@requires(Action.assign_reviewers)
def assign(application_id: int) -> tuple[str, int] | Response:
    form = AssignForm()
    if form.validate_on_submit():
        assert form.reviewer_id.data is not None  # IdField: required
        try:
            panels.assign(
                actor(),
                application_id,
                form.reviewer_id.data,
                form.stage.data or "",
                _today(),
                form.due_on.data,
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The reviewer was assigned."), "success")
            return redirect(url_for("merit_panels.application", application_id=application_id))
    return _application(application_id, form)


@bp.post("/merit/applications/<int:application_id>/unassign")
@requires(Action.assign_reviewers)
def unassign(application_id: int) -> tuple[str, int] | Response:
    form = UnassignForm()
    if form.validate_on_submit():
        assert form.assignment_id.data is not None
        panels.unassign(actor(), form.assignment_id.data)
        flash(_("The reviewer was taken off the panel."), "success")
        return redirect(url_for("merit_panels.application", application_id=application_id))
    return _application(application_id, AssignForm(formdata=None), form.errors)


@bp.get("/merit/assignments/<int:assignment_id>")
@requires(Action.assign_reviewers)
def assignment(assignment_id: int) -> Response:
    """An assignment's application panel (where an officer's alert leads)."""
    application_id = assignment_application(actor(), assignment_id)
    return redirect(url_for("merit_panels.application", application_id=application_id))


def _application(
    application_id: int, form: AssignForm, other_errors: object = None
) -> tuple[str, int]:
    view: PanelView = panel_view(actor(), application_id, _today())
    errors = list(form.form_errors) + [m for f in form for m in f.errors]
    if other_errors:
        errors.append(_("Choose a reviewer from the list."))
    page = render_template(
        "merit_review/panels/application.html",
        view=view,
        application=view.application,
        form=form,
        errors=[localise(e) for e in errors],
        theme_labels=theme_labels(),
        modality_labels=modality_labels(),
        stage_labels=stage_labels(),
        today=_today(),
    )
    return page, 422 if errors else 200
