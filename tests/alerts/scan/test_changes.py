"""Which milestones a change to each kind of row the scan reads sends the next scan to read.

Every such row is stamped with the data generation it changed in, by the table itself
(core.changes), however it is written: here the rows are written directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select, update

from grants.accounts.models import ConflictDeclaration, Organization
from grants.alerts.scan.changes import changed_milestones
from grants.applications.models import CoInvestment
from grants.awards.models import (
    Amendment,
    Disbursement,
    EvidenceFile,
    EvidenceSubmission,
    Review,
    ReviewerAssignment,
)
from grants.core import changes
from grants.core.identity import OrgKind, Role
from grants.core.states import AmendmentKind, AmendmentState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.alerts import staff
from tests.support.grants import GrantWorld, make_grant


def _saved(row: object) -> int:
    db.session.add(row)
    db.session.commit()
    return row.id  # type: ignore[attr-defined, no-any-return]


def _submission(world: GrantWorld) -> int:
    milestone = world.milestones[0]
    return _saved(
        EvidenceSubmission(milestone_id=milestone.id, round=1, narrative="-", measured=[])
    )


def _file(world: GrantWorld) -> int:
    return _saved(
        EvidenceFile(
            submission_id=_submission(world), original_name="r.pdf", stored_name="x" * 32,
            content_type="application/pdf", size=1, sha256="0" * 64,
        )
    )  # fmt: skip


def _review(world: GrantWorld) -> int:
    milestone, reviewer = world.milestones[0], world.reviewers[0]
    return _saved(
        Review(
            milestone_id=milestone.id, submission_id=_submission(world),
            reviewer_id=reviewer.id, decision="approve", comment="",
        )
    )  # fmt: skip


def _disbursement(world: GrantWorld) -> int:
    milestone = world.milestones[0]
    pool = db.session.scalars(select(BudgetPool).where(BudgetPool.program_id == world.program.id))
    return _saved(
        Disbursement(
            milestone_id=milestone.id, grant_id=world.grant.id, budget_pool_id=pool.first().id,
            amount=milestone.tranche_amount, fiscal_year=milestone.fiscal_year,
            released_by_id=staff(Role.officer).id,
        )
    )  # fmt: skip


def _amendment(world: GrantWorld) -> int:
    """An approved due-date change: the amendment, and the milestone it moves."""
    milestone = world.milestones[0]
    amendment = _saved(
        Amendment(
            grant_id=world.grant.id, milestone_id=milestone.id,
            kind=AmendmentKind.due_date, state=AmendmentState.approved,
            new_due_date=date(2026, 12, 1), reason="-",
        )
    )  # fmt: skip
    milestone.due_date = date(2026, 12, 1)
    db.session.commit()
    return amendment


def _touched(row: object) -> int:
    """A row changed in place (an update of any of its columns)."""
    db.session.execute(
        update(type(row)).where(type(row).id == row.id).values(id=row.id)  # type: ignore[attr-defined]
    )
    db.session.commit()
    return row.id  # type: ignore[attr-defined, no-any-return]


def _assignment(world: GrantWorld) -> int:
    query = select(ReviewerAssignment).where(ReviewerAssignment.grant_id == world.grant.id)
    return _touched(db.session.scalars(query).first())


def _co_investment(world: GrantWorld) -> int:
    query = select(CoInvestment).where(CoInvestment.application_id == world.grant.application_id)
    return _touched(db.session.scalars(query).first())


def _conflict(world: GrantWorld) -> int:
    reviewer = world.reviewers[0]
    return _saved(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="-"))


FIRST = "the first milestone"
EVERY = "every milestone of the grant"
# Each object type the scan places, how to make one, and what an event on it touches.
PLACED: dict[str, tuple[Callable[[GrantWorld], int], str]] = {
    "milestone": (lambda world: _touched(world.milestones[0]), FIRST),
    "evidence_submission": (_submission, FIRST),
    "evidence_file": (_file, FIRST),
    "review": (_review, FIRST),
    "disbursement": (_disbursement, FIRST),
    "amendment": (_amendment, FIRST),
    "grant_award": (lambda world: _touched(world.grant), EVERY),
    "co_investment": (_co_investment, EVERY),
    "rule_set": (lambda world: _touched(world.ruleset), EVERY),
    "reviewer_assignment": (_assignment, EVERY),
    "conflict_declaration": (_conflict, EVERY),
    "user_account": (lambda world: _touched(world.reviewers[0]), EVERY),
}


@pytest.mark.parametrize("object_type", sorted(PLACED))
def test_each_changed_row_sends_the_scan_to_its_milestones(app: Flask, object_type: str) -> None:
    world = make_grant()
    make_grant(code="OTHER")  # whose milestones nothing changes
    since = changes.current(db.session())
    make, touched = PLACED[object_type]
    make(world)
    expected = [world.milestones[0].id] if touched == FIRST else [m.id for m in world.milestones]
    assert changed_milestones(since) == frozenset(expected)


def test_unrelated_rows_touch_nothing(app: Flask) -> None:
    world = make_grant()
    since = changes.current(db.session())
    _touched(world.program)
    pool = db.session.scalars(select(BudgetPool).where(BudgetPool.program_id == world.program.id))
    _touched(pool.first())
    _saved(Organization(name="New", kind=OrgKind.company))
    assert changes.current(db.session()) > since  # the data moved: kept figures are redone
    assert changed_milestones(since) == set()
    assert changed_milestones(changes.current(db.session())) == set()
