"""The queue of approved tranches awaiting release, and its digest on the portfolio."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, Role
from grants.extensions import db
from grants.portfolio.queries import AWAITING_SHOWN
from grants.releases.queries import RELEASES
from tests.support.api import api_as
from tests.support.approvals import approve, sibling_grant
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

QUEUE = "/officer/milestones/awaiting-release"


def _approved_grants(count: int, code: str = "AQ") -> GrantWorld:
    """`count` grants of one programme, each with one approved tranche of ¥1,000,000 due
    on successive days from 1 July 2026 (numbers AQ-000, AQ-001, ...)."""
    base = make_grant(code=code, tranches=(1_000,))
    for n in range(count):
        due = date(2026, 7, 1) + timedelta(days=n)
        world = sibling_grant(base, f"{code}-{n:03d}", (1_000_000,), (due,))
        approve(world, *world.milestones)
    db.session.commit()
    return base


def _numbers(page: str) -> list[str]:
    return re.findall(r'<th scope="row">(?:<a href="/grants/\d+">)?(AQ-\d{3})', page)


def test_lists_every_awaiting_tranche_oldest_first_with_links(
    app: Flask, client: FlaskClient
) -> None:
    base = _approved_grants(3)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(QUEUE).get_data(as_text=True)
    assert _numbers(page) == ["AQ-000", "AQ-001", "AQ-002"]
    assert "3 approved tranches of ¥3,000,000 in all wait for their release" in page
    assert re.search(r'href="/officer/milestones/\d+/release"', page)
    assert 'href="/grants/' in page
    other = make_grant(code="ZZ")
    filtered = client.get(f"{QUEUE}?program_id={other.program.id}").get_data(as_text=True)
    assert "No approved tranche matches." in filtered
    unknown = client.get(f"{QUEUE}?program_id=nonsense&page=x").get_data(as_text=True)
    assert _numbers(unknown) == _numbers(page)
    assert base.program.code in page  # the filter's choices


def test_pages_through_many(app: Flask, client: FlaskClient) -> None:
    _approved_grants(RELEASES.per_page + 2)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    first = client.get(QUEUE).get_data(as_text=True)
    assert f"{RELEASES.per_page + 2} approved tranches of ¥{RELEASES.per_page + 2},000,000" in first
    assert (
        len(_numbers(first)) == RELEASES.per_page
        and "Page 1 of 2" in first
        and 'rel="next"' in first
    )
    second = client.get(f"{QUEUE}?page=2").get_data(as_text=True)
    last = [f"AQ-{n:03d}" for n in (RELEASES.per_page, RELEASES.per_page + 1)]
    assert _numbers(second) == last and 'rel="prev"' in second
    past_the_end = client.get(f"{QUEUE}?page=7").get_data(as_text=True)
    assert _numbers(past_the_end) == last and "Page 2 of 2" in past_the_end


def test_an_admin_sees_the_queue_without_release_links(app: Flask, client: FlaskClient) -> None:
    _approved_grants(1)
    login(client, make_user(Role.admin, locale=Locale.en).email)
    page = client.get(QUEUE).get_data(as_text=True)
    assert _numbers(page) == ["AQ-000"] and "/release" not in page


def test_japanese_figures(app: Flask, client: FlaskClient) -> None:
    _approved_grants(2)
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = client.get(QUEUE).get_data(as_text=True)
    assert "200万円" in page and "2026年7月1日" in page


def test_the_portfolio_shows_the_oldest_and_links_to_the_rest(
    app: Flask, client: FlaskClient
) -> None:
    _approved_grants(AWAITING_SHOWN + 2)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    section = page[page.index('aria-labelledby="portfolio-awaiting"') :]
    section = section[: section.index("</section>")]
    assert _numbers(section) == [f"AQ-{n:03d}" for n in range(AWAITING_SHOWN)]
    assert f'href="{QUEUE}"' in section
    assert "All 12 approved tranches awaiting release (¥12,000,000)" in section


def test_the_portfolio_has_no_link_when_it_shows_them_all(app: Flask, client: FlaskClient) -> None:
    _approved_grants(2)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert _numbers(page[page.index("portfolio-awaiting") :])[:2] == ["AQ-000", "AQ-001"]
    assert QUEUE not in page


def test_the_queue_filters_sorts_and_is_in_the_api(app: Flask, client: FlaskClient) -> None:
    _approved_grants(3)
    later = sibling_grant(
        _approved_grants(0, code="AR"), "AR-LATE", (5_000_000,), (date(2027, 5, 1),)
    )
    approve(later, *later.milestones)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    page = client.get(f"{QUEUE}?fiscal_year=2026&sort=due_date&direction=desc").get_data(
        as_text=True
    )
    assert _numbers(page) == ["AQ-002", "AQ-001", "AQ-000"]
    assert "AR-LATE" not in page and 'aria-sort="descending"' in page
    assert "AR-LATE" in client.get(f"{QUEUE}?q=late").get_data(as_text=True)
    api = api_as(client, Role.officer)
    body = api.get("/api/v1/releases/awaiting?sort=tranche_amount&direction=desc").get_json()
    assert body["items"][0]["grant_number"] == "AR-LATE" and body["total"] == 4
    assert body["amount"] == 3_000_000 + 5_000_000
    assert api.get("/api/v1/releases/awaiting?fiscal_year=2027").get_json()["total"] == 1
    assert api_as(client, Role.reviewer).get("/api/v1/releases/awaiting").status_code == 403
