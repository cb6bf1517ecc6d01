"""Background tasks: a large what-if or an export file, prepared while the officer waits.

Starting one is a use case (permission, audit event, one transaction); once it has
committed, the runner calls run(). run() does the work in a read transaction of its own,
records progress beside it in short commits (at most every PROGRESS_SECONDS), and ends
the task done or failed whatever happens. A task and its file belong to its owner only:
anyone else gets NotFound, so ids cannot be probed. Progress, completion and the purge
are the task's own bookkeeping, not audited use cases.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from grants.accounts.models import User
from grants.core import audit
from grants.core.db import ID_MAX, begin_reading, use_case
from grants.core.errors import Conflict, DomainError, NotAllowed, NotFound
from grants.core.i18n import translate
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.extensions import db
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.service import Filters
from grants.programs.models import Program
from grants.rulesets import service as rulesets
from grants.tasks import runner
from grants.tasks.models import ERROR_MAX, BackgroundTask
from grants.tasks.queries import rerun_refusal
from grants.tasks.rules import EXPORTS, Status, TaskKind, TaskState, status
from grants.whatif import service as whatif

log = logging.getLogger("grants.tasks")

# Seconds between two progress writes of one task: a heartbeat, not a write per row.
PROGRESS_SECONDS = 0.5
LIST_LIMIT = 50
_BUILDS = {
    TaskKind.export_disbursements: exports.disbursements,
    TaskKind.export_milestones: exports.milestone_status,
    TaskKind.export_grants: exports.grant_money,
}
_ACTIONS = {
    TaskKind.what_if: Action.run_what_if,
    TaskKind.export_disbursements: Action.view_portfolio,
    TaskKind.export_milestones: Action.view_portfolio,
    TaskKind.export_grants: Action.view_portfolio,
}


@dataclass(frozen=True)
class TaskSettings:
    """The installation's settings of background tasks."""

    result_folder: Path  # where export files are kept
    stale_after: timedelta  # an unfinished task silent this long was interrupted
    kept_for: timedelta  # tasks and their files are purged this long after they were asked

    @classmethod
    def of(cls, settings: Mapping[str, Any], instance_path: str) -> TaskSettings:
        """From TASK_RESULT_FOLDER (by default the instance's task-results folder),
        TASK_STALE_MINUTES and TASK_RESULT_DAYS."""
        folder = settings.get("TASK_RESULT_FOLDER") or Path(instance_path) / "task-results"
        return cls(
            Path(folder).resolve(),
            timedelta(minutes=settings["TASK_STALE_MINUTES"]),
            timedelta(days=settings["TASK_RESULT_DAYS"]),
        )


@use_case
def start_what_if(
    actor: User, ruleset_id: int, today: date, locale: str, settings: TaskSettings
) -> BackgroundTask:
    """Queue the what-if of a rule set as of `today`; a failure is told in `locale`."""
    require(Action.run_what_if, Subject(role=actor.role))
    ruleset = rulesets.get(ruleset_id)
    params = {
        "ruleset_id": ruleset.id,
        "program_id": ruleset.program_id,
        "today": today.isoformat(),
        "locale": locale,
    }
    return _start(actor, TaskKind.what_if, params, settings)


@use_case
def start_export(
    actor: User, kind: TaskKind, filters: Filters, locale: str, settings: TaskSettings
) -> BackgroundTask:
    """Queue an export file; its header row in `locale`. RuleViolation for bad filters."""
    if kind not in EXPORTS:
        raise ValueError(f"{kind} is not an export")
    exports.check(actor, filters)
    params = {
        "program_id": filters.program_id,
        "fiscal_year": filters.fiscal_year,
        "locale": locale,
    }
    return _start(actor, kind, params, settings)


def rerun(
    actor: User, task_id: int, today: date, locale: str, settings: TaskSettings
) -> BackgroundTask:
    """The same work as a finished or interrupted task, queued anew (checked anew)."""
    task = get(actor, task_id)
    if refusal := rerun_refusal(task, progress(task, utcnow(), settings)):
        raise Conflict(refusal)
    params = task.params
    if task.kind is TaskKind.what_if:
        return start_what_if(actor, params["ruleset_id"], today, locale, settings)
    filters = Filters(params.get("program_id"), params.get("fiscal_year"))
    return start_export(actor, task.kind, filters, locale, settings)


