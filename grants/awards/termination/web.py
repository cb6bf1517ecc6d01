"""Officer page: terminate a grant, after seeing which tranches go back to the pools."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from grants.awards.models import Grant
from grants.awards.termination import service as terminations
from grants.awards.termination.queries import termination_view
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, apply_errors
from grants.core.permissions import Action
from grants.extensions import db

bp = Blueprint("termination", __name__, url_prefix="/officer/grants")


class TerminationForm(Form):
    reason = TextAreaField(
        _l("Reason for termination"),
        validators=[InputRequired(), Length(max=terminations.REASON_MAX)],
        description=_l("Recorded on the grant and in the audit log, e.g. the no-go decision."),
    )


@bp.route("/<int:grant_id>/terminate", methods=["GET", "POST"])
@requires(Action.terminate_grant)
def terminate(grant_id: int) -> tuple[str, int] | Response:
    db.get_or_404(Grant, grant_id)
    form = TerminationForm()
    if form.validate_on_submit():
        try:
            terminations.terminate(actor(), grant_id, form.reason.data or "", _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The grant was terminated. Its remaining tranches were cancelled."), "success")
            return redirect(url_for("grant_page.show", grant_id=grant_id))
    view = termination_view(actor(), db.get_or_404(Grant, grant_id))
    page = render_template(
        "awards/termination/terminate.html", view=view, grant=view.grant, form=form
    )
    return page, 422 if form.form_errors or any(f.errors for f in form) else 200


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
