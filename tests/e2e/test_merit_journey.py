"""The merit review journey on the demo call MR-DEVICE-1 (grants/demo/merit.py): an officer
assigns a reviewer, the reviewer scores (a missing comment first), the ranking moves and
draws the funding line, and the officer awards in order, then out of order with a reason."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from grants.accounts.models import User
from grants.demo import merit as demo_merit
from grants.extensions import db
from tests.e2e.conftest import (
    LiveServer,
    application_titled,
    in_app,
    screenshot,
    sign_in,
    sign_out,
)

OFFICER = "officer@example.jp"
REVIEWER = "reviewer2@example.jp"  # has not scored the cochlear implant yet


def _user_id(server: LiveServer, email: str) -> int:
    found = in_app(server, lambda: db.session.scalar(select(User.id).where(User.email == email)))
    assert found is not None
    return int(found)


def test_officer_assigns_reviewer_scores_ranking_moves_officer_awards(
    page: Page, live_server: LiveServer
) -> None:
    cochlear = application_titled(live_server, demo_merit.COCHLEAR)
    reviewer = _user_id(live_server, REVIEWER)

    sign_in(page, OFFICER)
    _reassign(page, cochlear, reviewer)
    sign_out(page)

    sign_in(page, REVIEWER)
    _score(page)
    sign_out(page)

    sign_in(page, OFFICER)
    program = _rank(page, live_server, cochlear)
    _award(page, live_server, program)


def _reassign(page: Page, cochlear: int, reviewer: int) -> None:
    page.goto(f"/officer/merit/applications/{cochlear}")
    expect(page.locator("main h1")).to_contain_text(demo_merit.COCHLEAR)
    written = page.locator("#panel-written")
    # Reviewer 2's review is still due: the officer takes them off and assigns them again.
    written.locator("form[action$='/unassign'] button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    assign = f"#panel-written form[action$='/assign']:has(input[value='{reviewer}'])"
    candidate = page.locator(assign)
    screenshot(page, "merit-01-panel")
    candidate.locator("button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#panel-written form[action$='/unassign']")).to_have_count(1)


def _score(page: Page) -> None:
    page.goto("/reviewer/merit")
    page.locator("#merit-assignments a", has_text=demo_merit.COCHLEAR).click()
    # Nothing of the other reviewer's scores before one's own are in.
    expect(page.locator("#others table")).to_have_count(0)
    for criterion in demo_merit.CRITERIA:
        page.check(f"input[name=score_{criterion}][value='5']")
        if criterion != "budget":
            page.fill(f"#comment_{criterion}", "小型化の設計と安全性評価の計画が優れている。")
    page.locator("#score-form button[type=submit]").click()
    # A score without its comment is refused, and nothing is kept.
    expect(page.locator("#comment_budget")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#comment_budget-error")).to_be_visible()
    expect(page.locator("#others table")).to_have_count(0)
    page.fill("#comment_budget", "予算計画は妥当である。")
    screenshot(page, "merit-02-score-form")
    page.locator("#score-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#scores table")).to_be_visible()
    # Now the other reviewer's sheet shows, numbered, never named.
    expect(page.locator("#others table")).to_have_count(1)
    expect(page.locator("#others")).not_to_contain_text("reviewer@example.jp")
    screenshot(page, "merit-03-scored")


def _rank(page: Page, live_server: LiveServer, cochlear: int) -> int:
    page.goto(f"/officer/merit/applications/{cochlear}")
    page.locator("main a[href$='/merit']").first.click()
    page.locator("main a[href$='/ranking']").first.click()
    expect(page).to_have_url(re.compile(r"/officer/programs/\d+/ranking$"))
    program = int(page.url.rsplit("/", 2)[-2])
    ecg = application_titled(live_server, demo_merit.ECG)
    pathology = application_titled(live_server, demo_merit.PATHOLOGY)
    rows = page.locator("#ranking tbody tr[id^=rank-]")
    # 4.55, then the cochlear implant at (3.25 + 5) / 2, above the enzyme device's 3.8.
    expect(rows.nth(0)).to_have_id(f"rank-{ecg}")
    expect(rows.nth(1)).to_have_id(f"rank-{cochlear}")
    expect(page.locator(f"#rank-{pathology} .badge-warn")).to_be_visible()  # disagreement
    expect(page.locator("#tie-break")).to_be_visible()
    # The pools hold three: the line falls above the pathology system.
    expect(page.locator("#funding-line + tr")).to_have_id(f"rank-{pathology}")
    expect(page.locator("#score-distribution, #distribution svg").first).to_be_visible()
    screenshot(page, "merit-04-ranking")

    page.fill("#line", "4")
    page.locator("#what-if button[type=submit]").click()
    expect(page.locator("#over")).to_be_visible()  # four over-commit a pool
    expect(page.locator("#pools .over").first).to_be_visible()
    screenshot(page, "merit-05-what-if")
    return program


def _award(page: Page, live_server: LiveServer, program: int) -> None:
    ecg = application_titled(live_server, demo_merit.ECG)
    pathology = application_titled(live_server, demo_merit.PATHOLOGY)

    page.goto(f"/officer/screening/{ecg}")
    expect(page.locator("#departure")).to_have_count(0)  # first in the ranking
    page.locator("#award-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    # Below the line, passing over two: a written reason is asked for.
    page.goto(f"/officer/screening/{pathology}")
    expect(page.locator("#departure")).to_be_visible()
    page.locator("#award-form button[type=submit]").click()
    expect(page.locator("#departure_reason")).to_have_attribute("aria-invalid", "true")
    page.fill("#departure_reason", "病理医不足の地域医療への波及効果を優先する。")
    screenshot(page, "merit-06-departure")
    page.locator("#award-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    page.goto(f"/officer/programs/{program}/ranking")
    # Still listed, now awarded, marked as out of order with a reason.
    expect(page.locator(f"#rank-{pathology}")).to_contain_text("順位と異なる採択（理由あり）")
    screenshot(page, "merit-07-awarded")
