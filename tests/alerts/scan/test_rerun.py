"""A rerun on the same day returns at once when nothing was audited since the last scan."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask, current_app
from sqlalchemy import event, func, select, update

from grants.alerts.models import Alert
from grants.awards.models import Milestone
from grants.core import audit
from grants.core.actors import SYSTEM
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from tests.support.alerts import run_scan, staff
from tests.support.grants import GrantWorld, make_grant

DUE = date(2026, 9, 30)  # make_grant's first milestone
DAY = timedelta(days=1)


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    world.officer = staff(Role.officer)
    return world


def _alerts() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert)) or 0


def _scans() -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "alerts.scan")
    return db.session.scalar(query) or 0


def test_a_rerun_with_nothing_changed_does_nothing(world: GrantWorld) -> None:
    first = run_scan(DUE + DAY)
    assert first.total > 0 and not first.unchanged
    statements: list[str] = []
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        rerun = run_scan(DUE + DAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert rerun.unchanged and rerun.total == 0
    assert [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))] == []
    assert _scans() == 1  # a rerun that changed nothing writes no audit row


def test_a_change_made_by_a_service_makes_the_rerun_scan(world: GrantWorld) -> None:
    milestone = world.milestones[0]
    run_scan(DUE + DAY)
    assert db.session.get(Milestone, milestone.id).overdue_since == DUE + DAY
    # Evidence arrives late the same day, then the officer sends it back: overdue again.
    evidence.submit_evidence(
        world.applicant,
        milestone.id,
        "Done.",
        {0: "1"},
        [],
        DUE + DAY,
        upload_folder=Path(current_app.config["UPLOAD_FOLDER"]),
    )
    assert db.session.get(Milestone, milestone.id).overdue_since is None  # cleared at once
    db.session.execute(
        update(Milestone).where(Milestone.id == milestone.id).values(state="changes_requested")
    )
    audit.record(SYSTEM, "test.send_back", milestone)
    db.session.commit()
    rerun = run_scan(DUE + DAY)
    assert not rerun.unchanged and rerun.flagged == 1
    assert _scans() == 2


def test_a_new_day_scans(world: GrantWorld) -> None:
    run_scan(DUE)
    before = _alerts()
    next_day = run_scan(DUE + DAY)
    assert not next_day.unchanged and next_day.total > 0
    assert _alerts() > before


def test_other_settings_make_the_rerun_scan(app: Flask, world: GrantWorld) -> None:
    run_scan(DUE - 31 * DAY)
    app.config["ALERT_DUE_SOON_DAYS"] = (31, 7)
    try:
        rerun = run_scan(DUE - 31 * DAY)
    finally:
        app.config["ALERT_DUE_SOON_DAYS"] = (30, 7)
    assert not rerun.unchanged and _scans() == 2
