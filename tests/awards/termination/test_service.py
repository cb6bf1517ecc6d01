"""Terminating a grant: remaining tranches cancelled, their commitments back in the pools."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.awards.models import Grant, Milestone
from grants.awards.termination import queries as termination_queries
from grants.awards.termination import service as terminations
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import said

TODAY = date(2026, 11, 1)


def _pools(world: GrantWorld) -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    query = select(BudgetPool).where(BudgetPool.program_id == world.program.id)
    return {p.fiscal_year: (p.committed, p.released) for p in db.session.scalars(query)}


def _states(world: GrantWorld) -> list[MilestoneState]:
    db.session.expire_all()
    query = select(Milestone.state).where(Milestone.grant_id == world.grant.id)
    return list(db.session.scalars(query.order_by(Milestone.sequence)))


def test_termination_cancels_the_rest_and_returns_the_commitments(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000, 200_000_000, 300_000_000, 400_000_000))
    m1, m2, m3, m4 = world.milestones
    approve(world, m1, m2)
    releases.release(officer(), m1.id, TODAY)  # m2 stays approved but unreleased
    m3.state = MilestoneState.rejected  # the no-go
    m4.overdue_since = TODAY  # flagged by the scan
    db.session.commit()
    assert _pools(world) == {2026: (200_000_000, 100_000_000), 2027: (700_000_000, 0)}
    actor = make_user(Role.officer)

    plan = termination_queries.plan(db.session.get(Grant, world.grant.id))
    assert [m.sequence for m in plan.cancelled] == [2, 3, 4]
    assert plan.returned == {2026: 200_000_000, 2027: 700_000_000} and plan.total == 900_000_000

    grant = terminations.terminate(actor, world.grant.id, " Phase 1 no-go ", TODAY)
    assert grant.state == GrantState.terminated and grant.terminated_at is not None
    assert grant.termination_reason == "Phase 1 no-go"
    approved, cancelled, no_go = (
        MilestoneState.approved,
        MilestoneState.cancelled,
        MilestoneState.rejected,
    )
    assert _states(world) == [approved, cancelled, no_go, cancelled]  # the no-go stays on record
    assert db.session.get(Milestone, m4.id).overdue_since is None
    assert _pools(world) == {2026: (0, 100_000_000), 2027: (0, 0)}
    event = db.session.query(AuditEvent).filter_by(action="grant.terminate").one()
    assert event.actor_id == actor.id and event.before["state"] == "active"
    assert event.after["state"] == "terminated" and event.after["reason"] == "Phase 1 no-go"
    assert [c["from"] for c in event.after["cancelled"]] == ["approved", "rejected", "planned"]
    assert event.after["returned"] == {"2026": 200_000_000, "2027": 700_000_000}
    assert event.before["pools"]["2027"]["committed"] == 700_000_000


def test_a_suspended_grant_can_be_terminated_with_submitted_milestones(app: Flask) -> None:
    world = make_grant()
    world.grant.state = GrantState.suspended
    world.milestones[0].state = MilestoneState.submitted
    world.milestones[1].state = MilestoneState.changes_requested
    db.session.commit()
    terminations.terminate(make_user(Role.officer), world.grant.id, "Sponsor withdrew", TODAY)
    assert _states(world) == [MilestoneState.cancelled] * 3
    assert _pools(world) == {2026: (0, 0), 2027: (0, 0)}


@pytest.mark.parametrize("state", [GrantState.completed, GrantState.terminated])
def test_only_active_or_suspended_grants_end(app: Flask, state: GrantState) -> None:
    world = make_grant()
    world.grant.state = state
    db.session.commit()
    with pytest.raises(Conflict):
        terminations.terminate(make_user(Role.officer), world.grant.id, "again", TODAY)
    assert _states(world) == [MilestoneState.planned] * 3
    assert _pools(world) == {2026: (300_000_000, 0), 2027: (300_000_000, 0)}


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_reason_is_required(app: Flask, reason: str) -> None:
    world = make_grant()
    with pytest.raises(RuleViolation) as caught:
        terminations.terminate(make_user(Role.officer), world.grant.id, reason, TODAY)
    assert "reason" in caught.value.fields
    assert db.session.get(Grant, world.grant.id).state == GrantState.active
    assert db.session.query(AuditEvent).filter_by(action="grant.terminate").count() == 0


def test_the_missing_reason_says_termination_as_everywhere_else(app: Flask) -> None:
    world = make_grant()
    with pytest.raises(RuleViolation) as caught:
        terminations.terminate(make_user(Role.officer), world.grant.id, " ", TODAY)
    assert said(caught.value.fields) == {"reason": ["助成案件を中止する理由を入力してください。"]}


@pytest.mark.parametrize("role", [Role.admin, Role.applicant, Role.reviewer])
def test_only_officers_terminate(app: Flask, role: Role) -> None:
    world = make_grant()
    for actor in (make_user(role), world.applicant, world.reviewers[0]):
        with pytest.raises(NotAllowed):
            terminations.terminate(actor, world.grant.id, "no", TODAY)
    assert db.session.get(Grant, world.grant.id).state == GrantState.active
    with pytest.raises(NotFound):
        terminations.terminate(make_user(Role.officer), 999, "no", TODAY)


def test_no_release_after_termination(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    terminations.terminate(make_user(Role.officer), world.grant.id, "Fraud", TODAY)
    with pytest.raises(Conflict):
        releases.release(officer(), world.milestones[0].id, TODAY)
    assert _pools(world) == {2026: (0, 0), 2027: (0, 0)}
