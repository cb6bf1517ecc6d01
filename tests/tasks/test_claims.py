"""Claims of background tasks from the table: oldest first, one worker per task, again
when the worker died, and nothing more from a worker that lost its claim."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from grants.core.identity import Role
from grants.core.models import utcnow
from grants.extensions import db
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.service import Filters
from grants.tasks import runner
from grants.tasks import service as background
from grants.tasks.jobs import claim_and_run
from grants.tasks.models import BackgroundTask
from grants.tasks.rules import TaskKind, TaskState
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.races import at_once
from tests.support.tasks import (
    files_in_result_folder,
    make_task,
    reload,
    result_bytes,
    run_queued,
    task_settings,
)

STALE = timedelta(minutes=5)
FIRST = "first-worker"  # the thread of the worker presumed dead


def _in_first() -> bool:
    return threading.current_thread().name == FIRST


@pytest.fixture(autouse=True)
def _own_result_folder(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(app.config, "TASK_RESULT_FOLDER", str(tmp_path / "task-results"))


def _claim(worker: str, later: timedelta = timedelta(0)) -> int | None:
    db.session.rollback()
    return background.claim_next(worker, utcnow() + later, STALE)


def test_the_oldest_queued_task_is_claimed_first(app: Flask) -> None:
    owner = make_user(Role.officer)
    newer = make_task(owner, state=TaskState.queued, age=timedelta(minutes=1))
    older = make_task(owner, state=TaskState.queued, age=timedelta(minutes=2))
    make_task(owner, state=TaskState.done, age=timedelta(hours=1))
    make_task(owner, state=TaskState.failed, age=timedelta(hours=1))
    assert _claim("w1") == older.id
    assert _claim("w2") == newer.id
    assert _claim("w3") is None  # finished tasks are never claimed
    claimed = reload(older.id)
    assert (claimed.state, claimed.claimed_by, claimed.attempts) == (TaskState.running, "w1", 1)
    assert claimed.started_at == claimed.updated_at and claimed.started_at is not None


def test_a_running_task_is_claimed_again_once_its_heartbeat_is_stale(app: Flask) -> None:
    owner = make_user(Role.officer)
    task = make_task(owner, state=TaskState.running, claimed_by="w1", attempts=1)
    assert _claim("w2", later=timedelta(minutes=4)) is None  # its worker may be alive
    assert _claim("w2", later=timedelta(minutes=6)) == task.id
    again = reload(task.id)
    assert (again.state, again.claimed_by, again.attempts) == (TaskState.running, "w2", 2)


def test_a_task_that_lost_its_worker_three_times_fails(app: Flask) -> None:
    owner = make_user(Role.officer)
    params = {"program_id": None, "fiscal_year": None, "locale": "ja"}
    old = timedelta(minutes=10)
    lost = make_task(owner, age=old, attempts=background.MAX_ATTEMPTS, params=params)
    again = make_task(owner, age=old, attempts=background.MAX_ATTEMPTS - 1)
    assert _claim("w1") == again.id
    failed = reload(lost.id)
    assert (failed.state, failed.attempts) == (TaskState.failed, background.MAX_ATTEMPTS)
    assert failed.error is not None and failed.error.startswith(
        "この処理を実行していたサーバーが3回"
    )
    assert failed.finished_at is not None


@pytest.mark.parametrize("tasks", [1, 2])
def test_two_workers_never_claim_the_same_task(app: Flask, tasks: int) -> None:
    """Four workers at once (on PostgreSQL truly at once: the candidate row is locked and
    skipped by the others): each task is claimed by exactly one of them."""
    owner = make_user(Role.officer)
    ids = {make_task(owner, state=TaskState.queued).id for _ in range(tasks)}
    owner_id = owner.id
    db.session.rollback()  # SQLite's write lock is free for the workers
    workers = ["w1", "w2", "w3", "w4"]
    claims = at_once(
        app,
        lambda _user, worker: background.claim_next(worker, utcnow(), STALE),
        [(owner_id, worker) for worker in workers],
    )
    won = [claim for claim in claims if claim is not None]
    assert not any(isinstance(claim, Exception) for claim in claims), claims
    assert sorted(won) == sorted(ids)  # every task once, no task twice
    for task_id in ids:
        task = reload(task_id)
        assert task.attempts == 1 and task.claimed_by == workers[claims.index(task_id)]


def _export(monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    world = make_grant(code="EX")
    officer = make_user(Role.officer)
    monkeypatch.setattr(background, "HEARTBEAT_SECONDS", 3600.0)  # no beat unless a test asks
    filters = Filters(world.program.id, None)
    task = background.start_export(
        officer, TaskKind.export_milestones, filters, "en", task_settings()
    )
    expected = b"".join(exports.milestone_status(officer, filters, "en").chunks())
    return task.id, expected


def _first_worker(app: Flask) -> threading.Thread:
    thread = threading.Thread(
        target=runner.run_once, args=(app, claim_and_run, "first"), name=FIRST
    )
    db.session.rollback()  # as a request ends: SQLite has one writer at a time
    thread.start()
    return thread


def _second_worker(app: Flask, task_id: int) -> None:
    """The second worker, which claimed the task, runs it."""
    db.session.rollback()  # as a request ends: SQLite has one writer at a time
    ran = runner.run_once(
        app, lambda worker: background.run(task_id, worker, task_settings()), "second"
    )
    assert ran is None  # run() answers nothing; a failure would have been logged
    assert reload(task_id).claimed_by == "second"


def test_a_worker_presumed_dead_cannot_finish_and_its_file_goes(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The first worker stalls after writing its file; its heartbeat goes stale and a second
    worker claims the task; the first one's late completion is refused and its file
    deleted; the second one finishes: the task ends once, with one file."""
    task_id, expected = _export(monkeypatch)
    written, resume = threading.Event(), threading.Event()
    write_file = background._write_file

    def stall_in_the_first(export, folder):  # type: ignore[no-untyped-def]
        name = write_file(export, folder)
        if _in_first():
            written.set()
            resume.wait(timeout=30)
        return name

    monkeypatch.setattr(background, "_write_file", stall_in_the_first)
    first = _first_worker(app)
    try:
        assert written.wait(timeout=30)
        assert len(files_in_result_folder()) == 1  # the first one's file, not yet recorded
        assert _claim("second", later=STALE * 2) == task_id
    finally:
        resume.set()
        first.join(timeout=30)
    refused = reload(task_id)
    assert (refused.state, refused.file_name, refused.claimed_by) == (
        TaskState.running,
        None,
        "second",
    )
    assert files_in_result_folder() == []
    _second_worker(app, task_id)
    task = reload(task_id)
    assert (task.state, task.claimed_by, task.attempts) == (TaskState.done, "second", 2)
    assert files_in_result_folder() == [task_settings().result_folder / str(task.file_name)]
    assert result_bytes(task) == expected
    assert "first lost its claim before it finished" in caplog.text
    assert run_queued() == 0


