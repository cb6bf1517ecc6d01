"""Background tasks: a large what-if or an export file, prepared while the officer waits.

Starting one is a use case (permission, audit event, one transaction) that queues a row;
any worker (tasks.runner: the app servers' worker threads, `flask grants scheduler`)
claims it from the table (claim_next) and runs it (run). The work is done in a read
transaction of its own, and its claim writes progress and a heartbeat beside it in short
commits; a task whose worker died (its heartbeat stale for TASK_STALE_MINUTES) is claimed
again and done anew, and the late writes of the worker presumed dead are refused, so the
task ends once, done or failed, with one file. A task and its file belong to its owner
only: anyone else gets NotFound, so ids cannot be probed. Claims, progress, completion
and the purge are the task's own bookkeeping, not audited use cases.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import ColumnElement

from grants.accounts.models import User
from grants.core import audit
from grants.core.db import ID_MAX, begin_reading, begin_writing, use_case
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

# Seconds between two progress writes of one task: not a write per row.
PROGRESS_SECONDS = 0.5
# Seconds between two heartbeats of a running task, whether or not its work reports
# progress: well below TASK_STALE_MINUTES, after which another worker claims it again.
HEARTBEAT_SECONDS = 10.0
# A task whose worker died this many times fails instead of being claimed again: the work
# itself may be what stops the servers running it.
MAX_ATTEMPTS = 3
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
    stale_after: timedelta  # a running task silent this long lost its worker
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
    return _start(actor, TaskKind.what_if, params)


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
    return _start(actor, kind, params)


def rerun(
    actor: User, task_id: int, today: date, locale: str, settings: TaskSettings
) -> BackgroundTask:
    """The same work as a finished task, queued anew (checked anew)."""
    task = get(actor, task_id)
    if refusal := rerun_refusal(task, progress(task, utcnow(), settings)):
        raise Conflict(refusal)
    params = task.params
    if task.kind is TaskKind.what_if:
        return start_what_if(actor, params["ruleset_id"], today, locale, settings)
    filters = Filters(params.get("program_id"), params.get("fiscal_year"))
    return start_export(actor, task.kind, filters, locale, settings)


def _start(actor: User, kind: TaskKind, params: dict[str, Any]) -> BackgroundTask:
    """The task queued for any worker; this process's idle workers are woken at once."""
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
    db.session.commit()
    runner.wake()
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


def progress(task: BackgroundTask, now: datetime, settings: TaskSettings) -> Status:
    """How far the task is, and whether its worker stopped (running without a heartbeat
    for `settings.stale_after`: a worker will claim it again). Reading it writes nothing."""
    return status(
        task.state, task.done, task.total, task.attempts, task.updated_at, now, settings.stale_after
    )


def what_if_result(actor: User, task_id: int) -> tuple[BackgroundTask, whatif.WhatIfResult]:
    task = _finished(actor, task_id)
    if task.kind is not TaskKind.what_if or task.result is None:
        raise NotFound(N_("Not found."))
    return task, whatif.WhatIfResult.from_dict(task.result)


@use_case
def result_file(actor: User, task_id: int, settings: TaskSettings) -> tuple[Path, str]:
    """(path on disk, download name) of a prepared export; the download is audited."""
    begin_writing()  # the audit row is written in a GET request
    task = _finished(actor, task_id)
    if task.file_name is None or task.result is None:
        raise NotFound(N_("Not found."))
    path = settings.result_folder / task.file_name
    if path.parent != settings.result_folder or not path.is_file():
        raise NotFound(N_("The file is no longer kept. Prepare it again."))
    name = task.result["filename"]
    after = {"kind": str(task.kind), **task.params, "filename": name}
    audit.record(actor, "background_task.download", task, after=after)
    db.session.commit()
    return path, name


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


class ClaimLost(Exception):
    """The worker's claim on its task was taken over: it was presumed dead (its heartbeat
    went stale) and another worker claimed the task again."""


@dataclass(frozen=True)
class _Outcome:
    result: dict[str, Any]
    count: int
    file_name: str | None = None


