"""Which milestones the audited change of each kind of object sends the next scan to read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.alerts.scan.changes import changed_milestones
from grants.awards.models import (
    Amendment,
    ConflictDeclaration,
    Disbursement,
    EvidenceFile,
    EvidenceSubmission,
    Review,
    ReviewerAssignment,
)
from grants.core.identity import Role
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
    return _saved(
        Amendment(
            grant_id=world.grant.id, milestone_id=world.milestones[0].id,
            kind=AmendmentKind.due_date, state=AmendmentState.approved,
            new_due_date=date(2026, 12, 1), reason="-",
        )
    )  # fmt: skip


def _assignment(world: GrantWorld) -> int:
    query = select(ReviewerAssignment.id).where(ReviewerAssignment.grant_id == world.grant.id)
    return int(db.session.scalars(query).first())  # type: ignore[arg-type]


def _conflict(world: GrantWorld) -> int:
    reviewer = world.reviewers[0]
    return _saved(ConflictDeclaration(reviewer_id=reviewer.id, grant_id=world.grant.id, note="-"))


FIRST = "the first milestone"
EVERY = "every milestone of the grant"
# Each object type the scan places, how to make one, and what an event on it touches.
PLACED: dict[str, tuple[Callable[[GrantWorld], int], str]] = {
    "milestone": (lambda world: world.milestones[0].id, FIRST),
    "evidence_submission": (_submission, FIRST),
    "evidence_file": (_file, FIRST),
    "review": (_review, FIRST),
    "disbursement": (_disbursement, FIRST),
    "grant_award": (lambda world: world.grant.id, EVERY),
    "application": (lambda world: world.grant.application_id, EVERY),
    "amendment": (_amendment, EVERY),
    "reviewer_assignment": (_assignment, EVERY),
    "conflict_declaration": (_conflict, EVERY),
    "user_account": (lambda world: world.reviewers[0].id, EVERY),
}


@pytest.mark.parametrize("object_type", sorted(PLACED))
def test_each_placed_object_sends_the_scan_to_its_milestones(app: Flask, object_type: str) -> None:
    world = make_grant()
    make_grant(code="OTHER")  # whose milestones no event names
    make, touched = PLACED[object_type]
    expected = [world.milestones[0].id] if touched == FIRST else [m.id for m in world.milestones]
    assert changed_milestones([(object_type, str(make(world)))]) == frozenset(expected)


def test_unrelated_objects_touch_nothing_and_unknown_ones_touch_everything(app: Flask) -> None:
    world = make_grant()
    assert changed_milestones([("program", str(world.program.id)), ("rule_set", "1")]) == set()
    assert changed_milestones([("somewhere_new", "1")]) is None
    assert changed_milestones([("milestone", "not-a-number")]) is None
