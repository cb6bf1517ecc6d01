"""Which kinds each role chooses for: every kind reaches some role, in the vocabulary's order."""

from __future__ import annotations

from grants.alerts.preferences.rules import KIND_ROLES, kinds_for
from grants.core.alert_kinds import AlertKind
from grants.core.identity import Role


def test_every_kind_reaches_some_role() -> None:
    assert set(KIND_ROLES) == set(AlertKind)
    assert all(KIND_ROLES[kind] for kind in AlertKind)


def test_each_role_chooses_for_its_own_kinds_in_order() -> None:
    assert kinds_for(Role.admin) == (AlertKind.escalation,)
    assert kinds_for(Role.reviewer) == (
        AlertKind.review_waiting,
        AlertKind.reviewer_assigned,
        AlertKind.evidence_submitted,
        AlertKind.grant_terminated,
    )
    for role in Role:
        kinds = kinds_for(role)
        assert list(kinds) == sorted(kinds, key=list(AlertKind).index)
        assert all(role in KIND_ROLES[kind] for kind in kinds)
    assert set().union(*(kinds_for(role) for role in Role)) == set(AlertKind)
