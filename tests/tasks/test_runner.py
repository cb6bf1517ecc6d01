"""The background runner: its own app context per piece of work, inline or in the pool."""

from __future__ import annotations

import threading

import pytest
from flask import Flask, current_app, g

from grants.tasks import runner


def test_inline_work_runs_at_once_in_a_context_of_its_own(app: Flask) -> None:
    g.marker = "request"
    seen: list[tuple[int, object, str]] = []

    def work(task_id: int) -> None:
        seen.append((task_id, g.get("marker"), threading.current_thread().name))

    assert runner.submit(work, 7) is None
    assert seen == [(7, None, threading.current_thread().name)]


def test_pooled_work_runs_in_a_worker_thread(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "BACKGROUND_TASKS_INLINE", False)
    seen: list[tuple[int, str, object]] = []

    def work(task_id: int) -> None:
        app_name = current_app.name  # an app context is there
        seen.append((task_id, threading.current_thread().name, app_name))

    future = runner.submit(work, 8)
    assert future is not None
    future.result(timeout=30)
    assert seen[0][0] == 8 and seen[0][1].startswith("grants-task")
    assert runner.executor(app) is runner.executor(app)  # one pool per app
    assert runner.executor(app)._max_workers == app.config["BACKGROUND_WORKERS"] == 2


def test_an_escaping_exception_is_logged_not_raised(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def work(task_id: int) -> None:
        raise RuntimeError("database gone")

    runner.submit(work, 9)
    assert "background task 9 stopped without recording why" in caplog.text
    assert "database gone" in caplog.text
