"""The officer portfolio: ordering, overdue flags, totals, budget table, constant query count."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from grants.awards.models import Disbursement
from grants.core.actors import SYSTEM
from grants.core.db import Page
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.portfolio import queries as portfolio
from grants.programs import queries as programme_queries
from grants.programs.models import BudgetPool
from grants.releases import queries as release_queries
from tests.support.alerts import run_scan
from tests.support.approvals import approve, sibling_grant
from tests.support.grants import GrantWorld, make_grant
from tests.support.queries import count_queries

TODAY = date(2026, 11, 1)


def _awaiting(**asked: Any) -> release_queries.AwaitingPage:
    return release_queries.awaiting_release(release_queries.RELEASES.query(**asked))


def _portfolio(**asked: Any) -> Page:
    """The portfolio on TODAY as an administrator reads it, asked as `asked` says."""
    return portfolio.portfolio(SYSTEM, TODAY, portfolio.PORTFOLIO.query(**asked))


def _world() -> dict[str, GrantWorld]:
    """Grants of one programme in every situation the portfolio distinguishes."""
    base = make_grant(code="PF")  # "PF-0001": next milestone due 2026-09-30, planned
    worlds = {"A": base}
    due = {
        "B": date(2026, 10, 15),
        "C": date(2026, 8, 1),
        "D": date(2027, 1, 1),
        "E": date(2026, 12, 1),
        "F": date(2026, 5, 1),
        "G": date(2026, 5, 1),
        "H": date(2026, 6, 1),
    }
    for name, day in due.items():
        worlds[name] = sibling_grant(
            base, f"PF-{name}", (10_000_000, 20_000_000), (day, date(2027, 6, 1))
        )
    worlds["B"].milestones[0].state = MilestoneState.changes_requested
    worlds["C"].milestones[0].state = MilestoneState.submitted  # waits for reviewers
    worlds["E"].grant.state = GrantState.suspended
    worlds["F"].grant.state = GrantState.completed
    worlds["G"].grant.state = GrantState.terminated
    db.session.commit()
    h = worlds["H"]
    approve(h, *h.milestones)
    pool = db.session.query(BudgetPool).filter_by(fiscal_year=2026).one()
    db.session.add(
        Disbursement(
            milestone_id=h.milestones[0].id,
            grant_id=h.grant.id,
            budget_pool_id=pool.id,
            amount=10_000_000,
            fiscal_year=2026,
            released_by_id=h.reviewers[0].id,
        )
    )
    db.session.commit()
    run_scan(TODAY)  # the scan flags the overdue ones (no grace by default)
    return worlds


def test_overdue_first_then_by_next_due_date(app: Flask) -> None:
    _world()
    page = _portfolio()
    assert [row.number for row in page.items] == [
        "PF-0001",  # 32 days overdue
        "PF-B",  # 17 days overdue (changes requested)
        "PF-C",  # due earliest, but submitted: waiting for reviewers, not overdue
        "PF-E",  # suspended grants stay in the portfolio
        "PF-D",
        "PF-H",  # no open milestone
    ]
    rows = {row.number: row for row in page.items}
    assert (rows["PF-0001"].overdue, rows["PF-0001"].days_overdue) == (True, 32)
    assert rows["PF-0001"].overdue_since == date(2026, 10, 1)
    assert (rows["PF-B"].overdue, rows["PF-B"].days_overdue) == (True, 17)
    assert rows["PF-B"].overdue_since == date(2026, 10, 16)
    assert rows["PF-B"].milestone_state == MilestoneState.changes_requested
    assert (rows["PF-C"].overdue, rows["PF-C"].days_overdue, rows["PF-C"].overdue_since) == (
        False,
        0,
        None,
    )
    assert rows["PF-0001"].milestone_title == "Milestone 1"
    assert rows["PF-0001"].milestone_due == date(2026, 9, 30)
    assert rows["PF-H"].milestone_id is None and not rows["PF-H"].overdue
    assert rows["PF-H"].released == 10_000_000 and rows["PF-H"].award == 30_000_000
    assert rows["PF-0001"].released == 0 and rows["PF-0001"].award == 600_000_000
    assert rows["PF-E"].state == GrantState.suspended
    assert rows["PF-0001"].program_code == "PF" and rows["PF-0001"].program("en") == (
        "Test programme"
    )
    assert page.total == 6 and page.pages == 1


def _flag(world: GrantWorld, since: date | None) -> None:
    world.milestones[0].overdue_since = since
    db.session.commit()


def test_the_flag_decides_overdue_and_its_date_the_order(app: Flask) -> None:
    """Past due is not overdue until the scan flags it (the grace period); the overdue
    come first by their flag's date, most overdue first, whatever their due dates."""
    base = make_grant(code="FL")  # FL-0001: due 30 September
    late = {
        "FL-GRACE": date(2026, 10, 20),  # past due, not flagged: within its grace
        "FL-EARLY-DUE": date(2026, 9, 1),  # due first, but a long grace: flagged last
        "FL-FIRST": date(2026, 10, 10),
        "FL-SECOND": date(2026, 10, 5),
    }
    worlds = {
        number: sibling_grant(base, number, (1_000_000, 2_000_000), (day, date(2027, 6, 1)))
        for number, day in late.items()
    }
    _flag(worlds["FL-EARLY-DUE"], date(2026, 10, 25))
    _flag(worlds["FL-FIRST"], date(2026, 10, 11))
    _flag(worlds["FL-SECOND"], date(2026, 10, 12))
    page = _portfolio()
    assert [row.number for row in page.items] == [
        "FL-FIRST",  # overdue since 11 October: 22 days
        "FL-SECOND",  # since 12 October
        "FL-EARLY-DUE",  # since 25 October
        "FL-0001",  # not flagged (no scan): by due date, 30 September
        "FL-GRACE",  # 20 October
    ]
    rows = {row.number: row for row in page.items}
    assert (rows["FL-FIRST"].overdue_since, rows["FL-FIRST"].days_overdue) == (
        date(2026, 10, 11),
        22,
    )
    assert not rows["FL-GRACE"].overdue and rows["FL-GRACE"].days_overdue == 0
    assert not rows["FL-0001"].overdue
    # pages cut the same order: the overdue part, then the others
    pages = [_portfolio(page=n, per_page=2).items for n in (1, 2, 3)]
    assert [row.number for items in pages for row in items] == [r.number for r in page.items]
    # the flag of a later milestone does not make the grant overdue: the next one decides
    worlds["FL-GRACE"].milestones[1].overdue_since = date(2026, 10, 1)
    db.session.commit()
    rows = {row.number: row for row in _portfolio().items}
    assert not rows["FL-GRACE"].overdue


