"""Money needs two people: the awarding officer does not release, and a tranche above the
programme's threshold is prepared by one officer and approved by another, exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.accounts.models import User
from grants.awards.models import Disbursement, PreparedRelease
from grants.awards.rules import PreparedReleaseState
from grants.core.audit import verify_chain
from grants.core.errors import Conflict, NotAllowed, RuleViolation
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer
from tests.support.grants import GrantWorld, make_grant
from tests.support.races import at_once

TODAY = date(2026, 10, 15)
THRESHOLD = 150_000_000  # milestone 1 (1億円) goes alone, milestone 2 (2億円) needs two


def _world(awarded_by: User | None = None, separate: bool = True) -> GrantWorld:
    world = make_grant()
    world.program.release_approval_threshold = THRESHOLD
    world.program.separate_award_and_release = separate
    world.grant.awarded_by_id = awarded_by.id if awarded_by else None
    db.session.commit()
    approve(world, world.milestones[0], world.milestones[1])
    return world


def _audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_large_tranche_is_prepared_by_one_officer_and_approved_by_another(app: Flask) -> None:
    world = _world()
    large = world.milestones[1]
    preparer, approver = officer(), officer()
    with pytest.raises(NotAllowed, match="above the programme's release threshold"):
        releases.release(preparer, large.id, TODAY)

    prepared = releases.prepare_release(preparer, large.id, TODAY)
    assert (prepared.state, prepared.amount) == (PreparedReleaseState.pending, 200_000_000)
    assert db.session.query(Disbursement).count() == 0  # nothing moves yet
    pool = db.session.scalars(select(BudgetPool).filter_by(fiscal_year=2026)).one()
    assert pool.released == 0  # milestones 1 and 2 fall in FY2026

    with pytest.raises(NotAllowed, match="You prepared this release"):
        releases.approve_release(preparer, prepared.id, TODAY)
    with pytest.raises(Conflict, match="prepared and waits for a second officer"):
        releases.prepare_release(approver, large.id, TODAY)

    disbursement = releases.approve_release(approver, prepared.id, TODAY)
    assert (disbursement.amount, disbursement.released_by_id) == (200_000_000, approver.id)
    db.session.refresh(prepared)
    assert prepared.state == PreparedReleaseState.approved
    assert (prepared.decided_by_id, prepared.disbursement_id) == (approver.id, disbursement.id)
    assert pool.released == 200_000_000
    [prepare_event] = _audited("tranche.prepare")
    [approve_event] = _audited("tranche.approve")
    [release_event] = _audited("tranche.release")
    assert prepare_event.actor_id == preparer.id and approve_event.actor_id == approver.id
    assert release_event.after["prepared_by_id"] == preparer.id
    assert verify_chain().ok

    with pytest.raises(Conflict, match="already been released"):
        releases.approve_release(officer(), prepared.id, TODAY)


def test_a_tranche_at_the_threshold_goes_with_one_officer(app: Flask) -> None:
    world = _world()
    world.program.release_approval_threshold = 100_000_000  # only "above" it needs two
    db.session.commit()
    assert releases.release(officer(), world.milestones[0].id, TODAY).amount == 100_000_000


def test_the_awarding_officer_is_refused_the_release(app: Flask) -> None:
    awarder = officer()
    world = _world(awarded_by=awarder)
    small = world.milestones[0]
    with pytest.raises(NotAllowed, match="You awarded this grant"):
        releases.release(awarder, small.id, TODAY)
    # the awarding officer may prepare; another officer approves
    prepared = releases.prepare_release(awarder, world.milestones[1].id, TODAY)
    with pytest.raises(NotAllowed, match="You awarded this grant"):
        releases.approve_release(awarder, prepared.id, TODAY)
    assert releases.approve_release(officer(), prepared.id, TODAY).amount == 200_000_000
    assert releases.release(officer(), small.id, TODAY).amount == 100_000_000


def test_a_programme_may_let_the_awarding_officer_release(app: Flask) -> None:
    awarder = officer()
    world = _world(awarded_by=awarder, separate=False)
    assert releases.release(awarder, world.milestones[0].id, TODAY).amount == 100_000_000


def test_a_prepared_release_is_cancelled_and_prepared_again(app: Flask) -> None:
    world = _world()
    large = world.milestones[1]
    first, second = officer(), officer()
    prepared = releases.prepare_release(first, large.id, TODAY)
    cancelled = releases.cancel_release(second, prepared.id)
    assert cancelled.state == PreparedReleaseState.cancelled
    assert cancelled.decided_by_id == second.id
    with pytest.raises(Conflict, match="No release of this tranche waits for approval"):
        releases.approve_release(officer(), prepared.id, TODAY)
    with pytest.raises(Conflict, match="No release of this tranche waits"):
        releases.cancel_release(first, prepared.id)
    again = releases.prepare_release(second, large.id, TODAY)
    # the first one's id no longer names the waiting release
    with pytest.raises(Conflict, match="approved or cancelled meanwhile"):
        releases.approve_release(first, prepared.id, TODAY)
    assert releases.approve_release(first, again.id, TODAY).amount == 200_000_000
    assert [e.actor_id for e in _audited("tranche.cancel_prepared")] == [second.id]


def test_an_approval_after_the_tranche_changed_is_refused(app: Flask) -> None:
    world = _world()
    large = world.milestones[1]
    prepared = releases.prepare_release(officer(), large.id, TODAY)
    large.tranche_amount = 180_000_000  # an amendment re-split the tranches meanwhile
    db.session.commit()
    with pytest.raises(Conflict, match="The tranche changed after this release was prepared"):
        releases.approve_release(officer(), prepared.id, TODAY)
    assert db.session.query(Disbursement).count() == 0
    db.session.refresh(prepared)
    assert prepared.state == PreparedReleaseState.pending


def test_gates_are_checked_again_at_approval(app: Flask) -> None:
    world = _world()
    large = world.milestones[1]
    prepared = releases.prepare_release(officer(), large.id, TODAY)
    pool = db.session.scalars(select(BudgetPool).filter_by(fiscal_year=2026)).one()
    pool.appropriation = pool.committed + pool.released - 1  # no room left meanwhile
    db.session.commit()
    with pytest.raises(RuleViolation, match="cannot be released"):
        releases.approve_release(officer(), prepared.id, TODAY)
    assert db.session.query(Disbursement).count() == 0
    assert _audited("tranche.approve") == []


def test_preparing_needs_passing_gates(app: Flask) -> None:
    world = make_grant()
    world.program.release_approval_threshold = THRESHOLD
    db.session.commit()
    approve(world, world.milestones[1])  # milestone 1 is not approved: a gate fails
    with pytest.raises(RuleViolation, match="cannot be released"):
        releases.prepare_release(officer(), world.milestones[1].id, TODAY)
    assert db.session.query(PreparedRelease).count() == 0


def test_two_approvers_at_once_release_exactly_once(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Row-lock races need PostgreSQL; SQLite serialises whole transactions.")
    world = _world()
    prepared = releases.prepare_release(officer(), world.milestones[1].id, TODAY)
    approvers = [officer().id for _ in range(2)]
    prepared_id = prepared.id
    db.session.rollback()  # the test's own session holds nothing while the threads run

    results = at_once(
        app,
        lambda actor, pid: releases.approve_release(actor, pid, TODAY).id,
        [(approver, prepared_id) for approver in approvers],
    )

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert [type(r) for r in results if not isinstance(r, int)] == [Conflict], results
    assert db.session.query(Disbursement).count() == 1
    assert len(_audited("tranche.approve")) == len(_audited("tranche.release")) == 1
    pool = db.session.scalars(select(BudgetPool).filter_by(fiscal_year=2026)).one()
    assert pool.released == 200_000_000
    assert verify_chain().ok


def test_terminating_the_grant_cancels_its_prepared_releases(app: Flask) -> None:
    from grants.awards.termination import service as termination
    from grants.releases.queries import prepared_waiting

    world = _world()
    prepared = releases.prepare_release(officer(), world.milestones[1].id, TODAY)
    assert prepared_waiting() == 1
    ender = officer()
    termination.terminate(ender, world.grant.id, "No-Go at the interim review.", TODAY)
    db.session.refresh(prepared)
    assert (prepared.state, prepared.decided_by_id) == (PreparedReleaseState.cancelled, ender.id)
    [ended] = _audited("grant.terminate")
    assert ended.after["prepared_releases_cancelled"] == [prepared.id]
    assert prepared_waiting() == 0
    with pytest.raises(Conflict):
        releases.approve_release(officer(), prepared.id, TODAY)
