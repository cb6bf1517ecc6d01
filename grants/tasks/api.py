"""Background tasks: a large what-if or an export file, started now and fetched when ready.

Starting answers 202 with the task at once; GET /tasks/<id> tells how far it is, and
/tasks/<id>/result gives the what-if report (JSON) or the CSV file once it is done. A
task is its owner's only: anyone else's id answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask_babel import get_locale
from marshmallow import Schema, fields

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.downloads import file_response
from grants.core.http.schemas import ErrorSchema, today
from grants.core.models import utcnow
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.schemas import CSV_BODY, CSV_NOTE, ExportArgs
from grants.tasks import service as background
from grants.tasks.models import BackgroundTask
from grants.tasks.rules import TaskKind, TaskState
from grants.whatif.schemas import WhatIfSchema

blp = ApiBlueprint(
    "api_tasks",
    __name__,
    url_prefix="/api/v1",
    description="Background tasks: large what-ifs and export files, prepared while you wait.",
)

EXPORT_KINDS = {
    "disbursements": TaskKind.export_disbursements,
    "milestones": TaskKind.export_milestones,
    "grants": TaskKind.export_grants,
}


class TaskLinksSchema(Schema):
    self = fields.String(required=True, metadata={"description": "This task (poll it)."})
    result = fields.String(required=True, metadata={"description": "Its result, once done."})
    page = fields.String(required=True, metadata={"description": "Its page on the web."})


class TaskSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": [str(kind) for kind in TaskKind]})
    state = fields.String(required=True, metadata={"enum": [str(state) for state in TaskState]})
    interrupted = fields.Boolean(
        required=True,
        metadata={
            "description": "Running, but its worker stopped: another worker starts it again."
        },
    )
    restarted = fields.Boolean(
        required=True,
        metadata={"description": "Started again after a worker stopped running it."},
    )
    done = fields.Integer(required=True, metadata={"description": "Items done so far."})
    total = fields.Integer(required=True, metadata={"description": "Items in all (0: unknown)."})
    percent = fields.Integer(required=True)
    error = fields.String(allow_none=True, metadata={"description": "Why it failed."})
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    links = fields.Nested(TaskLinksSchema, required=True)


@blp.post("/exports/<any(disbursements, milestones, grants):name>/tasks")
@blp.arguments(ExportArgs, required=False)
@blp.response(202, TaskSchema, description="Queued; poll links.self until it is done.")
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer or administrator.")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid filter (unknown programme).")
def start_export(args: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Prepare an export file in the background (the same file as the direct download)."""
    actor = api_actor()
    filters = exports.Filters(args.get("program_id"), args.get("fiscal_year"))
    task = background.start_export(actor, EXPORT_KINDS[name], filters, _locale(), _settings())
    return _accepted(task)


@blp.post("/rulesets/<int:ruleset_id>/what-if/tasks")
@blp.response(202, TaskSchema, description="Queued; poll links.self until it is done.")
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer.")
@blp.alt_response(404, schema=ErrorSchema, description="No such rule set.")
def start_what_if(ruleset_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Run the what-if of a rule set in the background (for large programmes)."""
    actor = api_actor()
    task = background.start_what_if(actor, ruleset_id, today(), _locale(), _settings())
    return _accepted(task)


@blp.get("/tasks/<int:task_id>")
@blp.response(200, TaskSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such task, or not mine.")
def get_task(task_id: int) -> dict[str, Any]:
    """How far a task is."""
    return _dump(background.get(api_actor(), task_id))


@blp.get("/tasks/<int:task_id>/result")
@blp.response(200, WhatIfSchema, description=f"The what-if report, or the CSV file. {CSV_NOTE}")
@blp.doc(responses={200: {"content": {"text/csv": {"schema": CSV_BODY}}}})
@blp.alt_response(404, schema=ErrorSchema, description="No such task, or not mine.")
@blp.alt_response(409, schema=ErrorSchema, description="Not done (yet, or it failed).")
def get_result(task_id: int) -> dict[str, Any] | Response:
    """A done task's result: JSON for a what-if, the file for an export."""
    actor = api_actor()
    task = background.get(actor, task_id)
    if task.kind is TaskKind.what_if:
        return background.what_if_result(actor, task_id)[1].to_dict()
    path, name = background.result_file(actor, task_id, _settings())
    return file_response(path, name)


def _locale() -> str:
    """The language of this request (Accept-Language, else the token owner's): the
    task's file header and failure are in it, as a direct answer would be."""
    return str(get_locale() or "ja")


def _settings() -> background.TaskSettings:
    return background.TaskSettings.of(current_app.config, current_app.instance_path)


def _accepted(task: BackgroundTask) -> tuple[dict[str, Any], dict[str, str]]:
    body = _dump(task)
    return body, {"Location": body["links"]["self"]}


def _dump(task: BackgroundTask) -> dict[str, Any]:
    where = background.progress(task, utcnow(), _settings())
    return {
        "id": task.id,
        "kind": str(task.kind),
        "state": str(where.state),
        "interrupted": where.interrupted,
        "restarted": where.restarted,
        "done": where.done,
        "total": where.total,
        "percent": where.percent,
        "error": task.error,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "updated_at": task.updated_at,
        "finished_at": task.finished_at,
        "links": {
            "self": url_for("api_tasks.get_task", task_id=task.id),
            "result": url_for("api_tasks.get_result", task_id=task.id),
            "page": url_for("tasks.show", task_id=task.id),
        },
    }
