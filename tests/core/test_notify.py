"""core.notify.record: an event's alerts in the writer's transaction, once per recipient."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import event, select

from grants.accounts.models import User
from grants.accounts.queries import active_officers
from grants.alerts.models import Alert
from grants.core import notify
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.identity import Role
from grants.extensions import db
from tests.support.factories import make_user

TODAY = date(2026, 10, 1)
KIND = AlertKind.application_submitted


def _record(actor: object, recipients: object, subject_id: int = 7) -> list[int]:
    return notify.record(
        actor,  # type: ignore[arg-type]
        recipients,  # type: ignore[arg-type]
        KIND,
        SubjectType.application,
        subject_id,
        today=TODAY,
    )


def _recipients() -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Alert.user_id).where(Alert.kind == KIND)))


def test_a_query_of_recipients_is_one_insert_whatever_their_number(app: Flask) -> None:
    officers = [make_user(Role.officer) for _ in range(5)]
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        ids = _record(SYSTEM, active_officers())
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.commit()
    assert len(ids) == 5 and _recipients() == sorted(o.id for o in officers)
    found = [s for s in statements if not s.startswith(("BEGIN", "SELECT pg_"))]
    assert len(found) == 1 and found[0].startswith("INSERT INTO alert")


def test_the_actor_is_never_told_of_their_own_event(app: Flask) -> None:
    actor, other = make_user(Role.officer), make_user(Role.officer)
    _record(actor, active_officers())
    _record(actor, [actor.id, other.id], subject_id=8)
    db.session.commit()
    rows = db.session.execute(select(Alert.user_id, Alert.subject_id).where(Alert.kind == KIND))
    assert sorted(rows) == [(other.id, 7), (other.id, 8)]


def test_recording_the_same_event_again_creates_nothing(app: Flask) -> None:
    officers = [make_user(Role.officer), make_user(Role.officer)]
    assert len(_record(SYSTEM, active_officers())) == 2
    db.session.commit()
    late = make_user(Role.officer)  # joined since: a retry tells them, and only them
    [new] = _record(SYSTEM, active_officers())
    assert db.session.get(Alert, new).user_id == late.id
    assert _record(SYSTEM, [o.id for o in officers]) == []
    db.session.commit()
    assert _recipients() == sorted([*(o.id for o in officers), late.id])


def test_ids_that_name_nobody_are_left_out_and_a_repeated_one_counts_once(app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    assert len(_record(SYSTEM, [reviewer.id, reviewer.id, 424242])) == 1
    assert _record(SYSTEM, []) == []
    db.session.commit()
    assert _recipients() == [reviewer.id]


def test_the_alerts_go_with_the_event_s_transaction(app: Flask) -> None:
    officer = make_user(Role.officer)
    _record(SYSTEM, [officer.id])
    db.session.rollback()  # the event failed
    assert _recipients() == []
    _record(SYSTEM, [officer.id])
    db.session.commit()
    alert = db.session.scalars(select(Alert)).one()
    assert (alert.tier, alert.scan_date, alert.delivery, alert.emailed_at) == (0, TODAY, None, None)
    assert alert.grant_id is None and alert.milestone_id is None


@pytest.mark.parametrize("role", list(Role))
def test_active_officers_are_the_active_users_with_the_officer_role(app: Flask, role: Role) -> None:
    user = make_user(role)
    make_user(role, active=False)
    found = set(db.session.scalars(active_officers()))
    assert found == ({user.id} if role == Role.officer else set())
    assert all(db.session.get(User, i).active for i in found)