@use_case
def claim_next(worker: str, now: datetime, stale_after: timedelta) -> int | None:
    """Claim the oldest task waiting for a worker: a queued one, or a running one whose
    heartbeat is older than `stale_after` (its worker died). Exactly one worker wins a
    task: on PostgreSQL the candidate row is locked first (FOR UPDATE SKIP LOCKED, so that
    workers claiming at once take different tasks), on SQLite the one UPDATE runs under
    the write lock. A silent task that lost its worker MAX_ATTEMPTS times fails instead.
    The claimed task's id, None when nothing waits."""
    table = BackgroundTask.__table__
    silent = and_(table.c.state == TaskState.running, table.c.updated_at < now - stale_after)
    _give_up(silent, now)
    waiting = or_(table.c.state == TaskState.queued, and_(silent, table.c.attempts < MAX_ATTEMPTS))
    oldest = (
        select(table.c.id)
        .where(waiting)
        .order_by(table.c.created_at, table.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = db.session.execute(
        update(table)
        .where(table.c.id == oldest, waiting)
        .values(
            state=TaskState.running,
            claimed_by=worker,
            attempts=table.c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(table.c.id)
    ).scalar()
    db.session.commit()
    return claimed


def _give_up(silent: ColumnElement[bool], now: datetime) -> None:
    """Fail the silent tasks that lost their worker MAX_ATTEMPTS times, each with the
    reason in its owner's language (the owner can run it again by hand)."""
    table = BackgroundTask.__table__
    lost = and_(silent, table.c.attempts >= MAX_ATTEMPTS)
    for task_id, params in db.session.execute(select(table.c.id, table.c.params).where(lost)).all():
        message = N_(
            "The servers running this task stopped %(count)d times before it finished. Run it "
            "again; if it stops again, tell the programme office.",
            count=MAX_ATTEMPTS,
        )
        error = translate(message, params.get("locale") or "ja")[:ERROR_MAX]
        db.session.execute(
            update(table)
            .where(table.c.id == task_id, lost)
            .values(state=TaskState.failed, error=error, finished_at=now, updated_at=now)
        )


def run_next(worker: str, settings: TaskSettings) -> int | None:
    """Claim the next waiting task and do its work; its id, None when nothing waited."""
    task_id = claim_next(worker, utcnow(), settings.stale_after)
    if task_id is not None:
        run(task_id, worker, settings)
    return task_id


@use_case
def run(task_id: int, worker: str, settings: TaskSettings) -> None:
    """Do the work of a task `worker` has claimed. It ends done or failed, unless the claim
    is lost meanwhile: then this run writes nothing more and leaves no file."""
    begin_reading()  # the work only reads: progress commits must not wait for it
    task = db.session.get(BackgroundTask, task_id)
    if task is None:  # purged meanwhile
        return
    locale = task.params.get("locale") or "ja"
    claim = _Claim(db.engine, task_id, worker)
    try:
        with claim.beating():
            outcome = _work(task, claim, locale, settings.result_folder)
    except ClaimLost:
        db.session.rollback()
        log.warning("background task %s was claimed by another worker: %s stops", task_id, worker)
        return
    except Exception as error:  # noqa: BLE001  (every failure is kept for the owner)
        db.session.rollback()
        _fail(claim, translate(_failure_message(error, task_id), locale))
        return
    _finish(claim, outcome, settings.result_folder)


def _work(task: BackgroundTask, claim: _Claim, locale: str, folder: Path) -> _Outcome:
    owner = task.owner
    progress = _Recorder(claim)
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


class _Claim:
    """A worker's claim on a running task. Every write of the run is fenced by it: an
    UPDATE of the task while it is running and claimed by this worker, in a short
    transaction of its own beside the work's read. Once one finds the task taken over,
    the claim is lost for good."""

    def __init__(self, engine: Engine, task_id: int, worker: str) -> None:
        self.engine = engine
        self.task_id = task_id
        self.worker = worker
        self.lost = threading.Event()

    def write(self, **values: Any) -> None:
        """Write `values` (and the heartbeat) to the task; ClaimLost when it is not ours."""
        if self.lost.is_set():
            raise ClaimLost(self.task_id)
        table = BackgroundTask.__table__
        with self.engine.begin() as connection:
            written = connection.execute(
                update(table)
                .where(
                    table.c.id == self.task_id,
                    table.c.state == TaskState.running,
                    table.c.claimed_by == self.worker,
                )
                .values(updated_at=utcnow(), **values)
            ).rowcount
        if written != 1:
            self.lost.set()
            raise ClaimLost(self.task_id)

    @contextmanager
    def beating(self) -> Iterator[None]:
        """Beat every HEARTBEAT_SECONDS while the block runs, even while the work is silent."""
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), name="grants-task-beat")
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self.write()
            except ClaimLost:
                return
            except Exception:  # the database away for a moment: the next beat tries again
                log.exception("heartbeat of background task %s failed", self.task_id)


class _Recorder:
    """Hears a task's progress; writes it through the claim when PROGRESS_SECONDS have
    passed since the last write (the first report at once). ClaimLost stops the work."""

    def __init__(self, claim: _Claim) -> None:
        self.claim = claim
        self.done = 0
        self._written_at: float | None = None

    @property
    def task_id(self) -> int:
        return self.claim.task_id

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        if self.claim.lost.is_set():
            raise ClaimLost(self.claim.task_id)
        now = time.monotonic()
        if self._written_at is not None and now - self._written_at < PROGRESS_SECONDS:
            return
        self._written_at = now
        self.claim.write(done=done, total=total)


def _finish(claim: _Claim, outcome: _Outcome, folder: Path) -> None:
    """Done, with the outcome, if the claim still holds; else (taken over, or the task
    purged) the file this run wrote goes."""
    db.session.rollback()  # the end of the work's read transaction
    now = utcnow()
    try:
        claim.write(
            state=TaskState.done,
            done=outcome.count,
            total=outcome.count,
            result=outcome.result,
            file_name=outcome.file_name,
            finished_at=now,
        )
    except ClaimLost:
        if outcome.file_name:
            (folder / outcome.file_name).unlink(missing_ok=True)
        log.warning(
            "background task %s: %s lost its claim before it finished", claim.task_id, claim.worker
        )


def _fail(claim: _Claim, message: str) -> None:
    with suppress(ClaimLost):  # taken over: the new claim's run tells how it ends
        claim.write(state=TaskState.failed, error=message[:ERROR_MAX], finished_at=utcnow())


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
