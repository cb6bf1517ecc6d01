"""Background task progress: per cent, and when an unfinished task counts as lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grants.tasks.rules import TaskState, is_interrupted, percent, status

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
STALE = timedelta(minutes=5)


def test_percent_rounds_down_and_stays_within_bounds() -> None:
    assert [percent(0, 0), percent(1, 3), percent(2, 3), percent(9, 5)] == [0, 33, 66, 100]


def test_a_running_task_without_progress_is_interrupted() -> None:
    assert is_interrupted(TaskState.running, NOW - timedelta(minutes=6), NOW, STALE)
    assert not is_interrupted(TaskState.running, NOW - timedelta(minutes=4), NOW, STALE)


def test_a_finished_task_is_never_interrupted() -> None:
    for state in (TaskState.done, TaskState.failed):
        assert not is_interrupted(state, NOW - timedelta(days=9), NOW, STALE)


def test_a_queued_task_waits_while_any_worker_shows_life() -> None:
    asked = NOW - timedelta(minutes=20)
    assert is_interrupted(TaskState.queued, asked, NOW, STALE)
    assert is_interrupted(TaskState.queued, asked, NOW, STALE, NOW - timedelta(minutes=6))
    assert not is_interrupted(TaskState.queued, asked, NOW, STALE, NOW - timedelta(minutes=1))
    # a worker's life says nothing about a running task's own process
    assert is_interrupted(TaskState.running, asked, NOW, STALE, NOW - timedelta(minutes=1))


def test_status_of_a_finished_task_reads_complete() -> None:
    done = status(TaskState.done, 7, 5, NOW, NOW, STALE)
    assert (done.total, done.percent, done.finished, done.interrupted) == (7, 100, True, False)