def test_a_worker_presumed_dead_stops_at_its_next_progress(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id, expected = _export(monkeypatch)
    monkeypatch.setattr(background, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(exports, "BATCH", 1)
    reported, resume = threading.Event(), threading.Event()
    seen_after: list[int] = []
    record = background._Recorder.__call__

    def stall_in_the_first(recorder, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if _in_first() and reported.is_set():
            seen_after.append(done)
        record(recorder, done, total)
        if _in_first() and done == 1:
            reported.set()
            resume.wait(timeout=30)

    monkeypatch.setattr(background._Recorder, "__call__", stall_in_the_first)
    first = _first_worker(app)
    try:
        assert reported.wait(timeout=30)
        assert _claim("second", later=STALE * 2) == task_id
    finally:
        resume.set()
        first.join(timeout=30)
    assert reload(task_id).done == 1  # the first one wrote nothing more
    _second_worker(app, task_id)
    assert seen_after == [2]  # refused there: the rest of the rows were never read
    task = reload(task_id)
    assert (task.state, task.done, task.claimed_by) == (TaskState.done, 3, "second")
    assert files_in_result_folder() == [task_settings().result_folder / str(task.file_name)]
    assert result_bytes(task) == expected


def test_a_silent_worker_keeps_its_claim_by_its_heartbeat(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id, _expected = _export(monkeypatch)
    monkeypatch.setattr(background, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(background, "PROGRESS_SECONDS", 3600.0)  # the first report only
    monkeypatch.setattr(exports, "BATCH", 1)
    silent, resume = threading.Event(), threading.Event()
    record = background._Recorder.__call__

    def go_quiet(recorder, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        record(recorder, done, total)
        if done == 1:
            silent.set()
            resume.wait(timeout=30)

    monkeypatch.setattr(background._Recorder, "__call__", go_quiet)
    first = _first_worker(app)
    try:
        assert silent.wait(timeout=30)
        quiet_since = reload(task_id).updated_at
        db.session.rollback()
        beat = quiet_since
        for _ in range(200):
            threading.Event().wait(0.05)
            beat = reload(task_id).updated_at
            db.session.rollback()
            if beat > quiet_since:
                break
        assert beat > quiet_since  # the work reported nothing, the heartbeat did
    finally:
        resume.set()
        first.join(timeout=30)
    task = reload(task_id)
    assert (task.state, task.claimed_by, task.attempts) == (TaskState.done, "first", 1)


def test_a_failure_after_the_claim_was_lost_is_not_recorded(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id, _expected = _export(monkeypatch)
    assert _claim("first") == task_id
    assert _claim("second", later=STALE * 2) == task_id

    def broken(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(background, "_write_file", broken)
    assert (
        runner.run_once(
            app, lambda worker: background.run(task_id, worker, task_settings()), "first"
        )
        is None
    )
    task = reload(task_id)
    assert (task.state, task.claimed_by, task.error) == (TaskState.running, "second", None)
    assert db.session.get(BackgroundTask, task_id) is not None
