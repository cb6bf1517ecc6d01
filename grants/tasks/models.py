"""Background tasks: long work (a large what-if, an export) run outside the request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.models import User
from grants.core.models import Base, BigId, UTCDateTime, utcnow
from grants.tasks.rules import TaskKind, TaskState

ERROR_MAX = 500
FILE_NAME_MAX = 100
WORKER_MAX = 120


class BackgroundTask(Base):
    """One request for long work, its progress and its result.

    `params` holds what the work needs (rule set id or export filters, today, locale);
    `result` what its page shows (the what-if report, the export's download name); an
    export's file lies under TASK_RESULT_FOLDER with the random name `file_name`.

    The table is the queue: any worker claims a queued task (or a running one whose
    heartbeat `updated_at` went stale: its worker died) by writing its name in
    `claimed_by` and counting the attempt; every later write of the run is fenced by it.
    """

    __tablename__ = "background_task"
    __table_args__ = (
        Index("ix_background_task_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_background_task_created_at", "created_at"),
        Index("ix_background_task_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(Enum(TaskKind, native_enum=False, length=30))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[TaskState] = mapped_column(
        Enum(TaskState, native_enum=False, length=20), default=TaskState.queued
    )
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_name: Mapped[str | None] = mapped_column(String(FILE_NAME_MAX))
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_MAX))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship()