def test_the_next_milestone_is_the_first_open_one(app: Flask) -> None:
    worlds = _world()
    a = worlds["A"]
    approve(a, a.milestones[0])
    rows = {row.number: row for row in _portfolio().items}
    assert rows["PF-0001"].milestone_title == "Milestone 2"
    assert rows["PF-0001"].milestone_due == date(2027, 3, 30)
    assert not rows["PF-0001"].overdue


def test_pagination(app: Flask) -> None:
    _world()
    first = _portfolio(per_page=4)
    assert [r.number for r in first.items] == ["PF-0001", "PF-B", "PF-C", "PF-E"]
    assert (first.total, first.pages, first.has_next, first.has_prev) == (6, 2, True, False)
    second = _portfolio(page=2, per_page=4)
    assert [r.number for r in second.items] == ["PF-D", "PF-H"]
    assert (second.has_next, second.prev_num) == (False, 1)
    past_the_end = _portfolio(page=9, per_page=4)  # the last page instead
    assert (past_the_end.page, past_the_end.items) == (2, second.items)


def test_filter_by_programme(app: Flask) -> None:
    _world()
    other = make_grant(code="OTHER")
    assert len(_portfolio().items) == 7
    only = _portfolio(program_id=other.program.id).items
    assert [r.number for r in only] == ["OTHER-0001"]


