"""Officer page: CSV exports for accounting (disbursements, milestone status), streamed.

The same page prepares them in the background: its second form posts to the tasks
feature, whose task page offers the file when it is ready."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.downloads import csv_response
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors
from grants.core.permissions import Action
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.forms import ExportFilterForm, TaskForm, with_programmes
from grants.portfolio.exports.service import Build

bp = Blueprint("exports", __name__, url_prefix="/officer/exports")


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


@bp.get("/grants.csv")
@requires(Action.view_portfolio)
def grants() -> Response | tuple[str, int]:
    return _download(exports.grant_money)


def _download(build: Build) -> Response | tuple[str, int]:
    form = _form()
    if not form.validate():
        return _page(form), 422
    try:
        export = build(actor(), form.filters(), current_locale())
    except RuleViolation as error:
        apply_errors(form, error)
        return _page(form), 422
    return csv_response(export)


def _page(form: ExportFilterForm, task_form: TaskForm | None = None) -> str:
    if task_form is None:
        task_form = with_programmes(TaskForm(prefix="task", formdata=None))
    return render_template("portfolio/exports/index.html", form=form, task_form=task_form)


def _form() -> ExportFilterForm:
    return with_programmes(ExportFilterForm(formdata=request.args))
