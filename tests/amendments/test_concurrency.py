"""Amendments of one grant at the same moment on PostgreSQL: the grant's row lock serialises
them. Two officers approving due-date amendments: the second re-checks the order against the
milestone the first one moved, so the milestones never end up out of order. Two requests
for one milestone: the second sees the first pending and is refused."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.accounts.models import User
from grants.amendments import service as amendments
from grants.awards.models import Amendment, Milestone
from grants.core.errors import DomainError, RuleViolation
from grants.core.states import AmendmentKind, AmendmentState
from grants.extensions import db
from tests.support.approvals import officer
from tests.support.grants import make_grant
from tests.support.races import at_once

TODAY = date(2026, 8, 1)
ROUNDS = 5


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Row-lock races need PostgreSQL; SQLite serialises whole transactions. "
            "Run with GRANTS_TEST_DATABASE=postgresql."
        )


def _decide_at_once(app: Flask, jobs: list[tuple[int, int]]) -> list[object]:
    """decide_amendment(officer, amendment, approve) for every job at the same moment."""

    def decide(actor: User, amendment_id: int) -> int:
        return amendments.decide_amendment(actor, amendment_id, True, "", TODAY).id

    return at_once(app, decide, jobs)


def _request(world, index: int, day: date) -> int:  # type: ignore[no-untyped-def]
    return amendments.request_amendment(
        world.applicant, world.grant.id, AmendmentKind.due_date, world.milestones[index].id,
        day, None, "Moved.", TODAY,
    ).id  # fmt: skip


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_crossing_amendments_approved_at_once_keep_the_order(app: Flask, attempt: int) -> None:
    world = make_grant(code=f"AO-{attempt}")  # due 2026-09-30, 2027-03-30, 2027-09-30
    later_second = _request(world, 1, date(2027, 6, 30))  # each fine on its own
    earlier_third = _request(world, 2, date(2027, 5, 31))
    jobs = [(officer().id, later_second), (officer().id, earlier_third)]
    grant_id = world.grant.id
    db.session.rollback()

    results = _decide_at_once(app, jobs)

    approved = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(approved) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], RuleViolation) and "new_due_date" in refused[0].fields
    assert all(isinstance(r, DomainError) for r in refused)
    db.session.expire_all()
    dues = db.session.scalars(
        select(Milestone.due_date)
        .where(Milestone.grant_id == grant_id)
        .order_by(Milestone.sequence)
    ).all()
    assert dues == sorted(dues) and len(set(dues)) == len(dues), dues
    states = {a.id: a.state for a in db.session.scalars(select(Amendment))}
    assert sorted(states.values()) == [AmendmentState.approved, AmendmentState.requested]


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_two_requests_for_one_milestone_at_once_leave_one_pending(app: Flask, attempt: int) -> None:
    """The grant's row lock serialises requests: the second sees the first as pending."""
    world = make_grant(code=f"AP-{attempt}")
    milestone_id, grant_id = world.milestones[1].id, world.grant.id
    days = [date(2027, 4, 30), date(2027, 5, 31)]
    jobs = [(world.applicant.id, days[0]), (world.applicant.id, days[1])]
    db.session.rollback()

    def request(actor: User, day: date) -> int:
        return amendments.request_amendment(
            actor, grant_id, AmendmentKind.due_date, milestone_id, day, None, "Moved.", TODAY
        ).id

    results = at_once(app, request, jobs)

    created = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(created) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], RuleViolation) and "milestone_id" in refused[0].fields
    pending = db.session.scalars(
        select(Amendment).where(Amendment.state == AmendmentState.requested)
    ).all()
    assert [a.id for a in pending] == created