def test_budget_by_year(app: Flask) -> None:
    worlds = _world()
    other = make_grant(code="OTHER", appropriation=1_000_000_000)
    rows = programme_queries.budget_by_year()
    assert [(r.program_code, r.fiscal_year) for r in rows] == [
        ("OTHER", 2026),
        ("OTHER", 2027),
        ("PF", 2026),
        ("PF", 2027),
    ]
    first = rows[0]
    assert (first.appropriation, first.committed, first.released) == (
        1_000_000_000,
        300_000_000,
        0,
    )
    assert first.available == 700_000_000
    only = programme_queries.budget_by_year(worlds["A"].program.id)
    assert {r.program_code for r in only} == {"PF"} and len(only) == 2
    assert other.program.id not in {r.program_id for r in only}


def test_awaiting_release(app: Flask) -> None:
    _world()
    page = _awaiting()
    # H's second milestone is approved but not released; its first was released.
    assert [(r.number, r.title) for r in page.items] == [("PF-H", "PF-H milestone 2")]
    assert (page.total, page.amount) == (1, 20_000_000)


def test_awaiting_release_pages_oldest_due_first_with_the_sum_of_all(app: Flask) -> None:
    base = make_grant(code="AW", tranches=(1_000,))
    days = {"AW-LATE": date(2026, 9, 1), "AW-EARLY": date(2026, 7, 1), "AW-MID": date(2026, 8, 1)}
    for number, day in days.items():
        world = sibling_grant(base, number, (1_000_000 * day.month,), (day,))
        approve(world, *world.milestones)
    stopped = sibling_grant(base, "AW-STOPPED", (5,), (date(2026, 6, 1),))
    approve(stopped, *stopped.milestones)
    stopped.grant.state = GrantState.terminated
    other = make_grant(code="ZZ")
    approve(other, other.milestones[0])
    db.session.commit()
    first = _awaiting(program_id=base.program.id, page=1, per_page=2)
    assert [r.number for r in first.items] == ["AW-EARLY", "AW-MID"]
    assert (first.total, first.amount, first.pages) == (3, 24_000_000, 2)
    second = _awaiting(program_id=base.program.id, page=2, per_page=2)
    assert [r.number for r in second.items] == ["AW-LATE"]
    assert _awaiting(program_id=base.program.id, page=5, per_page=2) == second
    everything = _awaiting()
    assert everything.total == 4 and everything.items[-1].number == other.grant.number


def _more_grants(base: GrantWorld, start: int, count: int) -> None:
    for n in range(start, start + count):
        day = date(2026, 6 + n % 6, 1 + n % 28)
        sibling_grant(base, f"MANY-X{n:04d}", (1_000_000, 2_000_000), (day, day), commit=False)
    db.session.commit()


def _queries_for_a_portfolio_page() -> int:
    db.session.expire_all()
    with count_queries() as statements:
        page = _portfolio()
        programme_queries.budget_by_year()
        _awaiting()
        # Reading every attribute a page shows must not load anything lazily.
        for row in page.items:
            (row.number, row.organization("ja"), row.milestone_title, row.released, row.award)
    # the page's own statements; the kept figures' mark (one read a transaction) aside
    return len([statement for statement in statements if "data_generation" not in statement])


def test_query_count_does_not_grow_with_the_number_of_grants(app: Flask) -> None:
    base = make_grant(code="MANY")
    _more_grants(base, 0, 9)
    small = _queries_for_a_portfolio_page()
    assert len(_portfolio().items) == 10
    _more_grants(base, 9, 190)
    large = _queries_for_a_portfolio_page()
    assert _portfolio().total == 200
    assert small == large <= 7  # with the final amounts' returns and cuts (settlement)


def test_out_of_range_page_arguments_are_bounded(app: Flask) -> None:
    _world()
    awaiting = _awaiting(page=0, per_page=0)
    assert (awaiting.page, awaiting.per_page, len(awaiting.items)) == (1, 1, 1)
    page = _portfolio(page=-3, per_page=10_000)
    assert (page.page, page.per_page) == (1, 500)
    huge = _portfolio(page=10**23)
    assert (huge.page, huge.items) == (1, page.items)  # one page of rows: that one
    assert _awaiting(page=10**23).items == awaiting.items
