"""The worker threads: woken when their process queues a task, polling for the others'
tasks, stopping cleanly; and the first request of an app server starting them."""

from __future__ import annotations

import socket
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from grants.portfolio.exports.service import Filters
from grants.tasks import runner
from grants.tasks import service as background
from grants.tasks.rules import TaskKind, TaskState
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.tasks import make_task, task_settings, wait_until_finished, worker_threads


@pytest.fixture(autouse=True)
def _own_result_folder(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "TASK_RESULT_FOLDER", str(tmp_path / "task-results"))


def test_queueing_a_task_wakes_an_idle_worker_at_once(app: Flask) -> None:
    make_grant(code="EX")
    officer = make_user(Role.officer)
    with worker_threads(app, poll_seconds=600):  # it would not look again for ten minutes
        task = background.start_export(
            officer, TaskKind.export_milestones, Filters(), "en", task_settings()
        )
        done = wait_until_finished(task.id, timeout=20)
    assert done.state is TaskState.done and done.claimed_by is not None
    host_pid = f"{socket.gethostname()}:"
    assert done.claimed_by.startswith("tasks@") and host_pid in done.claimed_by


def test_a_worker_polls_for_tasks_queued_by_other_servers(app: Flask) -> None:
    make_grant(code="EX")
    with worker_threads(app, poll_seconds=0.2):
        # Queued as another server does: a row, and no wake-up in this process.
        queued = make_task(make_user(Role.officer), state=TaskState.queued)
        assert wait_until_finished(queued.id, timeout=20).state is TaskState.done


def test_workers_run_as_named_threads_and_stop_cleanly(app: Flask) -> None:
    with worker_threads(app, count=2) as workers:
        names = sorted(thread.name for thread in workers.threads)
        assert names == ["grants-task-1", "grants-task-2"]
        assert all(thread.is_alive() and thread.daemon for thread in workers.threads)
        assert runner.start(app, lambda _worker: None) is workers  # one set per process
    assert runner.EXTENSION not in app.extensions  # stopped, all joined (worker_threads)


def test_no_workers_when_the_server_leaves_the_work_to_others(app: Flask) -> None:
    assert app.config["BACKGROUND_WORKERS"] == 0
    assert runner.start(app, lambda _worker: None) is None
    assert runner.EXTENSION not in app.extensions
    runner.wake()  # queueing a task on such a server wakes no one, and fails nothing


def test_the_first_request_starts_the_workers(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BACKGROUND_WORKERS", 1)
    try:
        client.get("/login")
        workers = app.extensions[runner.EXTENSION]
        assert [thread.is_alive() for thread in workers.threads] == [True]
    finally:
        workers = app.extensions.pop(runner.EXTENSION, None)
        if workers is not None:
            workers.stop(timeout=30)


def test_a_failure_under_the_work_is_logged_not_raised(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def work(worker: str) -> int | None:
        seen.append(threading.current_thread().name)
        raise RuntimeError("database gone")

    assert runner.run_once(app, work, "w1") is None
    assert seen == [threading.current_thread().name]
    assert "background worker w1 stopped a run without recording why" in caplog.text
    assert "database gone" in caplog.text
