"""Officer page: CSV exports for accounting (disbursements, milestone status), streamed,
or prepared in the background (a task whose page offers the file when it is ready)."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.downloads import Build, csv_response
from grants.core.http.filters import current_locale
from grants.core.http.forms import Form, WholeNumberField, apply_errors
from grants.core.permissions import Action
from grants.portfolio.exports import service as exports
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN, all_programmes
from grants.tasks import service as background
from grants.tasks.rules import TaskKind

bp = Blueprint("exports", __name__, url_prefix="/officer/exports")


class ExportFilterForm(Form):
    """Filters read from the query string (a GET form: nothing is changed, no CSRF token)."""

    class Meta:
        csrf = False

    program_id = SelectField(_l("Programme"), default="")
    fiscal_year = WholeNumberField(
        _l("Fiscal year"),
        validators=[Optional()],
        minimum=FISCAL_YEAR_MIN,
        maximum=FISCAL_YEAR_MAX,
        description=_l("For example 2026 for April 2026 to March 2027. Empty: every year."),
    )

    def filters(self) -> exports.Filters:
        program = self.program_id.data
        return exports.Filters(int(program) if program else None, self.fiscal_year.data)


F = TypeVar("F", bound=ExportFilterForm)


class TaskForm(ExportFilterForm):
    """The same filters, posted to prepare a file in the background (the app checks the
    CSRF token of every POST; the page sends it)."""


@bp.get("")
@requires(Action.view_portfolio)
def index() -> str:
    return _page(_form())


@bp.get("/disbursements.csv")
@requires(Action.view_portfolio)
def disbursements() -> Response | tuple[str, int]:
    return _download(exports.disbursements)


@bp.get("/milestones.csv")
@requires(Action.view_portfolio)
def milestones() -> Response | tuple[str, int]:
    return _download(exports.milestone_status)


@bp.post("/disbursements/tasks")
@requires(Action.view_portfolio)
def disbursements_task() -> Response | tuple[str, int]:
    return _start(TaskKind.export_disbursements)


@bp.post("/milestones/tasks")
@requires(Action.view_portfolio)
def milestones_task() -> Response | tuple[str, int]:
    return _start(TaskKind.export_milestones)


def _download(build: Build) -> Response | tuple[str, int]:
    form = _form()
    if not form.validate():
        return _page(form), 422
    try:
        export = build(actor(), form.filters())
    except RuleViolation as error:
        apply_errors(form, error)
        return _page(form), 422
    return csv_response(export)


def _start(kind: TaskKind) -> Response | tuple[str, int]:
    form = _with_programmes(TaskForm(prefix="task"))
    if not form.validate_on_submit():
        return _page(_form(), form), 422
    try:
        task = background.start_export(actor(), kind, form.filters(), current_locale())
    except RuleViolation as error:
        apply_errors(form, error)
        return _page(_form(), form), 422
    return redirect(url_for("tasks.show", task_id=task.id))


def _page(form: ExportFilterForm, task_form: TaskForm | None = None) -> str:
    if task_form is None:
        task_form = _with_programmes(TaskForm(prefix="task", formdata=None))
    return render_template("portfolio/exports/index.html", form=form, task_form=task_form)


def _form() -> ExportFilterForm:
    return _with_programmes(ExportFilterForm(formdata=request.args))


def _with_programmes(form: F) -> F:
    locale = str(get_locale() or "ja")
    programs = all_programmes()
    form.program_id.choices = [("", str(_l("All programmes")))] + [
        (str(p.id), f"{p.code} · {p.name(locale)}") for p in programs
    ]
    return form
