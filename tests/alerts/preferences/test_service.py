"""Choosing how each kind of alert is e-mailed: one's own choices, checked and audited."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from grants.alerts.models import NotificationPreference
from grants.alerts.preferences import service
from grants.alerts.preferences.queries import Preference, preferences_of
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind, Delivery
from grants.core.errors import NotAllowed, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.i18n import said

K = AlertKind


def _stored() -> set[tuple[int, str, str]]:
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.kind,
            NotificationPreference.delivery,
        )
    )
    return {(user_id, str(kind), str(delivery)) for user_id, kind, delivery in rows}


def test_everything_is_e_mailed_at_once_until_chosen_otherwise(app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    assert preferences_of(reviewer) == [
        Preference(K.review_waiting, Delivery.now),
        Preference(K.reviewer_assigned, Delivery.now),
        Preference(K.evidence_submitted, Delivery.now),
        Preference(K.grant_terminated, Delivery.now),
    ]


def test_the_kinds_named_change_and_the_others_keep_theirs(app: Flask) -> None:
    officer, other = make_user(Role.officer), make_user(Role.officer)
    service.set_preferences(officer, {"tranche_ready": "digest", "overdue": "off"})
    answer = service.set_preferences(officer, {"overdue": "now", "investment_recorded": "digest"})
    chosen = {p.kind: p.delivery for p in answer}
    assert chosen[K.tranche_ready] == Delivery.digest
    assert chosen[K.overdue] == Delivery.now
    assert chosen[K.investment_recorded] == Delivery.digest
    assert {p.delivery for p in preferences_of(other)} == {Delivery.now}
    assert _stored() == {
        (officer.id, "tranche_ready", "digest"),
        (officer.id, "overdue", "now"),
        (officer.id, "investment_recorded", "digest"),
    }


def test_each_change_is_audited_with_what_it_was_and_nothing_else_is(app: Flask) -> None:
    applicant = make_user(Role.applicant)
    service.set_preferences(applicant, {"due_soon": "digest", "overdue": "now"})
    service.set_preferences(applicant, {"due_soon": "digest"})  # no change: no row
    service.set_preferences(applicant, {"due_soon": "off"}, via_link=True)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notification.preferences")
    ).all()
    assert {(e.actor_id, e.object_id) for e in events} == {(applicant.id, str(applicant.id))}
    assert [(e.before, e.after) for e in events] == [
        ({"due_soon": "now"}, {"due_soon": "digest"}),
        ({"due_soon": "digest"}, {"due_soon": "off", "via": "link"}),
    ]


def test_unknown_kinds_and_choices_are_refused_by_field_and_nothing_is_written(
    app: Flask,
) -> None:
    officer = make_user(Role.officer)
    with pytest.raises(RuleViolation) as caught:
        service.set_preferences(
            officer, {"tranche_ready": "digest", "no_such_kind": "now", "overdue": "weekly"}
        )
    assert set(caught.value.fields) == {"preferences.no_such_kind", "preferences.overdue"}
    assert said(caught.value.fields["preferences.overdue"][0], "en").startswith("Choose at once")
    assert _stored() == set()


def test_only_a_person_has_preferences(app: Flask) -> None:
    with pytest.raises(NotAllowed):
        service.set_preferences(SYSTEM, {"due_soon": "off"})
