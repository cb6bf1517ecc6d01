"""Worker threads that claim background tasks from the database and run them.

Any process may run workers, and every worker takes any process's tasks: an app server
starts BACKGROUND_WORKERS threads with its first request (none when 0: it leaves the work
to the others), and `flask grants scheduler` claims tasks with a job of its own
(tasks.jobs). A worker does one claim and its run at a time, each in an app context of
its own (hence its own database session), and claims again at once; when nothing waits it
sleeps TASK_POLL_SECONDS, or less when this process queues a task (wake()). A task whose
worker stopped is claimed again once its heartbeat is stale (tasks.service.claim_next).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app

from grants.core import lease

log = logging.getLogger("grants.tasks")

EXTENSION = "grants_task_workers"
_CREATING = threading.Lock()
# Seconds a stopping process waits for its workers' current tasks; a task still running
# then is claimed again by another worker once its heartbeat is stale.
STOP_SECONDS = 5.0

# One claim and its run by the named worker: the task's id, None when nothing waited.
Work = Callable[[str], int | None]


class Workers:
    """`count` threads running `work` until stopped."""

    def __init__(self, app: Flask, work: Work, count: int, poll_seconds: float) -> None:
        self.app = app
        self.work = work
        self.poll_seconds = poll_seconds
        self.name = lease.new_holder("tasks")
        self.threads = [
            threading.Thread(
                target=self._loop, args=(f"{self.name}/{n}",), name=f"grants-task-{n}", daemon=True
            )
            for n in range(1, count + 1)
        ]
        self._wakeups = threading.Semaphore(0)
        self._stopping = threading.Event()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wake(self) -> None:
        """A task was queued: one sleeping worker claims it now."""
        self._wakeups.release()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the workers end after their current task; wait `timeout` seconds for them."""
        self._stopping.set()
        for _thread in self.threads:
            self._wakeups.release()
        for thread in self.threads:
            thread.join(timeout)

    def _loop(self, worker: str) -> None:
        while not self._stopping.is_set():
            if run_once(self.app, self.work, worker) is None:
                self._wakeups.acquire(timeout=self.poll_seconds)


def run_once(app: Flask, work: Work, worker: str) -> int | None:
    """work(worker) in an app context of its own; a failure is logged, not raised."""
    with app.app_context():
        try:
            return work(worker)
        except Exception:
            # The work records its own failures; this is the database failing under it.
            log.exception("background worker %s stopped a run without recording why", worker)
            return None


def start(app: Flask, work: Work) -> Workers | None:
    """This process's workers, started on the first call: BACKGROUND_WORKERS threads
    polling every TASK_POLL_SECONDS; None when BACKGROUND_WORKERS is 0."""
    with _CREATING:
        workers: Workers | None = app.extensions.get(EXTENSION)
        count = app.config["BACKGROUND_WORKERS"]
        if workers is None and count > 0:
            workers = Workers(app, work, count, app.config["TASK_POLL_SECONDS"])
            workers.start()
            app.extensions[EXTENSION] = workers
            atexit.register(workers.stop)
    return workers


def wake() -> None:
    """Tell this process's workers that a task was queued (nothing when it runs none)."""
    workers: Workers | None = current_app.extensions.get(EXTENSION)
    if workers is not None:
        workers.wake()
