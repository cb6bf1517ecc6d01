"""Background tasks: what they do, where they are, and how their progress reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class TaskKind(StrEnum):
    what_if = "what_if"
    export_disbursements = "export_disbursements"
    export_milestones = "export_milestones"
    export_grants = "export_grants"


class TaskState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


UNFINISHED = frozenset({TaskState.queued, TaskState.running})
EXPORTS = frozenset(
    {TaskKind.export_disbursements, TaskKind.export_milestones, TaskKind.export_grants}
)


def percent(done: int, total: int) -> int:
    """Whole per cent done, rounded down; nothing to do counts as 0 until finished."""
    if total <= 0:
        return 0
    return min(100, max(0, done) * 100 // total)


def is_interrupted(
    state: str,
    updated_at: datetime,
    now: datetime,
    stale_after: timedelta,
    workers_seen_at: datetime | None = None,
) -> bool:
    """An unfinished task nobody has touched for `stale_after`: its process is gone.

    A running task records progress at least every few seconds. A queued one waits for a
    free worker, so it is lost only when no task has shown progress (`workers_seen_at`,
    the latest progress of any running task) for that long either.
    """
    if state not in UNFINISHED:
        return False
    last_sign = updated_at
    if state == TaskState.queued and workers_seen_at is not None:
        last_sign = max(updated_at, workers_seen_at)
    return now - last_sign > stale_after


@dataclass(frozen=True)
class Status:
    """Where a task is, as its pages and the API show it."""

    state: TaskState
    interrupted: bool
    done: int
    total: int  # never below done (rows can appear after they were counted)
    percent: int

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.done, TaskState.failed)


def status(
    state: TaskState,
    done: int,
    total: int,
    updated_at: datetime,
    now: datetime,
    stale: timedelta,
    workers_seen_at: datetime | None = None,
) -> Status:
    total = max(total, done)
    share = 100 if state is TaskState.done else percent(done, total)
    interrupted = is_interrupted(state, updated_at, now, stale, workers_seen_at)
    return Status(state, interrupted, done, total, share)
