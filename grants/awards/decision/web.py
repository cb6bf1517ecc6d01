"""Officer page: a screened application's detail and the decision on it (award or rejection)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.applications.forms import error_lines
from grants.applications.models import Application
from grants.awards import service as awards
from grants.awards.decision.forms import RejectForm
from grants.awards.decision.queries import decision_view
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import yen
from grants.core.http.forms import apply_errors, status
from grants.core.http.i18n import localise
from grants.core.http.labels import modality_labels, stage_labels, theme_labels
from grants.core.permissions import Action
from grants.extensions import db

bp = Blueprint("awards", __name__, url_prefix="/officer/screening")


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


@bp.get("/<int:application_id>")
@requires(Action.screen_application)
def show(application_id: int) -> tuple[str, int]:
    return _show(application_id, RejectForm(formdata=None))


def _show(
    application_id: int, reject_form: RejectForm, error: RuleViolation | None = None
) -> tuple[str, int]:
    view = decision_view(actor(), application_id, _today())
    # the award's refusal, said in the officer's language
    shown = RuleViolation(localise(error.message), localise(error.fields)) if error else None
    page = render_template(
        "awards/decision/show.html",
        view=view,
        application=view.application,
        reject_form=reject_form,
        error=shown,
        error_lines=error_lines(shown) if shown else [],
        theme_labels=theme_labels(),
        modality_labels=modality_labels(),
        stage_labels=stage_labels(),
    )
    return page, 422 if error else status(reject_form)


@bp.post("/<int:application_id>/award")
@requires(Action.award_application)
def award(application_id: int) -> tuple[str, int] | Response:
    try:
        grant = awards.award(actor(), application_id, _today())
    except RuleViolation as error:
        return _show(application_id, RejectForm(formdata=None), error)
    flash(
        _(
            "Grant %(number)s was awarded: %(amount)s.",
            number=grant.number,
            amount=yen(grant.award_amount),
        ),
        "success",
    )
    return redirect(url_for("screening.queue"))


@bp.post("/<int:application_id>/reject")
@requires(Action.reject_application)
def reject(application_id: int) -> tuple[str, int] | Response:
    db.get_or_404(Application, application_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            awards.reject(actor(), application_id, form.reason.data or "", _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The application was rejected."), "success")
            return redirect(url_for("screening.queue"))
    return _show(application_id, form)