def _start(
    actor: User, kind: TaskKind, params: dict[str, Any], settings: TaskSettings
) -> BackgroundTask:
    now = utcnow()
    task = BackgroundTask(
        kind=kind,
        owner_id=actor.id,
        params=params,
        state=TaskState.queued,
        created_at=now,
        updated_at=now,
    )
    db.session.add(task)
    audit.record(actor, "background_task.start", task, after={"kind": str(kind), **params})
    task_id = task.id  # read before the commit, which expires it: no new transaction here
    db.session.commit()
    runner.submit(partial(run, settings=settings), task_id)
    return task


def get(actor: User, task_id: int) -> BackgroundTask:
    """The actor's own task; NotFound for anyone else's."""
    task = db.session.get(BackgroundTask, task_id) if 0 < task_id <= ID_MAX else None
    if task is None or task.owner_id != actor.id:
        raise NotFound(N_("Not found."))
    require(_ACTIONS[task.kind], Subject(role=actor.role))
    return task


def tasks_of(actor: User, limit: int = LIST_LIMIT) -> list[BackgroundTask]:
    query = (
        select(BackgroundTask)
        .where(BackgroundTask.owner_id == actor.id)
        .order_by(BackgroundTask.created_at.desc(), BackgroundTask.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def programmes_of(tasks: list[BackgroundTask]) -> dict[int, Program]:
    """The programmes the tasks work on, by id, in one query."""
    ids = {task.params.get("program_id") for task in tasks} - {None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Program).where(Program.id.in_(ids)))}


def progress(
    task: BackgroundTask,
    now: datetime,
    settings: TaskSettings,
    workers_seen_at: datetime | None = None,
) -> Status:
    """How far the task is; interrupted when unfinished without progress for
    `settings.stale_after` (the process running it stopped; a queued task also needs every
    worker to have gone quiet). Reading it writes nothing. `workers_seen_at` as from
    workers_seen(), read once for a list; read here when not given."""
    if task.state is TaskState.queued and workers_seen_at is None:
        workers_seen_at = workers_seen()
    stale = settings.stale_after
    return status(task.state, task.done, task.total, task.updated_at, now, stale, workers_seen_at)


def workers_seen() -> datetime | None:
    """The latest progress any running task recorded: the workers' last sign of life."""
    query = select(func.max(BackgroundTask.updated_at)).where(
        BackgroundTask.state == TaskState.running
    )
    return db.session.scalar(query)


def what_if_result(actor: User, task_id: int) -> tuple[BackgroundTask, whatif.WhatIfResult]:
    task = _finished(actor, task_id)
    if task.kind is not TaskKind.what_if or task.result is None:
        raise NotFound(N_("Not found."))
    return task, whatif.WhatIfResult.from_dict(task.result)


def result_file(actor: User, task_id: int, settings: TaskSettings) -> tuple[Path, str]:
    """(path on disk, download name) of a prepared export."""
    task = _finished(actor, task_id)
    if task.file_name is None or task.result is None:
        raise NotFound(N_("Not found."))
    path = settings.result_folder / task.file_name
    if path.parent != settings.result_folder or not path.is_file():
        raise NotFound(N_("The file is no longer kept. Prepare it again."))
    return path, task.result["filename"]


def _finished(actor: User, task_id: int) -> BackgroundTask:
    task = get(actor, task_id)
    if task.state is not TaskState.done:
        raise Conflict(N_("The task has not finished yet."))
    return task


@use_case
def purge(now: datetime, settings: TaskSettings) -> int:
    """Delete the tasks asked for longer than `settings.kept_for` ago and their files, and
    any other file that old (left by a crash); how many tasks went."""
    cutoff = now - settings.kept_for
    old = BackgroundTask.created_at < cutoff
    names = list(db.session.scalars(select(BackgroundTask.file_name).where(old)))
    deleted = db.session.execute(delete(BackgroundTask).where(old)).rowcount
    db.session.commit()
    folder = settings.result_folder
    for name in filter(None, names):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
    return deleted


