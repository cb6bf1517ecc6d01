"""First messages on one subject at the same moment on PostgreSQL: one thread, every
message kept, each told once."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.conversations import service
from grants.conversations.models import Message, Thread
from grants.core.alert_kinds import AlertKind
from grants.extensions import db
from tests.support.approvals import officer
from tests.support.factories import uploads
from tests.support.grants import make_grant
from tests.support.races import at_once

TODAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Races need PostgreSQL; SQLite serialises whole transactions.")


@pytest.mark.parametrize("attempt", range(3))
def test_first_messages_at_once_share_one_thread(app: Flask, attempt: int) -> None:
    world = make_grant(code=f"MSG-{attempt}")
    milestone = world.milestones[0].id
    authors = [world.applicant.id, officer().id, officer().id]
    db.session.rollback()

    def post(actor: User, body: str) -> int:
        return service.post_message(
            actor, "milestone", milestone, body, False, [], TODAY, upload_folder=uploads()
        ).id

    results = at_once(app, post, [(author, f"hello {n}") for n, author in enumerate(authors)])
    assert all(isinstance(result, int) for result in results), results
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 3
    alerts = select(Alert.subject_id, Alert.user_id).where(Alert.kind == AlertKind.message_posted)
    rows = list(db.session.execute(alerts))
    assert len(rows) == len(set(rows)) and rows
