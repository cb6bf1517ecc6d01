"""Officer pages: a grant's VC paid-in investments, recorded by one officer, verified by another."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from grants.awards.models import Grant, Investment
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import DayField, Form, YenField, apply_errors
from grants.core.permissions import Action
from grants.extensions import db
from grants.investments import service as investments
from grants.investments.queries import co_investors, investments_view

bp = Blueprint("investments", __name__, url_prefix="/officer")


class InvestmentForm(Form):
    vc_organization_id = SelectField(_l("Investing VC"), coerce=int, validate_choice=False)
    amount = YenField(_l("Amount paid in (yen)"), validators=[InputRequired()])
    paid_on = DayField(_l("Paid on"), validators=[InputRequired()])
    evidence = StringField(
        _l("Evidence"),
        validators=[InputRequired(), Length(max=investments.EVIDENCE_MAX)],
        description=_l("A reference to the payment, e.g. the bank transfer number."),
    )

    def __init__(self, grant: Grant, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ja")
        self.vc_organization_id.choices = [
            SelectChoice(vc.id, vc.display_name(locale)) for vc in co_investors(grant)
        ]


class VerifyForm(Form):
    """Only the CSRF token."""


@bp.route("/grants/<int:grant_id>/investments", methods=["GET", "POST"])
@requires(Action.record_investment)
def index(grant_id: int) -> tuple[str, int] | Response:
    grant = db.get_or_404(Grant, grant_id)
    form = InvestmentForm(grant)
    if form.validate_on_submit():
        try:
            investments.record_investment(
                actor(),
                grant_id,
                form.vc_organization_id.data,
                form.amount.amount or 0,
                form.paid_on.data,
                form.evidence.data or "",
                today=_today(),
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The investment was recorded. Another officer must verify it."), "success")
            return redirect(url_for("investments.index", grant_id=grant_id))
    return _page(db.get_or_404(Grant, grant_id), form)


@bp.post("/investments/<int:investment_id>/verify")
@requires(Action.verify_investment)
def verify(investment_id: int) -> Response:
    investment = db.get_or_404(Investment, investment_id)
    grant_id = investment.grant_id
    if VerifyForm().validate_on_submit():
        investments.verify_investment(actor(), investment_id, _today())
        flash(_("The investment was verified and now counts as paid in."), "success")
    return redirect(url_for("investments.index", grant_id=grant_id))


def _page(grant: Grant, form: InvestmentForm) -> tuple[str, int]:
    view = investments_view(actor(), grant)
    page = render_template(
        "investments/index.html", view=view, grant=grant, form=form, verify_form=VerifyForm()
    )
    return page, 422 if form.form_errors or any(f.errors for f in form) else 200


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
