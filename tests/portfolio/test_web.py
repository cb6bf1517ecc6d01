"""The portfolio page: overdue first, programme filter, pagination, budget by fiscal year."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core import audit
from grants.core.actors import SYSTEM
from grants.core.calendar import format_date, tokyo_today
from grants.core.identity import Locale, Role
from grants.extensions import db
from grants.portfolio.queries import PORTFOLIO
from grants.programs import service as programs
from tests.support.alerts import run_scan
from tests.support.approvals import approve, sibling_grant
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.matrix import REVIEWERS, refused, routes, statuses, switch
from tests.support.queries import count_queries
from tests.support.web import login, post_form

TODAY = tokyo_today(datetime.now(UTC))
_ROW = re.compile(r'data-grant="([^"]+)"')


def _officer(client: FlaskClient, locale: Locale = Locale.en) -> None:
    login(client, make_user(Role.officer, locale=locale).email)


def _order(page: str) -> list[str]:
    return _ROW.findall(page)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "portfolio") == [("GET", "/officer/portfolio")]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    paths = routes(app, "portfolio")
    table = statuses(client, world, paths)
    refused(table, "applicant_other_org", "grantee", *REVIEWERS)
    assert set(table["officer"].values()) == {200}
    assert set(table["admin"].values()) == {200}  # an admin may look, not move money


def test_nav_link_for_officers_and_admins_only(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.applicant).email)
    assert "/officer/portfolio" not in client.get("/").get_data(as_text=True)
    for role in (Role.officer, Role.admin):
        switch(client, make_user(role))
        assert "/officer/portfolio" in client.get("/").get_data(as_text=True)
    post_form(client, "/logout", {})


def _marker(day: object, days: int) -> str:
    return f"Overdue since {format_date(day, 'en')} ({days} days)"  # type: ignore[arg-type]


def test_overdue_first_with_badges_and_links(app: Flask, client: FlaskClient) -> None:
    base = make_grant(code="PF", first_due=TODAY + timedelta(days=40))
    sibling_grant(base, "PF-LATE", (10_000_000,), (TODAY - timedelta(days=3),))
    sibling_grant(base, "PF-LATER", (10_000_000,), (TODAY - timedelta(days=20),))
    sibling_grant(base, "PF-SOON", (10_000_000,), (TODAY + timedelta(days=5),))
    done = sibling_grant(base, "PF-DONE", (10_000_000,), (TODAY - timedelta(days=90),))
    approve(done, *done.milestones)
    run_scan(TODAY)  # flags PF-LATER and PF-LATE (no grace by default)
    _officer(client)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert _order(page) == ["PF-LATER", "PF-LATE", "PF-SOON", "PF-0001", "PF-DONE"]
    assert _marker(TODAY - timedelta(days=19), 20) in page
    assert _marker(TODAY - timedelta(days=2), 3) in page
    assert page.count("badge-overdue") == 2
    assert f'href="/grants/{base.grant.id}"' in page
    assert "Approved tranches awaiting release" in page
    assert f'href="/officer/milestones/{done.milestones[0].id}/release"' in page
    assert "Budget by fiscal year" in page and "¥10,000,000,000" in page


def test_past_due_within_the_grace_period_is_not_marked(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ALERT_GRACE_DAYS", 10)
    base = make_grant(code="PG", first_due=TODAY + timedelta(days=40))
    sibling_grant(base, "PG-GRACE", (10_000_000,), (TODAY - timedelta(days=5),))
    sibling_grant(base, "PG-LATE", (10_000_000,), (TODAY - timedelta(days=30),))
    run_scan(TODAY)
    _officer(client)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert _order(page) == ["PG-LATE", "PG-GRACE", "PG-0001"]
    assert page.count("badge-overdue") == 1
    assert _marker(TODAY - timedelta(days=19), 20) in page  # due + 10 days' grace + 1
    row = page[page.index('data-grant="PG-GRACE"') :]
    assert "Overdue" not in row[: row.index("</tr>")]


def test_admin_sees_no_money_links(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    login(client, make_user(Role.admin, locale=Locale.en).email)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert world.grant.number in page
    assert "/release" not in page and f'href="/grants/{world.grant.id}"' not in page


def test_filter_by_programme_and_budget_table(app: Flask, client: FlaskClient) -> None:
    first = make_grant(code="AAA", appropriation=1_000_000_000)
    second = make_grant(code="BBB", appropriation=2_000_000_000)
    _officer(client)
    page = client.get(f"/officer/portfolio?program_id={second.program.id}").get_data(as_text=True)
    assert _order(page) == ["BBB-0001"]
    assert "¥2,000,000,000" in page and "¥1,000,000,000" not in page
    assert f'<option value="{second.program.id}" selected>' in page
    everything = client.get("/officer/portfolio?program_id=nonsense").get_data(as_text=True)
    assert _order(everything) == ["AAA-0001", "BBB-0001"]
    unknown = client.get("/officer/portfolio?program_id=999").get_data(as_text=True)
    assert _order(unknown) == ["AAA-0001", "BBB-0001"]
    assert first.program.id != second.program.id


def test_pagination(app: Flask, client: FlaskClient) -> None:
    base = make_grant(code="PG", first_due=TODAY + timedelta(days=400))
    for n in range(PORTFOLIO.per_page + 5):
        sibling_grant(base, f"PG-{n:03d}", (1_000,), (TODAY + timedelta(days=n + 1),), commit=False)
    db.session.commit()
    _officer(client)
    first = client.get("/officer/portfolio").get_data(as_text=True)
    assert len(_order(first)) == PORTFOLIO.per_page and _order(first)[0] == "PG-000"
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/officer/portfolio?page=2").get_data(as_text=True)
    rest = range(PORTFOLIO.per_page, PORTFOLIO.per_page + 5)
    assert _order(second) == [f"PG-{n:03d}" for n in rest] + ["PG-0001"]
    assert client.get("/officer/portfolio?page=x").status_code == 200
    past_the_end = client.get("/officer/portfolio?page=9").get_data(as_text=True)
    assert _order(past_the_end) == _order(second) and "Page 2 of 2" in past_the_end


def test_a_page_past_the_end_shows_the_grants_not_an_empty_portfolio(
    app: Flask, client: FlaskClient
) -> None:
    make_grant(code="ONE")
    _officer(client)
    page = client.get("/officer/portfolio?page=2").get_data(as_text=True)
    assert _order(page) == ["ONE-0001"] and "There are no active grants." not in page


def test_page_in_japanese(app: Flask, client: FlaskClient) -> None:
    base = make_grant(code="JA")
    sibling_grant(base, "JA-LATE", (10_000_000,), (TODAY - timedelta(days=2),))
    _officer(client, Locale.ja)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert "100億円" in page and "年度" in page


def test_kept_figures_follow_the_audit_log_the_filter_and_the_language(
    app: Flask, client: FlaskClient, kept_figures: None
) -> None:
    first = make_grant(code="KA", appropriation=1_000_000_000)
    second = make_grant(code="KB", appropriation=2_000_000_000)
    audit.record(SYSTEM, "test.mark", first.grant)
    db.session.commit()
    _officer(client)
    assert "¥1,000,000,000" in client.get("/officer/portfolio").get_data(as_text=True)
    with count_queries() as statements:
        again = client.get("/officer/portfolio").get_data(as_text=True)
    assert "¥1,000,000,000" in again and "budget_pool" not in " ".join(statements)
    filtered = client.get(f"/officer/portfolio?program_id={second.program.id}")
    assert "¥1,000,000,000" not in filtered.get_data(as_text=True)
    programs.set_appropriation(SYSTEM, first.program.id, 2026, 3_000_000_000)  # audited
    changed = client.get("/officer/portfolio").get_data(as_text=True)
    assert "¥3,000,000,000" in changed and "¥3,000,000,000" not in again
    post_form(client, "/language", {"locale": "ja"})  # not a mark: the language is a key
    assert "30億円" in client.get("/officer/portfolio").get_data(as_text=True)