# --- running -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    result: dict[str, Any]
    count: int
    file_name: str | None = None


@use_case
def run(task_id: int, settings: TaskSettings) -> None:
    """Do a queued task's work. It ends done or failed; a second call does nothing."""
    if not _claim(task_id):
        return
    begin_reading()  # the work only reads: progress commits must not wait for it
    task = db.session.get(BackgroundTask, task_id)
    assert task is not None  # just claimed
    locale = task.params.get("locale") or "ja"
    try:
        outcome = _work(task, locale, settings.result_folder)
    except Exception as error:  # noqa: BLE001  (every failure is kept for the owner)
        db.session.rollback()
        _fail(task_id, translate(_failure_message(error, task_id), locale))
        return
    _finish(task_id, outcome, settings.result_folder)


def _claim(task_id: int) -> bool:
    """queued -> running in one UPDATE: only one runner ever does a task."""
    now = utcnow()
    claimed = db.session.execute(
        update(BackgroundTask)
        .where(BackgroundTask.id == task_id, BackgroundTask.state == TaskState.queued)
        .values(state=TaskState.running, started_at=now, updated_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _work(task: BackgroundTask, locale: str, folder: Path) -> _Outcome:
    owner = task.owner
    progress = _Recorder(task.id)
    if task.kind is TaskKind.what_if:
        today = date.fromisoformat(task.params["today"])
        report = whatif.what_if_ruleset(owner, task.params["ruleset_id"], today, progress)
        return _Outcome(report.result.to_dict(), progress.done)
    filters = Filters(task.params.get("program_id"), task.params.get("fiscal_year"))
    export = _BUILDS[task.kind](owner, filters, locale, progress)
    file_name = _write_file(export, folder)
    return _Outcome({"filename": export.filename}, progress.done, file_name)


def _write_file(export: exports.Export, folder: Path) -> str:
    """The export's bytes under a random name; never a half-written file under it."""
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".csv"
    partial = folder / (name + ".part")
    try:
        with closing(export.rows), partial.open("wb") as file:
            for chunk in export.chunks():
                file.write(chunk)
        partial.replace(folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return name


class _Recorder:
    """Hears a task's progress; writes it in a short transaction of its own when
    PROGRESS_SECONDS have passed since the last write (the first report at once)."""

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        self.done = 0
        self._written_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        now = time.monotonic()
        if self._written_at is not None and now - self._written_at < PROGRESS_SECONDS:
            return
        self._written_at = now
        table = BackgroundTask.__table__
        with db.engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == self.task_id, table.c.state == TaskState.running)
                .values(done=done, total=total, updated_at=utcnow())
            )


def _finish(task_id: int, outcome: _Outcome, folder: Path) -> None:
    db.session.rollback()  # the end of the work's read transaction
    task = db.session.get(BackgroundTask, task_id)
    if task is None:  # purged meanwhile
        if outcome.file_name:
            (folder / outcome.file_name).unlink(missing_ok=True)
        return
    now = utcnow()
    task.state = TaskState.done
    task.done = task.total = outcome.count
    task.result = outcome.result
    task.file_name = outcome.file_name
    task.updated_at = task.finished_at = now
    db.session.commit()


def _fail(task_id: int, message: str) -> None:
    now = utcnow()
    db.session.execute(
        update(BackgroundTask)
        .where(BackgroundTask.id == task_id)
        .values(state=TaskState.failed, error=message[:ERROR_MAX], updated_at=now, finished_at=now)
    )
    db.session.commit()


def _failure_message(error: Exception, task_id: int) -> str:
    """What the owner reads (a Problem, said in their language when stored); details of
    the unexpected go to the log."""
    if isinstance(error, NotFound):
        return N_("What the task was asked to work on no longer exists.")
    if isinstance(error, NotAllowed):
        return N_("You are no longer allowed to do this.")
    if isinstance(error, DomainError) and error.message:
        return error.message
    log.error("background task %s failed", task_id, exc_info=error)
    return N_(
        "The task stopped because of an unexpected error. Run it again; if it fails again, "
        "tell the programme office."
    )
