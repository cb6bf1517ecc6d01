"""The charts on the grant page and the portfolio: inline SVG, named, described, tabulated."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import event

from grants.awards.models import Amendment
from grants.core.calendar import format_date, tokyo_today
from grants.core.identity import Locale, Role
from grants.core.states import AmendmentKind, AmendmentState, GrantState
from grants.extensions import db
from tests.support.approvals import approve, sibling_grant
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

TODAY = tokyo_today(datetime.now(UTC))
_SVG = re.compile(r'<svg class="chart-svg"[^>]*>.*?</svg>', re.S)
_DETAILS = re.compile(r'<details class="chart-data">.*?</details>', re.S)
TIMELINE_TITLE = "Milestone timeline of grant %(number)s: planned and actual dates"
HEALTH_TITLE = "On-time rate and overdue milestones by programme"
BUDGET_TITLE = "Budget by fiscal year: released, committed and available against the appropriation"


def _svgs(page: str) -> list[str]:
    return _SVG.findall(page)


def _title(svg: str) -> str:
    match = re.search(r'<title id="([^"]+)-title">([^<]*)</title>', svg)
    assert match, "the chart has no <title>"
    return match.group(2)


def _in(app: Flask, locale: str, message: str, **values: object) -> str:
    """What the user sees for `message` in `locale` (whatever the catalogue holds today)."""
    with app.test_request_context(), force_locale(locale):
        return gettext(message, **values)


def _accessible(svg: str) -> None:
    opening = svg[: svg.index(">")]
    assert 'role="img"' in opening
    labelled = re.search(r'aria-labelledby="([^"]+)"', opening)
    assert labelled
    for ref in labelled.group(1).split():
        assert f'id="{ref}"' in svg, ref
    assert "<desc id=" in svg


def _self_contained(page: str) -> None:
    """No external resource: no URL, no script, no inline style (the CSP forbids it)."""
    for svg in _svgs(page):
        assert "http" not in svg and "//" not in svg
        assert "<script" not in svg and "<image" not in svg and "<use" not in svg
        assert "style=" not in svg and "href" not in svg
        for ref in re.findall(r"url\(#([^)]+)\)", svg):
            assert f'id="{ref}"' in svg, ref
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", page)


def _officer(client: FlaskClient, locale: Locale = Locale.en) -> None:
    login(client, make_user(Role.officer, locale=locale).email)


# --- the grant page -----------------------------------------------------------------------


def test_the_grant_page_draws_the_milestone_timeline(client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=40))  # the first one is 40 days late
    world.milestones[0].overdue_since = TODAY - timedelta(days=32)  # a week's grace: 33 days
    db.session.commit()
    _officer(client)
    response = client.get(f"/grants/{world.grant.id}")
    page = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    [svg] = _svgs(page)
    _accessible(svg)
    assert (
        _title(svg) == f"Milestone timeline of grant {world.grant.number}: planned and actual dates"
    )
    assert "3 milestones" in svg and "1 milestone is overdue." in svg
    assert f"Today is {format_date(TODAY, 'en')}." in svg
    assert svg.count('class="timeline-row') == 3
    assert svg.count('class="timeline-row is-overdue"') == 1
    marker = f"Overdue since {format_date(TODAY - timedelta(days=32), 'en')} (33 days)"
    assert 'class="timeline-overdue"' in svg and marker in svg and 'class="chart-today"' in svg
    assert [int(n) for n in re.findall(r'data-milestone="(\d+)"', svg)] == [
        m.id for m in world.milestones
    ]
    [table] = _DETAILS.findall(page)
    assert table.count('<th scope="row">') == 3 and "Planned due date" in table
    assert "1. Milestone 1" in table and marker in table
    _self_contained(page)


def test_a_past_due_milestone_the_scan_has_not_flagged_is_not_overdue_on_the_timeline(
    client: FlaskClient,
) -> None:
    make_grant(first_due=TODAY - timedelta(days=3))  # within its grace: no flag yet
    world = make_grant(first_due=TODAY - timedelta(days=3), code="ALSO")
    _officer(client)
    [svg] = _svgs(client.get(f"/grants/{world.grant.id}").get_data(as_text=True))
    assert "is-overdue" not in svg and "Overdue since" not in svg and "is overdue" not in svg


def test_the_timeline_in_japanese(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY + timedelta(days=30))
    login(client, world.applicant.email)  # the grantee, whose locale is ja
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    assert '<html lang="ja">' in page
    [svg] = _svgs(page)
    _accessible(svg)
    assert _title(svg) == _in(app, "ja", TIMELINE_TITLE, number=world.grant.number)
    assert _in(app, "ja", "Today is %(day)s.", day=format_date(TODAY, "ja")) in svg
    assert "年" in svg and format_date(world.milestones[0].due_date, "ja") in page
    assert "overdue" not in svg and "is-overdue" not in svg
    _self_contained(page)


def test_planned_and_actual_dates_after_an_amendment_and_a_decision(client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=60))
    first, second, _third = world.milestones
    approve(world, first)  # decided today, 60 days after its due date
    original = second.due_date
    second.due_date = original + timedelta(days=45)
    db.session.add(
        Amendment(
            grant_id=world.grant.id,
            milestone_id=second.id,
            kind=AmendmentKind.due_date,
            state=AmendmentState.approved,
            new_due_date=second.due_date,
            reason="Supplier delay.",
            decided_at=datetime.now(UTC),
            snapshot={
                "before": {str(second.id): {"due_date": original.isoformat()}},
                "after": {str(second.id): {"due_date": second.due_date.isoformat()}},
            },
        )
    )
    db.session.commit()
    _officer(client)
    page = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    [svg] = _svgs(page)
    assert svg.count('fill="#1b1f24"/>') == 1  # one amended (filled) due-date diamond
    assert 'stroke-dasharray="3 3"' in svg  # from the planned to the amended date
    assert svg.count("<circle") == 1  # one milestone delivered
    [table] = _DETAILS.findall(page)
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', table, re.S)
    assert format_date(TODAY, "en") in rows[0] and "60 days late" in rows[0]
    assert format_date(original, "en") in rows[1]
    assert format_date(second.due_date, "en") in rows[1]
    _self_contained(page)


def _count_queries(client: FlaskClient, path: str) -> int:
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def _amend(world: GrantWorld, times: int) -> None:
    for n in range(times):
        milestone = world.milestones[n % len(world.milestones)]
        db.session.add(
            Amendment(
                grant_id=world.grant.id,
                milestone_id=milestone.id,
                kind=AmendmentKind.due_date,
                state=AmendmentState.approved,
                reason="r",
                decided_at=datetime.now(UTC) + timedelta(minutes=n),
                snapshot={"before": {str(milestone.id): {"due_date": "2026-09-30"}}},
            )
        )
    db.session.commit()


def test_amendments_add_no_query_per_amendment(client: FlaskClient) -> None:
    few = make_grant(code="FEW")
    many = make_grant(tranches=(1_000,) * 12, code="MANY")
    _amend(few, 1)
    _amend(many, 20)
    _officer(client)
    client.get(f"/grants/{few.grant.id}")  # the header's kept figures, read once
    assert _count_queries(client, f"/grants/{few.grant.id}") == _count_queries(
        client, f"/grants/{many.grant.id}"
    )


# --- the portfolio ------------------------------------------------------------------------


def _portfolio_world() -> tuple[GrantWorld, GrantWorld]:
    base = make_grant(code="PF", first_due=TODAY + timedelta(days=40))
    late = sibling_grant(base, "PF-LATE", (10_000_000,), (TODAY - timedelta(days=3),))
    late.milestones[0].overdue_since = TODAY - timedelta(days=2)  # as the scan flags it
    done = sibling_grant(base, "PF-DONE", (10_000_000,), (TODAY - timedelta(days=90),))
    approve(done, *done.milestones)  # decided today: late
    other = make_grant(code="QQ", appropriation=2_000_000_000, first_due=TODAY + timedelta(days=9))
    assert late.grant.state == GrantState.active
    return base, other


def test_the_portfolio_draws_health_and_budget(client: FlaskClient) -> None:
    _portfolio_world()
    _officer(client)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    health, budget = _svgs(page)
    for svg in (health, budget):
        _accessible(svg)
    assert _title(health) == HEALTH_TITLE and _title(budget) == BUDGET_TITLE
    # PF: two milestones due so far (PF-LATE, PF-DONE), none delivered on time, one overdue
    pf = re.search(r'data-program="PF">.*?</g>', health, re.S)
    assert pf and "0% (0/2)" in pf.group(0) and ">1</text>" in pf.group(0)
    qq = re.search(r'data-program="QQ">.*?</g>', health, re.S)
    assert qq and "— (0/0)" in qq.group(0) and ">0</text>" in qq.group(0)
    assert "PF: on time 0% (0 of 2 due), 1 overdue." in health
    [table] = _DETAILS.findall(page)
    assert "On-time rate" in table and "PF · Test programme" in table
    pools = [key.split("-") for key in re.findall(r'data-pool="([^"]+)"', budget)]
    assert pools == sorted(pools, key=lambda key: (key[0], int(key[1])))
    assert {code for code, _year in pools} == {"PF", "QQ"}
    assert "of ¥10,000,000,000" in budget and "of ¥2,000,000,000" in budget
    assert "Released ¥0 · Committed" in budget
    assert 'href="#budget-table"' in page and 'id="budget-table"' in page
    _self_contained(page)


def test_the_portfolio_charts_in_japanese(app: Flask, client: FlaskClient) -> None:
    _portfolio_world()
    _officer(client, Locale.ja)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    health, budget = _svgs(page)
    for svg in (health, budget):
        _accessible(svg)
    assert _title(health) == _in(app, "ja", HEALTH_TITLE)
    assert _title(budget) == _in(app, "ja", BUDGET_TITLE)
    assert "100億円" in budget and "20億円" in budget and "年度" in budget
    assert "¥" not in budget
    # Sentences in Japanese end with 。, never with an ASCII full stop.
    assert "PF: 期限内達成率 0%（期日到来 2 件中 0 件）、期限超過 1 件。" in health
    assert "件." not in health and "円." not in budget
    assert re.search(r"残額 [^<]*円。", budget)
    _self_contained(page)


def test_the_charts_follow_the_programme_filter(client: FlaskClient) -> None:
    _, other = _portfolio_world()
    _officer(client)
    page = client.get(f"/officer/portfolio?program_id={other.program.id}").get_data(as_text=True)
    health, budget = _svgs(page)
    assert set(re.findall(r'data-program="([^"]+)"', health + budget)) == {"QQ"}
    assert "¥10,000,000,000" not in budget


def test_an_empty_portfolio_draws_no_chart(client: FlaskClient) -> None:
    _officer(client)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert _svgs(page) == []
    assert "No grant has milestones yet." in page
    assert "No budget pool has been set up yet." in page


def test_only_officers_and_admins_see_the_portfolio_charts(client: FlaskClient) -> None:
    world = make_grant()
    login(client, world.applicant.email)
    assert client.get("/officer/portfolio").status_code == 403
    post_form(client, "/logout", {})
    login(client, make_user(Role.admin, locale=Locale.en).email)
    page = client.get("/officer/portfolio").get_data(as_text=True)
    assert len(_svgs(page)) == 2
