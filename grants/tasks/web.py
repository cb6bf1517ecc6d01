"""Background tasks: the owner's list, a task's progress page, its JSON status, its file.

The progress page polls status.json with static/js/task-status.js and reloads itself when
the task has finished; without JavaScript its Refresh link does the same. Reading never
writes: a task whose worker stopped is recognised from its stale heartbeat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.core.calendar import fiscal_year_label, tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.downloads import file_response
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors
from grants.core.http.listing import report_context
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.portfolio.exports.forms import ExportFilterForm, TaskForm, with_programmes
from grants.rules.whatif import CHANGE_LABELS
from grants.tasks import service as background
from grants.tasks.models import BackgroundTask
from grants.tasks.queries import ruleset_of, task_actions
from grants.tasks.rules import Status, TaskKind, TaskState
from grants.whatif.service import WhatIfResult

bp = Blueprint("tasks", __name__)


@bp.get("/tasks")
@requires(Action.view_portfolio)
def index() -> str:
    now = utcnow()
    tasks = background.tasks_of(actor())
    rows = [(task, status(task, _where(task, now))) for task in tasks]
    return render_template("tasks/index.html", rows=rows, titles=titles(tasks))


@bp.get("/tasks/<int:task_id>")
@requires(Action.view_portfolio)
def show(task_id: int) -> str:
    task = background.get(actor(), task_id)
    context: dict[str, Any] = {}
    if task.state is TaskState.done and task.kind is TaskKind.what_if and task.result:
        result = WhatIfResult.from_dict(task.result)
        context = report_context(result) | {"change_labels": CHANGE_LABELS}
    where = _where(task, utcnow())
    return render_template(
        "tasks/show.html",
        task=task,
        title=titles([task])[task.id],
        status=status(task, where),
        ruleset=ruleset_of(task),
        may=task_actions(task, where),
        **context,
    )


@bp.get("/tasks/<int:task_id>/status.json")
@requires(Action.view_portfolio)
def status_json(task_id: int) -> Response:
    task = background.get(actor(), task_id)
    response = jsonify(status(task, _where(task, utcnow())))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/tasks/<int:task_id>/download")
@requires(Action.view_portfolio)
def download(task_id: int) -> Response:
    return file_response(*background.result_file(actor(), task_id, _settings()))


@bp.post("/tasks/<int:task_id>/rerun")
@requires(Action.view_portfolio)
def rerun(task_id: int) -> Response:
    today = tokyo_today(datetime.now(UTC))
    task = background.rerun(actor(), task_id, today, current_locale(), _settings())
    return redirect(url_for(".show", task_id=task.id))


@bp.post("/officer/rulesets/<int:ruleset_id>/what-if/tasks")
@requires(Action.run_what_if)
def start_what_if(ruleset_id: int) -> Response:
    today = tokyo_today(datetime.now(UTC))
    task = background.start_what_if(actor(), ruleset_id, today, current_locale(), _settings())
    return redirect(url_for(".show", task_id=task.id))


@bp.post("/officer/exports/disbursements/tasks")
@requires(Action.view_portfolio)
def export_disbursements() -> Response | tuple[str, int]:
    return _start_export(TaskKind.export_disbursements)


@bp.post("/officer/exports/milestones/tasks")
@requires(Action.view_portfolio)
def export_milestones() -> Response | tuple[str, int]:
    return _start_export(TaskKind.export_milestones)


@bp.post("/officer/exports/grants/tasks")
@requires(Action.view_portfolio)
def export_grants() -> Response | tuple[str, int]:
    return _start_export(TaskKind.export_grants)


def _start_export(kind: TaskKind) -> Response | tuple[str, int]:
    """The export page's second form: on a refusal the page comes back with its messages."""
    form = with_programmes(TaskForm(prefix="task"))
    if form.validate_on_submit():
        try:
            filters = form.filters()
            task = background.start_export(actor(), kind, filters, current_locale(), _settings())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            return redirect(url_for(".show", task_id=task.id))
    filters = with_programmes(ExportFilterForm(formdata=None))
    page = render_template("portfolio/exports/index.html", form=filters, task_form=form)
    return page, 422


def _where(task: BackgroundTask, now: datetime) -> Status:
    return background.progress(task, now, _settings())


def status(task: BackgroundTask, where: Status) -> dict[str, Any]:
    """Where a task is, for its page and status.json: the numbers, and the same as text."""
    state = "interrupted" if where.interrupted else str(where.state)
    if where.total or where.finished:
        text = _(
            "%(done)s of %(total)s (%(percent)d%%)",
            done=format_decimal(where.done),
            total=format_decimal(where.total),
            percent=where.percent,
        )
    else:
        text = _("Not started yet")
    return {
        "id": task.id,
        "state": state,
        "label": state_labels()[state],
        "finished": where.finished,
        "interrupted": where.interrupted,
        "restarted": where.restarted,
        "done": where.done,
        "total": where.total,
        "percent": where.percent,
        "value": where.total if where.state is TaskState.done else where.done,
        "max": max(where.total, 1),
        "text": text,
    }


def _settings() -> background.TaskSettings:
    return background.TaskSettings.of(current_app.config, current_app.instance_path)


def state_labels() -> dict[str, str]:
    return {
        TaskState.queued: _("Waiting to start"),
        TaskState.running: _("Running"),
        TaskState.done: _("Done"),
        TaskState.failed: _("Failed"),
        "interrupted": _("Waiting to restart"),
    }


def titles(tasks: list[BackgroundTask]) -> dict[int, str]:
    """Each task's title: what it does, and for which programme."""
    kinds = {
        TaskKind.what_if: _("What-if of a draft rule set"),
        TaskKind.export_disbursements: _("Disbursements (CSV)"),
        TaskKind.export_milestones: _("Milestone status (CSV)"),
        TaskKind.export_grants: _("Grants and their money (CSV)"),
    }
    programs = background.programmes_of(tasks)
    found = {}
    for task in tasks:
        parts = [kinds[task.kind]]
        program = programs.get(task.params.get("program_id"))
        if program is not None:
            parts.append(program.code)
        if task.params.get("fiscal_year"):
            parts.append(fiscal_year_label(task.params["fiscal_year"], current_locale()))
        found[task.id] = " · ".join(parts)
    return found
