"""The next person always knows: evidence goes in, the reviewers are told and approve, the
officer is told the tranche is ready and releases it, and the grantee reads that it was.

A grant of its own (tests/support/grants.make_grant, inside the served app), so that the
journey touches no demo milestone another journey uses; the demo officer releases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from playwright.sync_api import Locator, Page, expect

from grants.core.calendar import fiscal_year, fiscal_year_label
from tests.e2e.conftest import E2E_TODAY, LiveServer, in_app, screenshot, sign_in, sign_out
from tests.support.factories import PASSWORD
from tests.support.grants import make_grant

OFFICER = "officer@example.jp"
NUMBER = "E2E-NTF-0001"
FIRST_DUE = E2E_TODAY + timedelta(days=60)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class Grant:
    """The journey's grant, as the browser needs it: addresses and ids."""

    applicant: str
    reviewers: tuple[str, ...]
    grant: int
    milestone: int


def _grant(live_server: LiveServer) -> Grant:
    def make() -> Grant:
        world = make_grant(first_due=FIRST_DUE, code="E2E-NTF")
        reviewers = tuple(reviewer.email for reviewer in world.reviewers)
        return Grant(world.applicant.email, reviewers, world.grant.id, world.milestones[0].id)

    return in_app(live_server, make)


def _alert_row(page: Page, kind: str) -> Locator:
    page.locator("#alerts-link").click()
    expect(page).to_have_url(re.compile(r"/alerts$"))
    return page.locator("#alerts tr.unread", has_text=kind).filter(has_text=NUMBER).first


def test_evidence_review_release_and_the_grantee_told(page: Page, live_server: LiveServer) -> None:
    world = _grant(live_server)
    milestone = world.milestone
    _applicant_submits_evidence(page, world)
    for turn, reviewer in enumerate(world.reviewers, start=1):
        sign_in(page, reviewer, PASSWORD)
        _reviewer_finds_the_evidence(page, milestone, turn)
        page.check("input[name=decision][value=approve]")
        page.fill("#comment", f"成功基準を満たしています（評価者{turn}）。")
        page.locator("main form button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        sign_out(page)
    _officer_releases(page, milestone)
    _grantee_reads_the_release(page, world)


def _applicant_submits_evidence(page: Page, world: Grant) -> None:
    milestone = world.milestone
    sign_in(page, world.applicant, PASSWORD)
    page.goto(f"/milestones/{milestone}/evidence")
    page.fill("#narrative", "IC50 を測定しました。成功基準を満たしています。")
    page.fill("#measured_0", "8")
    page.set_input_files(
        "#files", files=[{"name": "IC50.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/grants/{world.grant}#milestone-{milestone}$"))
    screenshot(page, "notifications-01-evidence-submitted")
    sign_out(page)


def _reviewer_finds_the_evidence(page: Page, milestone: int, turn: int) -> None:
    expect(page.locator("#unread-alerts")).to_be_visible()
    row = _alert_row(page, "エビデンスの提出")
    expect(row).to_contain_text("Milestone 1")
    screenshot(page, f"notifications-0{turn + 1}-reviewer-inbox")
    row.locator(f"a[href='/milestones/{milestone}/review']").click()
    expect(page).to_have_url(re.compile(rf"/milestones/{milestone}/review$"))


def _officer_releases(page: Page, milestone: int) -> None:
    sign_in(page, OFFICER)
    row = _alert_row(page, "交付可能")
    expect(row).to_contain_text("1億円")
    screenshot(page, "notifications-04-officer-inbox")
    row.locator(f"a[href='/officer/milestones/{milestone}/release']").click()
    page.locator(f"main form[action$='/milestones/{milestone}/release'] button").click()
    expect(page.locator(".alert-success")).to_contain_text("1億円")
    page.locator("#alerts-link").click()
    settled = page.locator("#alerts tr", has_text="交付可能").filter(has_text=NUMBER).first
    expect(settled.locator(".settled")).to_be_visible()
    sign_out(page)


def _grantee_reads_the_release(page: Page, world: Grant) -> None:
    sign_in(page, world.applicant, PASSWORD)
    row = _alert_row(page, "トランシェの交付")
    year = fiscal_year_label(fiscal_year(FIRST_DUE), "ja")
    expect(row).to_contain_text("1億円")
    expect(row).to_contain_text(year)
    row_id = row.get_attribute("id")
    screenshot(page, "notifications-05-grantee-inbox")
    row.locator("button[type=submit]").click()
    expect(page.locator(f"#{row_id}")).to_have_class(re.compile(r"\bread\b"))
    page.locator(f"#{row_id} a").first.click()
    expect(page).to_have_url(re.compile(rf"/grants/{world.grant}#milestone-{world.milestone}$"))
    screenshot(page, "notifications-06-grantee-grant")
