"""Background task progress: per cent, and when a running task lost its worker."""

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


def test_a_queued_task_waits_for_a_worker_however_long() -> None:
    assert not is_interrupted(TaskState.queued, NOW - timedelta(days=2), NOW, STALE)


def test_status_of_a_finished_task_reads_complete() -> None:
    done = status(TaskState.done, 7, 5, 1, NOW, NOW, STALE)
    assert (done.total, done.percent, done.finished, done.interrupted) == (7, 100, True, False)
    assert not done.restarted


def test_a_second_attempt_reads_as_restarted() -> None:
    again = status(TaskState.running, 1, 4, 2, NOW, NOW, STALE)
    assert (again.restarted, again.interrupted, again.percent) == (True, False, 25)
