"""Background tasks in tests: rows in a given state, a draft for the what-if, waiting."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.core.models import utcnow
from grants.extensions import db
from grants.rules import amed_certified_vc
from grants.rulesets import service as rulesets
from grants.tasks import service as background
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
