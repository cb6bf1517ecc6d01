"""The data generation: moved once per writing transaction, stamped by the tables themselves."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, insert, select, update

from grants.awards.models import Milestone, ReviewerAssignment
from grants.core import changes
from grants.extensions import db
from tests.support.grants import make_grant


def _now() -> int:
    value = changes.current(db.session())
    db.session.rollback()
    return value


def test_one_move_per_transaction_whatever_it_writes(app: Flask) -> None:
    world = make_grant()
    before = _now()
    first, second = world.milestones[:2]
    first.title = "One"
    db.session.flush()
    second.title = "Two"
    db.session.commit()
    assert _now() == before + 1
    assert first.changed_in == second.changed_in == before + 1


def test_bulk_updates_and_executemany_inserts_stamp_too(app: Flask) -> None:
    world = make_grant()
    before = _now()
    M = Milestone.__table__
    db.session.execute(update(M).where(M.c.grant_id == world.grant.id).values(title="Bulk"))
    reviewers = [r.id for r in world.reviewers]
    RA = ReviewerAssignment.__table__
    db.session.execute(delete(RA).where(RA.c.grant_id == world.grant.id))
    db.session.execute(
        insert(RA), [{"grant_id": world.grant.id, "reviewer_id": r} for r in reviewers]
    )
    db.session.commit()
    stamps = db.session.scalars(select(M.c.changed_in).where(M.c.grant_id == world.grant.id))
    assert set(stamps) == {before + 1}
    assigned = db.session.scalars(select(RA.c.changed_in).where(RA.c.grant_id == world.grant.id))
    assert set(assigned) == {before + 1}


def test_deletes_move_it_and_rollbacks_leave_it(app: Flask) -> None:
    world = make_grant()
    before = _now()
    db.session.delete(db.session.scalars(select(ReviewerAssignment)).first())
    db.session.commit()
    assert _now() == before + 1
    RA = ReviewerAssignment.__table__
    db.session.execute(delete(RA).where(RA.c.grant_id == world.grant.id))
    db.session.commit()
    assert _now() == before + 2
    world.milestones[0].title = "Never"
    db.session.flush()
    db.session.rollback()
    assert _now() == before + 2
    assert db.session.get(Milestone, world.milestones[0].id).changed_in <= before  # type: ignore[union-attr]


def test_reading_moves_nothing(app: Flask) -> None:
    make_grant()
    before = _now()
    list(db.session.scalars(select(Milestone)))
    db.session.commit()
    assert _now() == before and not changes.written(db.session())
