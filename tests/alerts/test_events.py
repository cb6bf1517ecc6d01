"""Every event alerts exactly the right people exactly once, from the use case that makes it.

Each event says who must hear of it (tests/support/events.py); nobody else does, and the
actor never does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.alerts.preferences.rules import KIND_ROLES
from grants.awards.models import Disbursement
from grants.core.alert_kinds import AlertKind
from grants.core.errors import DomainError
from grants.extensions import db
from grants.investments import service as investments
from grants.milestones.assignments import service as assignments
from grants.releases import service as releases
from tests.support.events import EVENTS, TODAY, Cast, Told, made, make_cast, submit_evidence

K = AlertKind


@pytest.fixture
def cast(app: Flask) -> Cast:
    return make_cast()


def _alerts(kind: AlertKind) -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.__name__)
def test_each_event_tells_exactly_who_must_hear_of_it_once(
    cast: Cast, event: Callable[[Cast], list[Told]]
) -> None:
    said = event(cast)
    assert {told.kind for told in said} == made(event)
    for told in said:
        alerts = _alerts(told.kind)
        recipients = [alert.user_id for alert in alerts]
        assert sorted(recipients) == sorted(told.recipients), told.kind  # each exactly once
        assert told.actor.id not in recipients
        assert {(alert.subject_type, alert.subject_id) for alert in alerts} == {told.subject}
        assert all(alert.tier == 0 and alert.scan_date for alert in alerts)
        roles = {db.session.get(User, user_id).role for user_id in recipients}
        assert roles <= KIND_ROLES[told.kind], told.kind  # the preferences page offers it


def test_every_kind_but_the_scheduled_ones_is_made_by_an_event() -> None:
    scheduled = {K.due_soon, K.overdue, K.escalation, K.review_waiting, K.tranche_waiting}
    kinds = set().union(*(made(event) for event in EVENTS))
    assert kinds == set(AlertKind) - scheduled


def test_an_event_that_fails_leaves_no_alert(cast: Cast) -> None:
    milestone = cast.world.milestones[0]
    with pytest.raises(DomainError):  # not approved: no release
        releases.release(cast.officer, milestone.id, TODAY)
    assert db.session.query(Disbursement).count() == 0
    assert _alerts(K.tranche_released) == []


def test_a_reviewer_who_declares_a_conflict_hears_of_no_more_evidence(cast: Cast) -> None:
    declared = cast.world.reviewers[0]
    assignments.declare_conflict(declared, cast.world.grantee.id, None, "共同研究者です")
    submit_evidence(cast)
    assert {a.user_id for a in _alerts(K.evidence_submitted)} == cast.eligible - {declared.id}


def test_each_officer_hears_of_the_investments_the_others_record(cast: Cast) -> None:
    recorded = {}
    for actor in (cast.officer, cast.other_officer):
        investment = investments.record_investment(
            actor, cast.world.grant.id, cast.world.vc.id, 10_000_000, date(2026, 9, 1),
            f"振込番号 by {actor.id}", TODAY,
        )  # fmt: skip
        recorded[actor.id] = investment.id
    told = {(a.subject_id, a.user_id) for a in _alerts(K.investment_recorded)}
    assert told == {
        (recorded[cast.officer.id], cast.other_officer.id),
        (recorded[cast.other_officer.id], cast.officer.id),
    }
