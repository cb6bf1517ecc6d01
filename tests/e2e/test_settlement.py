"""Browser journey through settlement on the demo data: a grantee corrects a report that was
returned, a second officer confirms an inspected advance's final amount and asks for the
excess back, and the grantee reads the final amount, the officer's reason and the notice."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, grant_id, screenshot, sign_in, sign_out

GRANTEE = "applicant@example.jp"  # Sakura Bio: MS-DARPA-1-0001, its advance being settled
GRANTEE3 = "applicant3@example.jp"  # Mirai Therapeutics: MS-DARPA-1-0003, report returned
OFFICER_EN = "officer2@example.jp"  # did not inspect: may confirm the final amount


def test_a_report_is_corrected_and_an_advance_is_settled(
    page: Page, live_server: LiveServer
) -> None:
    _correct_the_returned_report(page, live_server)
    sign_out(page)
    _confirm_the_advance(page)
    sign_out(page)
    _grantee_reads_the_final_amount(page, live_server)


def _correct_the_returned_report(page: Page, live_server: LiveServer) -> None:
    grant = grant_id(live_server, "MS-DARPA-1-0003")
    sign_in(page, GRANTEE3)
    page.goto(f"/grants/{grant}")
    page.locator(f"main a[href='/grants/{grant}/settlement']").click()
    expect(page.locator("#period-m1")).to_contain_text("差し戻し")
    page.locator(f"#period-m1 a[href='/grants/{grant}/settlement/m1']").click()
    expect(page.locator(".alert-warning")).to_contain_text("従事日誌")
    # A typo first: the amount is refused beside its field and nothing is saved.
    page.fill("#lines-2-description", "従事日誌の作成補助")
    page.fill("#lines-2-claimed", "五十万円くらい")
    page.locator("main button[value=submit]").click()
    expect(page.locator("#lines-2-claimed-error")).to_be_visible()
    screenshot(page, "settlement-01-report-error")
    page.fill("#lines-2-claimed", "50万円")
    page.set_input_files(
        "#files",
        files=[{"name": "effort.pdf", "mimeType": "application/pdf", "buffer": _pdf()}],
    )
    page.locator("main button[value=submit]").click()
    expect(page).to_have_url(re.compile(r"/settlement/reports/\d+$"))
    expect(page.locator(".alert-success")).to_contain_text("確定検査に提出")
    expect(page.locator("main")).to_contain_text("effort.pdf")
    screenshot(page, "settlement-02-resubmitted")


def _confirm_the_advance(page: Page) -> None:
    sign_in(page, OFFICER_EN)
    page.locator("nav a[href='/settlement']").click()
    row = page.locator("main tr", has_text="MS-DARPA-1-0001")
    row.locator("a").click()
    expect(page.locator("#report-confirm")).to_be_visible()
    page.locator("main form[action$='/confirm'] button[type=submit]").click()
    # An advance above the final amount: the officer must say how it comes back.
    expect(page.locator("fieldset.has-error")).to_be_visible()
    page.locator("input[name=excess_method][value=returned]").check()
    page.locator("main form[action$='/confirm'] button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("final amount was confirmed")
    expect(page.locator("main")).to_contain_text("¥83,333,333")
    screenshot(page, "settlement-03-confirmed")


def _grantee_reads_the_final_amount(page: Page, live_server: LiveServer) -> None:
    grant = grant_id(live_server, "MS-DARPA-1-0001")
    sign_in(page, GRANTEE)
    page.goto(f"/grants/{grant}/settlement")
    expect(page.locator("#period-m1")).to_contain_text("8,333万3,333円")
    with page.expect_download() as download:
        page.locator("#period-m1 a[href$='/notice.pdf']").click()
    assert download.value.suggested_filename.endswith("-final-ja.pdf")
    page.locator("#period-m1 a[href^='/settlement/reports/']").click()
    expect(page.locator("main")).to_contain_text("領収書が添付されていないため対象外とします。")
    expect(page.locator("main")).to_contain_text("返還期限")
    with page.expect_download() as download:
        page.locator("main a[href$='/notice.pdf?lang=en']").click()
    assert download.value.suggested_filename.endswith("-final-en.pdf")
    screenshot(page, "settlement-04-grantee")


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
