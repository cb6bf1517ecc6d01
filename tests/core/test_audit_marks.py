"""Figures kept while the audit log stands still: reused, refreshed by a mark, keyed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import select

from grants.core import audit, audit_marks
from grants.core.actors import SYSTEM
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


def _counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_reused_until_an_audited_change(app: Flask, kept_figures: None) -> None:
    world = make_grant()
    calls, compute = _counter()
    assert audit_marks.kept("n", None, compute) == 1
    assert audit_marks.kept("n", None, compute) == 1
    audit.record(SYSTEM, "test.mark", world.grant)
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


def test_off_in_testing_configuration(app: Flask) -> None:
    make_grant()
    _, compute = _counter()
    assert [audit_marks.kept("n", None, compute) for _ in range(2)] == [1, 2]


def test_budget_figures_follow_the_audit_log(app: Flask, kept_figures: None) -> None:
    world = make_grant(appropriation=1_000_000_000)
    audit.record(SYSTEM, "test.mark", world.grant)
    db.session.commit()
    assert programme_queries.budget_by_year()[0].appropriation == 1_000_000_000
    pool = db.session.scalars(select(BudgetPool)).first()
    assert pool is not None
    pool.appropriation = 2_000_000_000  # around the services: not seen
    db.session.commit()
    assert programme_queries.budget_by_year()[0].appropriation == 1_000_000_000
    audit.record(SYSTEM, "test.mark", pool)  # what every service does
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


def test_awaiting_totals_and_portfolio_size_follow_the_audit_log(
    app: Flask, kept_figures: None
) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    audit.record(SYSTEM, "test.mark", world.grant)
    db.session.commit()
    assert release_queries.awaiting_release().total == 1
    assert portfolio.portfolio(TODAY).total == 1
    world.grant.state = GrantState.terminated  # around the services: not seen
    db.session.commit()
    assert (release_queries.awaiting_release().total, portfolio.portfolio(TODAY).total) == (1, 1)
    audit.record(SYSTEM, "test.mark", world.grant)
    db.session.commit()
    assert (release_queries.awaiting_release().total, portfolio.portfolio(TODAY).total) == (0, 0)
