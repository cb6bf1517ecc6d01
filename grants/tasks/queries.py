"""What the owner of a background task may do with it now, for its page and the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.rulesets.models import RuleSet
from grants.tasks.models import BackgroundTask
from grants.tasks.rules import Status, TaskKind, TaskState


@dataclass(frozen=True)
class TaskActions:
    """What the owner may do with the task now (a page reads them as `may.rerun`)."""

    rerun: bool
    download: bool


def task_actions(task: BackgroundTask, where: Status) -> TaskActions:
    """`where` as service.progress() tells it."""
    return TaskActions(
        rerun=rerun_refusal(task, where) is None,
        download=task.state is TaskState.done and task.file_name is not None,
    )


def rerun_refusal(task: BackgroundTask, where: Status) -> Problem | None:
    """Why the task cannot be run again now, None when it can."""
    if not where.finished:
        return N_("This task is still running.")
    if task.kind is TaskKind.what_if and ruleset_of(task) is None:
        return N_("The draft rule set of this what-if no longer exists.")
    return None


def ruleset_of(task: BackgroundTask) -> RuleSet | None:
    """The rule set a what-if task compared, while it exists (a draft can be deleted)."""
    ruleset_id = task.params.get("ruleset_id") if task.kind is TaskKind.what_if else None
    return None if ruleset_id is None else db.session.get(RuleSet, ruleset_id)
