"""The grants list: search and sort in the API, and the portfolio's filters, whose order
read through the grants list is the one its indexes give as it opens."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from grants.core.actors import SYSTEM
from grants.core.identity import Locale, Role
from grants.core.lists import Direction
from grants.core.states import GrantState
from grants.extensions import db
from grants.portfolio import queries as portfolio
from tests.support.alerts import run_scan
from tests.support.api import api_as
from tests.support.approvals import sibling_grant
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

TODAY = date(2026, 11, 1)


def _grants() -> dict[str, GrantWorld]:
    """Grants due on different days, one overdue, one suspended, one completed."""
    base = make_grant(code="LS")
    worlds = {"A": base}
    for name, day in {"B": date(2026, 10, 15), "C": date(2027, 1, 1), "D": date(2026, 12, 1),
                      "E": date(2026, 5, 1), "F": date(2027, 2, 1)}.items():  # fmt: skip
        worlds[name] = sibling_grant(
            base, f"LS-{name}", (10_000_000, 20_000_000), (day, date(2027, 6, 1))
        )
    worlds["D"].grant.state = GrantState.suspended
    worlds["E"].grant.state = GrantState.completed
    worlds["F"].grant.application.title = "Rare disease 50% faster"
    db.session.commit()
    run_scan(TODAY)  # flags the overdue ones
    return worlds


def test_the_api_searches_and_sorts_grants(app: Flask, client: FlaskClient) -> None:
    _grants()
    api = api_as(client, Role.officer)

    def numbers(query: str) -> list[str]:
        body = api.get(f"/api/v1/grants?{query}").get_json()
        return [item["number"] for item in body["items"]]

    assert numbers("q=50%25") == ["LS-F"]
    assert numbers("q=ls-b") == ["LS-B"]  # case-insensitive
    assert numbers("sort=award&direction=desc")[0] == "LS-0001"  # 6億円, the others 3千万円
    # by the next milestone's due date (the completed grant's plan still open, as made here)
    assert numbers("sort=next_due") == ["LS-E", "LS-0001", "LS-B", "LS-D", "LS-C", "LS-F"]
    assert numbers("status=completed") == ["LS-E"]


def test_the_portfolio_filters_and_sorts(app: Flask, client: FlaskClient) -> None:
    worlds = _grants()
    login(client, make_user(Role.officer, locale=Locale.en).email)

    def shown(query: str) -> list[str]:
        page = client.get(f"/officer/portfolio?{query}").get_data(as_text=True)
        return [
            n
            for n in sorted(w.grant.number for w in worlds.values())
            if f'data-grant="{n}"' in page
        ]

    assert "LS-E" not in shown("")  # active and suspended as it opens
    assert shown("state=completed") == ["LS-E"]
    assert shown("state=suspended") == ["LS-D"]
    assert shown("overdue=1") == ["LS-0001", "LS-B"]
    assert shown("q=rare") == ["LS-F"]
    page = client.get("/officer/portfolio?sort=number&direction=desc").get_data(as_text=True)
    order = [page.index(f'data-grant="{n}"') for n in ("LS-F", "LS-D", "LS-C", "LS-B")]
    assert order == sorted(order)
    assert 'aria-sort="descending"' in page


def test_the_portfolio_order_is_the_same_read_from_the_indexes_or_the_list(app: Flask) -> None:
    _grants()

    def numbers(**asked: object) -> list[str]:
        query = portfolio.PORTFOLIO.query(per_page=100, **asked)
        return [row.number for row in portfolio.portfolio(SYSTEM, TODAY, query).items]

    from_the_indexes = numbers()
    through_the_list = numbers(term="LS")  # every grant matches: the general path
    assert from_the_indexes == through_the_list
    assert from_the_indexes == ["LS-0001", "LS-B", "LS-D", "LS-C", "LS-F"]  # overdue first
    assert numbers(direction=Direction.desc, term="LS") == through_the_list[::-1]
