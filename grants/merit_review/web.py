"""Officer page: a programme's merit review settings. Also the template helpers every merit
review page uses (stage and setting names in the page's language, rounded scores)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors, status
from grants.core.permissions import Action
from grants.extensions import db
from grants.merit_review import service as merit
from grants.merit_review.forms import SettingsForm, settings_data
from grants.merit_review.rules import Aggregation, Normalisation, StageName, label, shown
from grants.programs.models import Program

bp = Blueprint("merit_review", __name__, url_prefix="/officer/programs")


@bp.app_template_global()
def stage_name(stage: str) -> str:
    return label(StageName(stage), current_locale())


@bp.app_template_global()
def setting_name(value: str) -> str:
    member = Aggregation(value) if value in set(Aggregation) else Normalisation(value)
    return label(member, current_locale())


bp.add_app_template_filter(shown, "score")


@bp.route("/<int:program_id>/merit/settings", methods=["GET", "POST"])
@requires(Action.manage_programs)
def settings(program_id: int) -> tuple[str, int] | Response:
    program = db.get_or_404(Program, program_id)
    if request.method == "GET":
        form = SettingsForm(data=settings_data(program), locale=current_locale())
    else:
        form = SettingsForm(locale=current_locale())
    if form.validate_on_submit():
        try:
            merit.set_settings(actor(), program.id, form.to_data())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The merit review settings were saved."), "success")
            return redirect(url_for("merit_panels.programme", program_id=program.id))
    page = render_template("merit_review/settings.html", program=program, form=form)
    return page, status(form)
