"""Background tasks: starting, running with progress, failing, reading, purging."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from grants.accounts.models import User
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.service import Filters
from grants.rulesets import service as rulesets
from grants.tasks import service as background
from grants.tasks.jobs import purge_task_results
from grants.tasks.models import BackgroundTask
from grants.tasks.queries import ruleset_of
from grants.tasks.rules import TaskKind, TaskState
from grants.whatif import service as whatif
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import said
from tests.support.tasks import (
    draft_without_relaxation,
    files_in_result_folder,
    make_task,
    reload,
    result_bytes,
    run_queued,
    task_count,
    task_settings,
    wait_until_finished,
    worker_threads,
)
from tests.support.whatif import TODAY, make_whatif_world

EXPORTS = [
    (TaskKind.export_disbursements, exports.disbursements),
    (TaskKind.export_milestones, exports.milestone_status),
]


@pytest.fixture(autouse=True)
def _own_result_folder(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(app.config, "TASK_RESULT_FOLDER", str(tmp_path / "task-results"))


def _officer():  # type: ignore[no-untyped-def]
    return make_user(Role.officer)


def _streamed(build, actor, filters: Filters, locale: str = "en") -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(build(actor, filters, locale).chunks())


def _ran(task: BackgroundTask) -> BackgroundTask:
    """The task once a worker has run the queue."""
    run_queued()
    return reload(task.id)


def test_a_what_if_task_keeps_the_same_report_as_the_direct_page(app: Flask) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    task = background.start_what_if(w.officer, draft_id, TODAY, "en", task_settings())
    assert reload(task.id).state is TaskState.queued  # a worker runs it, not the request
    task = _ran(task)
    assert task.state is TaskState.done and task.error is None
    assert (task.attempts, task.claimed_by) == (1, "tests/tasks")
    assert (task.done, task.total) == (3, 3)  # two applications and one grant
    assert task.params == {
        "ruleset_id": draft_id,
        "program_id": w.world.program.id,
        "today": TODAY.isoformat(),
        "locale": "en",
    }
    _task, stored = background.what_if_result(w.officer, task.id)
    direct = whatif.what_if_ruleset(w.officer, draft_id, TODAY).result
    assert stored.to_dict() == direct.to_dict()
    assert stored.summary == direct.summary and stored.changed == direct.changed
    assert task.started_at is not None and task.finished_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "background_task.start")
    )
    assert event is not None and event.object_id == str(task.id)
    assert event.actor_id == w.officer.id and event.after["kind"] == "what_if"


@pytest.mark.parametrize(("kind", "build"), EXPORTS)
def test_an_export_task_writes_the_same_bytes_as_the_streamed_download(
    app: Flask, kind: TaskKind, build
) -> None:  # type: ignore[no-untyped-def]
    world = make_grant(code="EX")
    officer = _officer()
    filters = Filters(world.program.id, None)
    task = _ran(background.start_export(officer, kind, filters, "en", task_settings()))
    assert task.state is TaskState.done
    assert result_bytes(task) == _streamed(build, officer, filters)
    path, name = background.result_file(officer, task.id, task_settings())
    assert path.parent == task_settings().result_folder and name.endswith("-EX.csv")
    assert task.file_name is not None and task.file_name not in name  # a random name on disk


def test_the_export_header_is_in_the_language_asked_for(app: Flask) -> None:
    make_grant(code="EX")
    officer = _officer()
    task = _ran(
        background.start_export(
            officer, TaskKind.export_milestones, Filters(), "ja", task_settings()
        )
    )
    assert result_bytes(task) == _streamed(exports.milestone_status, officer, Filters(), "ja")
    assert "組織".encode() in result_bytes(task)


def test_progress_is_committed_as_the_work_goes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_grant(code="EX")  # three milestones
    officer = _officer()
    monkeypatch.setattr(background, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(exports, "BATCH", 1)
    seen: list[tuple[str, int, int]] = []
    original = background._Recorder.__call__

    def spy(recorder, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        original(recorder, done, total)
        with db.engine.connect() as other:  # what any other reader sees now
            table = BackgroundTask.__table__
            row = other.execute(
                select(table.c.state, table.c.done, table.c.total).where(
                    table.c.id == recorder.task_id
                )
            ).one()
            seen.append((row.state, row.done, row.total))

    monkeypatch.setattr(background._Recorder, "__call__", spy)
    task = _ran(
        background.start_export(
            officer, TaskKind.export_milestones, Filters(), "en", task_settings()
        )
    )
    assert seen == [("running", 0, 3), ("running", 1, 3), ("running", 2, 3), ("running", 3, 3)]
    assert (task.state, task.done, task.total) == (TaskState.done, 3, 3)


def test_progress_writes_are_throttled(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    writes: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE background_task SET done"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        task = _ran(background.start_what_if(w.officer, draft_id, TODAY, "en", task_settings()))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(writes) == 1  # the first report (0 of 3); the three subjects take far less
    assert (task.done, task.total) == (3, 3)


def test_an_exception_in_the_work_marks_the_task_failed(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(background.whatif, "what_if_ruleset", broken)
    task = _ran(background.start_what_if(w.officer, draft_id, TODAY, "en", task_settings()))
    assert task.state is TaskState.failed and task.finished_at is not None
    assert task.error is not None and task.error.startswith("The task stopped because of an")
    assert "disk on fire" not in task.error  # the details go to the log only
    assert "disk on fire" in caplog.text
    with pytest.raises(Conflict):
        background.what_if_result(w.officer, task.id)


def test_the_failure_message_is_in_the_owners_language(app: Flask) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    task = background.start_what_if(w.officer, draft_id, TODAY, "en", task_settings())
    rulesets.delete_draft(w.officer, draft_id)  # gone before the work starts
    task = _ran(task)
    assert task.error == "What the task was asked to work on no longer exists."
    assert task.state is TaskState.failed


def test_the_failure_is_kept_in_the_language_the_task_was_asked_in(app: Flask) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    task = background.start_what_if(w.officer, draft_id, TODAY, "ja", task_settings())
    rulesets.delete_draft(w.officer, draft_id)
    assert _ran(task).error == "処理の対象がもう存在しません。"


def test_a_failed_export_leaves_no_file(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    make_grant(code="EX")
    officer = _officer()
    monkeypatch.setattr(exports, "BATCH", 1)

    def broken_row(*_args):  # type: ignore[no-untyped-def]
        raise RuntimeError("bad row")

    monkeypatch.setattr(exports, "_milestone_row", broken_row)
    task = _ran(
        background.start_export(
            officer, TaskKind.export_milestones, Filters(), "en", task_settings()
        )
    )
    assert task.state is TaskState.failed and task.file_name is None
    assert files_in_result_folder() == []


def test_a_task_runs_once(app: Flask) -> None:
    make_grant(code="EX")
    officer = _officer()
    task = background.start_export(
        officer, TaskKind.export_milestones, Filters(), "en", task_settings()
    )
    assert reload(task.id).state is TaskState.queued
    assert run_queued() == 1
    first = reload(task.id)
    assert run_queued() == 0  # a finished task is never claimed again
    again = reload(task.id)
    assert again.state is TaskState.done and again.file_name == first.file_name
    assert again.attempts == 1
    assert len(files_in_result_folder()) == 1


def test_bad_input_writes_no_task(app: Flask) -> None:
    w = make_whatif_world()
    with pytest.raises(NotFound):
        background.start_what_if(w.officer, 999_999, TODAY, "en", task_settings())
    with pytest.raises(RuleViolation) as error:
        background.start_export(
            w.officer, TaskKind.export_milestones, Filters(999_999, 1999), "en", task_settings()
        )
    assert set(error.value.fields) == {"program_id", "fiscal_year"}
    with pytest.raises(ValueError, match="not an export"):
        background.start_export(w.officer, TaskKind.what_if, Filters(), "en", task_settings())
    assert task_count() == 0


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer])
def test_only_officers_and_admins_start_exports(app: Flask, role: Role) -> None:
    with pytest.raises(NotAllowed):
        background.start_export(
            make_user(role, make_org()),
            TaskKind.export_milestones,
            Filters(),
            "en",
            task_settings(),
        )
    assert task_count() == 0


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_only_officers_start_a_what_if(app: Flask, role: Role) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    with pytest.raises(NotAllowed):
        background.start_what_if(
            make_user(role, make_org()), draft_id, TODAY, "en", task_settings()
        )
    assert task_count() == 0


def _result_file(actor: User, task_id: int) -> tuple[Path, str]:
    return background.result_file(actor, task_id, task_settings())


def test_only_the_owner_reads_a_task_or_its_file(app: Flask) -> None:
    make_grant(code="EX")
    owner = _officer()
    task = _ran(
        background.start_export(owner, TaskKind.export_milestones, Filters(), "en", task_settings())
    )
    assert background.get(owner, task.id).id == task.id
    assert background.result_file(owner, task.id, task_settings())[0].is_file()
    for other in (_officer(), make_user(Role.admin), make_user(Role.applicant, make_org())):
        for read in (background.get, _result_file, background.what_if_result):
            with pytest.raises(NotFound):
                read(other, task.id)
    assert background.tasks_of(_officer()) == []
    for task_id in (0, -1, 2**63):
        with pytest.raises(NotFound):
            background.get(owner, task_id)


def test_an_owner_who_lost_the_role_reads_nothing(app: Flask) -> None:
    make_grant(code="EX")
    owner = _officer()
    task = background.start_export(
        owner, TaskKind.export_milestones, Filters(), "en", task_settings()
    )
    owner.role = Role.reviewer
    db.session.commit()
    with pytest.raises(NotAllowed):
        background.result_file(owner, task.id, task_settings())


def test_results_wait_until_done(app: Flask) -> None:
    owner = _officer()
    running = make_task(owner, state=TaskState.running, done=10, total=100)
    with pytest.raises(Conflict):
        background.result_file(owner, running.id, task_settings())
    what_if = make_task(owner, kind=TaskKind.what_if, state=TaskState.queued)
    with pytest.raises(Conflict):
        background.what_if_result(owner, what_if.id)


def test_the_list_is_the_owners_newest_first(app: Flask) -> None:
    owner = _officer()
    older = make_task(owner, age=timedelta(hours=2))
    newer = make_task(owner, age=timedelta(hours=1))
    make_task(_officer())
    assert [t.id for t in background.tasks_of(owner)] == [newer.id, older.id]


def test_a_running_task_without_a_heartbeat_reads_as_interrupted(app: Flask) -> None:
    owner = _officer()
    now = utcnow()
    stale = make_task(owner, state=TaskState.running, done=5, total=10, age=timedelta(minutes=6))
    waiting = make_task(owner, state=TaskState.queued, age=timedelta(hours=6))
    old_but_done = make_task(owner, state=TaskState.done, age=timedelta(days=1))
    fresh = make_task(owner, state=TaskState.running, age=timedelta(minutes=4), attempts=2)
    assert background.progress(stale, now, task_settings()).interrupted
    assert not background.progress(waiting, now, task_settings()).interrupted  # waits its turn
    assert not background.progress(old_but_done, now, task_settings()).interrupted
    again = background.progress(fresh, now, task_settings())
    assert (again.interrupted, again.restarted) == (False, True)
    assert reload(stale.id).state is TaskState.running  # reading wrote nothing


def test_progress_reads_as_counts_and_per_cent(app: Flask) -> None:
    owner = _officer()
    now = utcnow()
    running = background.progress(make_task(owner, done=1234, total=5000), now, task_settings())
    assert (running.done, running.total, running.percent, running.finished) == (
        1234,
        5000,
        24,
        False,
    )
    more_than_counted = background.progress(make_task(owner, done=7, total=5), now, task_settings())
    assert (more_than_counted.total, more_than_counted.percent) == (7, 100)
    empty = background.progress(make_task(owner, state=TaskState.done), now, task_settings())
    assert (empty.percent, empty.finished) == (100, True)


def test_run_again_queues_the_same_work_anew(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_grant(code="EX")
    owner = _officer()
    params = {"program_id": world.program.id, "fiscal_year": None, "locale": "en"}
    failed = make_task(owner, state=TaskState.failed, params=params, error="boom")
    again = _ran(background.rerun(owner, failed.id, TODAY, "ja", task_settings()))
    assert again.id != failed.id and again.state is TaskState.done
    assert again.params == {**params, "locale": "ja"}
    running = make_task(owner, state=TaskState.running, params=params)
    with pytest.raises(Conflict):
        background.rerun(owner, running.id, TODAY, "en", task_settings())
    interrupted = make_task(owner, params=params, age=timedelta(minutes=10))
    with pytest.raises(Conflict):  # a worker claims it again by itself
        background.rerun(owner, interrupted.id, TODAY, "en", task_settings())
    with pytest.raises(NotFound):
        background.rerun(_officer(), failed.id, TODAY, "en", task_settings())


def test_run_again_checks_the_work_anew(app: Flask) -> None:
    w = make_whatif_world()
    draft_id = draft_without_relaxation(w)
    task = _ran(background.start_what_if(w.officer, draft_id, TODAY, "en", task_settings()))
    rulesets.delete_draft(w.officer, draft_id)
    before = task_count()
    assert ruleset_of(task) is None
    with pytest.raises(Conflict) as caught:
        background.rerun(w.officer, task.id, TODAY, "en", task_settings())
    assert (
        said(caught.value.message) == "この影響試算の対象だったルールセット案は、もう存在しません。"
    )
    assert task_count() == before


def _file(name: str, age: timedelta) -> Path:
    folder = task_settings().result_folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x")
    at = (utcnow() - age).timestamp()
    os.utime(path, (at, at))
    return path


def test_old_tasks_and_their_files_are_purged(app: Flask) -> None:
    owner = _officer()
    old_file = _file("old.csv", timedelta(days=8))
    kept_file = _file("kept.csv", timedelta(days=1))
    stray = _file("stray.csv.part", timedelta(days=9))
    make_task(owner, state=TaskState.done, age=timedelta(days=8), file_name="old.csv")
    kept = make_task(owner, state=TaskState.done, age=timedelta(days=1), file_name="kept.csv")
    kept_id = kept.id
    assert background.purge(utcnow(), task_settings()) == 1
    assert list(db.session.scalars(select(BackgroundTask.id))) == [kept_id]
    assert not old_file.exists() and not stray.exists() and kept_file.exists()
    assert background.purge(utcnow(), task_settings()) == 0


def test_the_purge_job_runs_under_the_lease(app: Flask) -> None:
    owner = _officer()
    make_task(owner, state=TaskState.done, age=timedelta(days=30))
    db.session.commit()
    assert purge_task_results(app, "holder") == 1
    assert task_count() == 0
    db.session.rollback()
    assert purge_task_results(app, "someone else") is None  # "holder" holds the lease


def test_real_threads_show_progress_while_the_work_runs(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker thread, on the file SQLite database or PostgreSQL: the owner reads the
    progress while the work is still reading, and the file matches the download."""
    world: GrantWorld = make_grant(code="EX")
    officer = _officer()
    monkeypatch.setattr(background, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(exports, "BATCH", 1)
    first_row_read, progress_checked = threading.Event(), threading.Event()
    original = background._Recorder.__call__

    def pause_after_the_first_row(recorder, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        original(recorder, done, total)
        if done == 1:
            first_row_read.set()
            progress_checked.wait(timeout=30)

    monkeypatch.setattr(background._Recorder, "__call__", pause_after_the_first_row)
    filters = Filters(world.program.id, None)
    with worker_threads(app):
        task_id = background.start_export(
            officer, TaskKind.export_milestones, filters, "en", task_settings()
        ).id  # wakes the idle worker: it would otherwise look again in a minute
        db.session.rollback()  # as a request ends: SQLite has one writer at a time
        assert first_row_read.wait(timeout=30)
        try:
            midway = reload(task_id)
            assert (midway.state, midway.done, midway.total) == (TaskState.running, 1, 3)
            db.session.rollback()
        finally:
            progress_checked.set()
        task = wait_until_finished(task_id)
    assert (task.state, task.done, task.total) == (TaskState.done, 3, 3)
    assert result_bytes(task) == _streamed(exports.milestone_status, officer, filters)
