"""Concurrent releases on PostgreSQL: row locks give exactly one disbursement, no overdraw.

Each thread has its own app context, hence its own session and connection, and they all
call the service at the same moment (a barrier). SQLite serialises whole transactions
(BEGIN IMMEDIATE), so the race only exists, and is only tested, on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.awards.models import Disbursement, Milestone
from grants.core.audit import verify_chain
from grants.core.errors import Conflict, RuleViolation
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer, sibling_grant, without_budget_gate
from tests.support.grants import make_grant
from tests.support.races import at_once

TODAY = date(2026, 10, 15)
THREADS = 20


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Row-lock races need PostgreSQL; SQLite serialises whole transactions. "
            "Run with GRANTS_TEST_DATABASE=postgresql."
        )


def _release_all(app: Flask, jobs: list[tuple[int, int]]) -> list[object]:
    """Run release(officer_id, milestone_id) for every job at once; the results in order."""
    return at_once(
        app, lambda actor, milestone_id: releases.release(actor, milestone_id, TODAY).id, jobs
    )


def _pool(program_id: int, year: int) -> BudgetPool:
    db.session.expire_all()
    query = select(BudgetPool).where(
        BudgetPool.program_id == program_id, BudgetPool.fiscal_year == year
    )
    return db.session.scalars(query).one()


def test_twenty_officers_releasing_one_milestone_make_one_disbursement(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    officer_ids = [officer().id for _ in range(THREADS)]
    milestone_id, program_id = world.milestones[0].id, world.program.id
    db.session.rollback()  # the test's own session holds nothing while the threads run

    results = _release_all(app, [(officer_id, milestone_id) for officer_id in officer_ids])

    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1, results
    assert len(losers) == THREADS - 1 and all(isinstance(r, Conflict) for r in losers), losers
    assert db.session.query(Disbursement).filter_by(milestone_id=milestone_id).count() == 1
    pool = _pool(program_id, 2026)
    assert (pool.released, pool.committed) == (100_000_000, 200_000_000)
    assert db.session.query(AuditEvent).filter_by(action="tranche.release").count() == 1
    assert verify_chain().ok


def test_concurrent_releases_never_overdraw_the_pool(app: Flask) -> None:
    # Six grants of one programme, each with one approved 1億円 tranche in FY2026, and
    # a pool of 2.5億円: only two fit. The pool gate is off, so the hard check decides.
    world = make_grant(tranches=(100_000_000,), appropriation=250_000_000)
    without_budget_gate(world)
    worlds = [world] + [sibling_grant(world, f"SIB-{n}") for n in range(5)]
    for each in worlds:
        approve(each, each.milestones[0])
    milestone_ids = [each.milestones[0].id for each in worlds]
    jobs = [(officer().id, milestone_ids[n % len(milestone_ids)]) for n in range(THREADS)]
    program_id = world.program.id
    assert _pool(program_id, 2026).committed == 600_000_000
    db.session.rollback()

    results = _release_all(app, jobs)

    winners = [r for r in results if isinstance(r, int)]
    refusals = Counter(type(r).__name__ for r in results if not isinstance(r, int))
    assert len(winners) == 2, results
    assert set(refusals) <= {"RuleViolation", "Conflict"}, results
    assert sum(refusals.values()) == THREADS - 2
    overdraws = [r for r in results if isinstance(r, RuleViolation)]
    assert overdraws and all(r.fields.get("pool") for r in overdraws)
    pool = _pool(program_id, 2026)
    assert pool.released == 200_000_000 <= pool.appropriation
    assert pool.committed == 400_000_000
    disbursed = db.session.scalars(select(Disbursement.milestone_id)).all()
    assert len(disbursed) == len(set(disbursed)) == 2
    assert sum(db.session.scalars(select(Disbursement.amount))) == pool.released
    released_states = db.session.scalars(
        select(Milestone.state).where(Milestone.id.in_(disbursed))
    ).all()
    assert all(state == "approved" for state in released_states)
    assert verify_chain().ok
