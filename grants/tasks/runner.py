"""Runs background work (tasks.service) beside the web requests.

Each piece of work gets its own app context, hence its own database session, in one of
BACKGROUND_WORKERS threads of this process; the request that submits it has committed
already, so the work reads what it asked for. BACKGROUND_TASKS_INLINE (tests) runs it at
once instead, still in a context of its own. Work lost with a stopped process is shown as
interrupted by its page and can be run again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, current_app

log = logging.getLogger("grants.tasks")

EXTENSION = "grants_task_runner"
_CREATING = threading.Lock()

Work = Callable[[int], None]


def submit(work: Work, task_id: int) -> Future[None] | None:
    """work(task_id) in the pool; None when it already ran inline."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["BACKGROUND_TASKS_INLINE"]:
        _in_context(app, work, task_id)
        return None
    return executor(app).submit(_in_context, app, work, task_id)


def executor(app: Flask) -> ThreadPoolExecutor:
    """The app's pool, created on first use (a process that never runs work has none)."""
    with _CREATING:
        pool = app.extensions.get(EXTENSION)
        if pool is None:
            pool = ThreadPoolExecutor(
                max_workers=app.config["BACKGROUND_WORKERS"], thread_name_prefix="grants-task"
            )
            app.extensions[EXTENSION] = pool
    return pool


def _in_context(app: Flask, work: Work, task_id: int) -> None:
    with app.app_context():
        try:
            work(task_id)
        except Exception:
            # The work records its own failures; this is the database failing under it.
            log.exception("background task %s stopped without recording why", task_id)
