"""Officer page: CSV exports for accounting (disbursements, milestone status), streamed."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from grants.domain.errors import RuleViolation
from grants.domain.permissions import Action
from grants.downloads import Build, csv_response
from grants.extensions import db
from grants.models import Program
from grants.services import exports
from grants.services.programs import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from grants.web.access import actor, requires
from grants.web.forms import apply_errors

bp = Blueprint("exports", __name__, url_prefix="/officer/exports")


class ExportFilterForm(FlaskForm):
    """Filters read from the query string (a GET form: nothing is changed, no CSRF token)."""

    class Meta:
        csrf = False

    program_id = SelectField(_l("Programme"), default="")
    fiscal_year = IntegerField(
        _l("Fiscal year"),
        validators=[Optional(), NumberRange(min=FISCAL_YEAR_MIN, max=FISCAL_YEAR_MAX)],
        description=_l("For example 2026 for April 2026 to March 2027. Empty: every year."),
    )

    def filters(self) -> exports.Filters:
        program = self.program_id.data
        return exports.Filters(int(program) if program else None, self.fiscal_year.data)


@bp.get("")
@requires(Action.view_portfolio)
def index() -> str:
    return render_template("exports/index.html", form=_form())


@bp.get("/disbursements.csv")
@requires(Action.view_portfolio)
def disbursements() -> Response | tuple[str, int]:
    return _download(exports.disbursements)


@bp.get("/milestones.csv")
@requires(Action.view_portfolio)
def milestones() -> Response | tuple[str, int]:
    return _download(exports.milestone_status)


def _download(build: Build) -> Response | tuple[str, int]:
    form = _form()
    if not form.validate():
        return render_template("exports/index.html", form=form), 422
    try:
        export = build(actor(), form.filters())
    except RuleViolation as error:
        apply_errors(form, error)
        return render_template("exports/index.html", form=form), 422
    return csv_response(export)


def _form() -> ExportFilterForm:
    form = ExportFilterForm(formdata=request.args)
    locale = str(get_locale() or "ja")
    programs = db.session.scalars(select(Program).order_by(Program.code))
    form.program_id.choices = [("", str(_l("All programmes")))] + [
        (str(p.id), f"{p.code} · {p.name(locale)}") for p in programs
    ]
    return form
