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


def is_interrupted(state: str, updated_at: datetime, now: datetime, stale_after: timedelta) -> bool:
    """A running task without a heartbeat for `stale_after`: its worker stopped, and the
    next free worker claims it again. A queued task waits for a worker, however long."""
    return state == TaskState.running and now - updated_at > stale_after


@dataclass(frozen=True)
class Status:
    """Where a task is, as its pages and the API show it."""

    state: TaskState
    interrupted: bool  # its worker stopped; another worker will start it again
    restarted: bool  # started again after a worker stopped running it
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
    attempts: int,
    updated_at: datetime,
    now: datetime,
    stale: timedelta,
) -> Status:
    total = max(total, done)
    share = 100 if state is TaskState.done else percent(done, total)
    interrupted = is_interrupted(state, updated_at, now, stale)
    return Status(state, interrupted, attempts > 1, done, total, share)
