"""Figures kept while the data stands still: reused, refreshed when it changes, keyed.

The mark is the data generation (core.changes), moved by the tables themselves whoever
writes; SQL typed by hand goes around it, which shows when a kept figure is reused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select, text, update

from grants.awards.models import Grant
from grants.core import audit, audit_marks
from grants.core.actors import SYSTEM
from grants.core.db import Page
from grants.core.states import GrantState
from grants.extensions import db
from grants.portfolio import queries as portfolio
from grants.programs import queries as programme_queries
from grants.programs.models import BudgetPool
from grants.releases import queries as release_queries
from tests.support.approvals import approve
from tests.support.grants import make_grant
from tests.support.queries import count_queries

TODAY = date(2026, 11, 1)


def _awaiting(**asked: Any) -> release_queries.AwaitingPage:
    return release_queries.awaiting_release(release_queries.RELEASES.query(**asked))


def _portfolio() -> Page:
    return portfolio.portfolio(SYSTEM, TODAY, portfolio.PORTFOLIO.query())


def _counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_reused_until_the_data_changes(app: Flask, kept_figures: None) -> None:
    world = make_grant()
    calls, compute = _counter()
    assert audit_marks.kept("n", None, compute) == 1
    assert audit_marks.kept("n", None, compute) == 1
    audit.record(SYSTEM, "test.mark", world.grant)  # an audit event alone changes no data
    db.session.commit()
    assert audit_marks.kept("n", None, compute) == 1
    world.milestones[0].title = "Renamed"
    db.session.commit()
    assert audit_marks.kept("n", None, compute) == 2
    assert len(calls) == 2


def test_keys_and_names_are_kept_apart(app: Flask, kept_figures: None) -> None:
    make_grant()
    _, compute = _counter()
    keys = [("a", 1), ("a", 2), ("b", 1), ("a", 1)]
    assert [audit_marks.kept(name, key, compute) for name, key in keys] == [1, 2, 3, 1]


def test_sign_ins_are_not_marks(app: Flask, kept_figures: None) -> None:
    world = make_grant()
    _, compute = _counter()
    audit_marks.kept("n", None, compute)
    audit.record(world.applicant, "user.login", world.applicant)
    db.session.commit()
    assert audit_marks.kept("n", None, compute) == 1


def test_any_write_moves_the_mark_without_an_audit_event(app: Flask) -> None:
    world = make_grant()
    _, compute = _counter()
    values = [audit_marks.kept("n", None, compute)]
    db.session.execute(update(Grant).where(Grant.id == world.grant.id).values(number="X-1"))
    db.session.commit()
    values.append(audit_marks.kept("n", None, compute))
    assert values == [1, 2]


def _by_hand(sql: str, **values: object) -> None:
    """A repair typed in SQL: around the stamps, so the data generation stands still."""
    db.session.execute(text(sql), values)
    db.session.commit()


def test_budget_figures_follow_the_data(app: Flask, kept_figures: None) -> None:
    make_grant(appropriation=1_000_000_000)
    assert programme_queries.budget_by_year()[0].appropriation == 1_000_000_000
    pool = db.session.scalars(select(BudgetPool)).first()
    assert pool is not None
    _by_hand("UPDATE budget_pool SET appropriation = 2000000000 WHERE id = :id", id=pool.id)
    assert programme_queries.budget_by_year()[0].appropriation == 1_000_000_000
    # any write through the database layer, a bulk UPDATE too, moves the mark
    db.session.execute(
        update(BudgetPool).where(BudgetPool.id == pool.id).values(appropriation=2_000_000_000)
    )
    db.session.commit()
    assert programme_queries.budget_by_year()[0].appropriation == 2_000_000_000


def test_the_mark_is_read_once_per_transaction(app: Flask, kept_figures: None) -> None:
    make_grant()
    _, compute = _counter()
    with count_queries() as first:
        audit_marks.kept("a", None, compute)
        audit_marks.kept("b", None, compute)
    assert len(_selects(first)) == 1  # one mark for both figures
    db.session.commit()  # a new transaction may see newer marks
    with count_queries() as second:
        audit_marks.kept("a", None, compute)
    assert len(_selects(second)) == 1


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_awaiting_totals_and_portfolio_size_follow_the_data(app: Flask, kept_figures: None) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    assert _awaiting().total == 1
    assert _portfolio().total == 1
    _by_hand("UPDATE grant_award SET state = 'terminated' WHERE id = :id", id=world.grant.id)
    assert (_awaiting().total, _portfolio().total) == (1, 1)
    world.grant.state = GrantState.terminated  # the same, through the ORM: stamped
    world.grant.termination_reason = "Ended."
    db.session.commit()
    assert (_awaiting().total, _portfolio().total) == (0, 0)
