"""Background tasks in tests: rows in a given state, a draft for the what-if, running the
queued ones as a worker does, waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.core.models import utcnow
from grants.extensions import db
from grants.rules import amed_certified_vc
from grants.rulesets import service as rulesets
from grants.tasks import runner
from grants.tasks import service as background
from grants.tasks.jobs import run_tasks, start_workers
from grants.tasks.models import BackgroundTask
from grants.tasks.rules import TaskKind, TaskState
from tests.support.rulesets import rule
from tests.support.whatif import WhatIfWorld


def make_task(
    owner: User,
    kind: TaskKind = TaskKind.export_milestones,
    state: TaskState = TaskState.running,
    done: int = 0,
    total: int = 0,
    age: timedelta = timedelta(0),
    **values: Any,
) -> BackgroundTask:
    """A task row as if a runner had left it there `age` ago (no work is run)."""
    at = utcnow() - age
    task = BackgroundTask(
        kind=kind,
        owner_id=owner.id,
        params=values.pop("params", {"program_id": None, "fiscal_year": None, "locale": "en"}),
        state=state,
        done=done,
        total=total,
        created_at=at,
        updated_at=at,
        started_at=None if state is TaskState.queued else at,
        **values,
    )
    db.session.add(task)
    db.session.commit()
    return task


def run_queued(worker: str = "tests") -> int:
    """Run the queued tasks through the production path (the scheduler's job: claim, run,
    claim again until none waits, each in an app context of its own); how many ran."""
    db.session.rollback()  # as a request ends: SQLite has one writer at a time
    return run_tasks(current_app._get_current_object(), worker)  # type: ignore[attr-defined]


@contextmanager
def worker_threads(
    app: Flask, count: int = 1, poll_seconds: float = 60
) -> Iterator[runner.Workers]:
    """The app's worker threads, as an app server starts them, stopped at the end."""
    config = {"BACKGROUND_WORKERS": count, "TASK_POLL_SECONDS": poll_seconds}
    saved = {key: app.config[key] for key in config}
    app.config.update(config)
    try:
        workers = start_workers(app)
        assert workers is not None
        try:
            yield workers
        finally:
            db.session.rollback()  # SQLite's write lock, which a worker may be waiting for
            workers.stop(timeout=30)
            del app.extensions[runner.EXTENSION]
            assert not any(thread.is_alive() for thread in workers.threads)
    finally:
        app.config.update(saved)


def draft_without_relaxation(w: WhatIfWorld) -> int:
    """A draft under which the non-clinical application is newly blocked."""
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["relaxations"] = []
    return rulesets.create_draft(w.officer, w.world.program.id, "草案", document).id


def task_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(BackgroundTask.id))) or 0


def reload(task_id: int) -> BackgroundTask:
    db.session.rollback()
    task = db.session.get(BackgroundTask, task_id, populate_existing=True)
    assert task is not None
    return task


def wait_until_finished(task_id: int, timeout: float = 30) -> BackgroundTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = reload(task_id)
        if task.state in (TaskState.done, TaskState.failed):
            return task
        # Not holding the read's transaction while waiting: on SQLite it is the write lock
        # (BEGIN IMMEDIATE), which the worker needs to record its progress.
        db.session.rollback()
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s")


def task_settings() -> background.TaskSettings:
    """The test installation's task settings, as the edges pass them."""
    return background.TaskSettings.of(current_app.config, current_app.instance_path)


def result_bytes(task: BackgroundTask) -> bytes:
    assert task.file_name is not None
    return (task_settings().result_folder / task.file_name).read_bytes()


def files_in_result_folder() -> list[Path]:
    folder = task_settings().result_folder
    return sorted(folder.iterdir()) if folder.is_dir() else []
