"""One journey per role through the real pages, on the demo data (see grants/services/demo*.py).

Selectors lean on what does not change when the catalogues do: form field ids and names,
form actions and link targets; visible text is only asserted where it is data (titles,
amounts, grant numbers) or a label the Japanese catalogue already holds (state labels).
Every journey leaves screenshots in tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from playwright.sync_api import Locator, Page, expect

from grants.alerts.scan.service import scan
from grants.core.actors import SYSTEM
from grants.demo import amed as demo_amed
from tests.e2e.conftest import (
    E2E_TODAY,
    LiveServer,
    application_titled,
    grant_id,
    in_app,
    milestone_id,
    milestone_titled,
    published_ruleset,
    screenshot,
    sign_in,
    sign_out,
)

APPLICANT = "applicant@example.jp"  # Sakura Bio: AMED-VC-7-0001 has planned milestones
APPLICANT3 = "applicant3@example.jp"  # Mirai Therapeutics: a milestone is overdue
REVIEWERS = ("reviewer@example.jp", "reviewer2@example.jp")
OFFICER = "officer@example.jp"  # awarded the demo grants
OFFICER2 = "officer2@example.jp"  # English

NEW_TITLE = "E2E 抗体 XY-42 の非臨床試験"
SUBMITTED_MILESTONE = "耐久試験（90日連続駆動）"  # MS-DARPA-1-0002, waiting for the reviewers
APPROVED_MILESTONE = "マウス感染モデルでの有効性確認"  # MS-DARPA-1-0001, waiting for release
OVERDUE_MILESTONE = "改良配列での有効性再評価"  # MS-DARPA-1-0003, due a week ago
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def badge(page: Page, section: str) -> Locator:
    return page.locator(f"{section} .page-head .badge").first


# ---- applicant ------------------------------------------------------------------------------


def test_applicant_applies_and_submits_evidence(page: Page, live_server: LiveServer) -> None:
    sign_in(page, APPLICANT)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    screenshot(page, "applicant-01-home")
    page.locator("nav a[href='/applications']").click()
    page.locator("main a[href='/applications/new']").click()
    # AMED-VC-7, the only programme open in the demo, is chosen, and the form offers only
    # the modalities it accepts: drugs and regenerative medicine
    expect(page.locator("#program_id option[selected]")).to_contain_text(demo_amed.CODE)
    expect(page.locator("#modality option")).to_have_count(2)

    _fill_application(page)
    screenshot(page, "applicant-02-new-application")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text(NEW_TITLE)

    page.locator("main a[href$='/plan']").click()
    _fill_plan(page)
    screenshot(page, "applicant-03-plan")
    page.locator("main form button[name=save]").first.click()
    expect(page.locator("#plan")).to_contain_text("選択性指数")

    page.locator("main a[href$='/co-investments']").click()
    hikari = page.locator("#co_investments-0-vc_organization_id option", has_text="ひかり")
    page.select_option("#co_investments-0-vc_organization_id", hikari.get_attribute("value"))
    page.fill("#co_investments-0-committed_amount", "200,000,000")
    page.check("#co_investments-0-is_lead")
    page.locator("main form button[name=save]").first.click()
    expect(page.locator("#co-investments")).to_contain_text("2億円")
    # The draft's preview already applies the non-clinical relaxation of the lead-VC minimum.
    expect(page.locator("#trace .trace-verdict")).to_have_class(re.compile("badge-ok"))

    page.locator("main form[action$='/submit'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+#trace$"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#trace .trace-verdict")).to_have_class(re.compile("badge-ok"))
    lead = page.locator("#trace tr[data-rule=lead_vc_min]")
    expect(lead).to_have_class(re.compile("trace-pass"))
    expect(lead.locator(".trace-relaxation")).to_contain_text("1億円")
    expect(page.locator("main form[action$='/submit']")).to_have_count(0)
    screenshot(page, "applicant-04-submitted-trace")

    _submit_evidence(page, live_server)


def _fill_application(page: Page) -> None:
    amed = page.locator("#program_id option", has_text=demo_amed.CODE)
    page.select_option("#program_id", amed.get_attribute("value"))
    page.fill("#title", NEW_TITLE)
    page.select_option("#theme", "rare_disease")
    page.select_option("#modality", "drug")
    page.select_option("#stage", "non_clinical")
    page.fill("#eligible_cost", "600,000,000")
    page.fill("#indirect_cost", "50,000,000")
    page.fill("#requested_subsidy", "400,000,000")
    page.fill("#project_start", (E2E_TODAY + timedelta(days=30)).isoformat())
    page.fill("#project_end", (E2E_TODAY + timedelta(days=600)).isoformat())


def _fill_plan(page: Page) -> None:
    page.fill("#milestones-0-title", "in vivo 有効性の確認")
    page.fill("#milestones-0-due_date", (E2E_TODAY + timedelta(days=240)).isoformat())
    page.fill("#milestones-0-tranche_amount", "400,000,000")
    page.fill("#milestones-0-criteria-0-metric", "IC50")
    page.fill("#milestones-0-criteria-0-target", "<= 10")
    page.fill("#milestones-0-criteria-0-unit", "nM")
    # A second criterion: the page comes back with one more row, keeping what was typed.
    page.locator("main button[name=add_criterion]").first.click()
    expect(page.locator("#milestones-0-criteria-0-metric")).to_have_value("IC50")
    page.fill("#milestones-0-criteria-1-metric", "選択性指数")
    page.fill("#milestones-0-criteria-1-target", ">= 100")
    page.fill("#milestones-0-criteria-1-unit", "倍")


def _submit_evidence(page: Page, live_server: LiveServer) -> None:
    grant = grant_id(live_server, "AMED-VC-7-0001")
    milestone = milestone_id(live_server, "AMED-VC-7-0001", 1)
    section = f"#milestone-{milestone}"
    page.goto(f"/grants/{grant}")
    expect(badge(page, section)).to_have_text("予定")
    page.locator(f"{section} a[href='/milestones/{milestone}/evidence']").click()
    page.fill("#narrative", "GLP反復投与毒性試験を完了しました。NOAELは35 mg/kgでした。")
    page.fill("#measured_0", "35")
    page.set_input_files(
        "#files",
        files=[{"name": "GLP_report.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    screenshot(page, "applicant-05-evidence-form")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/grants/{grant}#milestone-{milestone}$"))
    expect(badge(page, section)).to_have_text("提出済み")
    expect(page.locator(section)).to_contain_text("GLP_report.pdf")
    expect(page.locator(f"{section} a[href='/milestones/{milestone}/evidence']")).to_have_count(0)
    screenshot(page, "applicant-06-evidence-submitted")


def test_the_evidence_form_does_not_send_files_over_the_limit(
    page: Page, live_server: LiveServer
) -> None:
    """static/js/upload-limit.js keeps what was typed instead of the server's 413 page."""
    milestone = milestone_id(live_server, "MS-DARPA-1-0001", 3)  # changes requested
    config = live_server.app.config  # type: ignore[attr-defined]
    saved, config["MAX_CONTENT_LENGTH"] = config["MAX_CONTENT_LENGTH"], 1024 * 1024
    try:
        sign_in(page, APPLICANT)
        page.goto(f"/milestones/{milestone}/evidence")
        message = page.locator("#files-too-large")
        expect(message).to_be_hidden()
        page.fill("#narrative", "再評価の結果をまとめました。")
        big = {"name": "raw.csv", "mimeType": "text/csv", "buffer": b"1," * (600 * 1024)}
        page.set_input_files("#files", files=[big])
        expect(message).to_be_visible()
        expect(message).to_contain_text("1 MB")
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(rf"/milestones/{milestone}/evidence$"))
        expect(page.locator("#narrative")).to_have_value("再評価の結果をまとめました。")
        expect(page.locator("#files")).to_have_attribute("aria-invalid", "true")
        screenshot(page, "applicant-07-evidence-over-the-limit")
        small = {"name": "summary.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}
        page.set_input_files("#files", files=[small])
        expect(message).to_be_hidden()
        expect(page.locator("#files")).not_to_have_attribute("aria-invalid", "true")
    finally:
        config["MAX_CONTENT_LENGTH"] = saved


# ---- reviewers ------------------------------------------------------------------------------


def test_reviewers_sign_off_a_milestone(page: Page, live_server: LiveServer) -> None:
    milestone = milestone_titled(live_server, SUBMITTED_MILESTONE)
    grant = grant_id(live_server, "MS-DARPA-1-0002")
    section = f"#milestone-{milestone}"
    for turn, reviewer in enumerate(REVIEWERS, start=1):
        sign_in(page, reviewer)
        page.locator("nav a[href='/reviewer/queue']").click()
        row = page.locator("main tr", has_text=SUBMITTED_MILESTONE)
        if turn == 1:
            screenshot(page, "reviewer-01-queue")
        row.locator(f"a[href='/milestones/{milestone}/review']").click()
        expect(page.locator("main")).to_contain_text("92")  # the measured value
        page.check("input[name=decision][value=approve]")
        page.fill("#comment", f"90日連続駆動を確認しました（審査員{turn}）。")
        screenshot(page, f"reviewer-0{turn + 1}-decision")
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/reviewer/queue$"))
        expect(page.locator(".alert-success")).to_be_visible()
        expect(page.locator(f"main a[href='/milestones/{milestone}/review']")).to_have_count(0)
        page.goto(f"/grants/{grant}")
        # One approval is short of the quorum of two; the second one approves the milestone.
        expect(badge(page, section)).to_have_text("提出済み" if turn == 1 else "承認")
        sign_out(page)
    sign_in(page, REVIEWERS[1])
    page.goto(f"/grants/{grant}#milestone-{milestone}")
    expect(page.locator(section)).to_contain_text("審査員2")
    screenshot(page, "reviewer-04-approved")


# ---- officer --------------------------------------------------------------------------------


def test_officer_edits_a_rule_awards_and_releases(page: Page, live_server: LiveServer) -> None:
    published = published_ruleset(live_server, demo_amed.CODE)
    sign_in(page, OFFICER)
    page.locator("nav a[href='/officer/programs']").click()
    page.locator("main a", has_text=demo_amed.CODE).first.click()
    page.locator("main a[href$='/rulesets']").first.click()
    screenshot(page, "officer-01-rulesets")
    page.locator(f"main form[action$='/rulesets/{published}/copy'] button").click()
    expect(page).to_have_url(re.compile(r"/officer/rulesets/\d+$"))
    assert not page.url.endswith(f"/rulesets/{published}")

    page.locator("main a[href$='/rules/lead_vc_min']").click()
    expect(page.locator("#param_amount")).to_have_value("1,000,000,000")
    page.fill("#param_amount", "500,000,000")
    screenshot(page, "officer-02-rule-editor")
    page.locator("main form.rule-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"#rule-lead_vc_min$"))
    expect(page.locator("main tr", has_text="lead_vc_min").first).to_contain_text("5億円")

    page.locator("main a[href$='/what-if']").click()
    # The phase-I application with a 5億円 lead VC passes once the minimum is 5億円.
    expect(page.locator("td[data-change=newly_eligible]")).to_have_text("1")
    expect(page.locator("tr.change-newly_eligible")).to_contain_text("KRAS G12D")
    screenshot(page, "officer-03-what-if")

    _award(page, live_server)
    _release(page, live_server)


def _award(page: Page, live_server: LiveServer) -> None:
    waiting = application_titled(live_server, demo_amed.RELAXED_WAITING)
    page.locator("nav a[href='/officer/screening']").click()
    page.locator(f"main a[href='/officer/screening/{waiting}']").click()
    expect(page.locator("main")).to_contain_text("8億円")
    screenshot(page, "officer-04-screening")
    page.locator(f"main form[action$='/screening/{waiting}/award'] button").click()
    expect(page).to_have_url(re.compile(r"/officer/screening$"))
    expect(page.locator(".alert-success")).to_contain_text("AMED-VC-7-0002")
    page.locator("nav a[href='/officer/portfolio']").click()
    expect(page.locator("main a", has_text="AMED-VC-7-0002")).to_be_visible()


def _release(page: Page, live_server: LiveServer) -> None:
    """1.5億円 is above the programme's threshold (1億円), and the officer awarded the grant:
    the officer prepares the release, and the second officer approves it."""
    milestone = milestone_titled(live_server, APPROVED_MILESTONE)
    grant = grant_id(live_server, "MS-DARPA-1-0001")
    awaiting = page.locator("section[aria-labelledby=portfolio-awaiting]")
    awaiting.locator(f"a[href='/officer/milestones/{milestone}/release']").click()
    # The gates pass in the demo data: prior milestone approved, quorum 2, pool has room.
    expect(
        page.locator("#release-gates + p .badge-ok, #release-gates ~ p .badge-ok")
    ).to_be_visible()
    expect(page.locator("main .trace-table tr.trace-fail")).to_have_count(0)
    expect(page.locator("#two-officers")).to_contain_text("1億円")
    expect(page.locator(f"main form[action$='/milestones/{milestone}/release']")).to_have_count(0)
    screenshot(page, "officer-05-release")
    page.locator(f"main form[action$='/milestones/{milestone}/release/prepare'] button").click()
    expect(page.locator(".alert-success")).to_contain_text("1億5,000万円")
    expect(page.locator("#prepared")).to_be_visible()
    expect(page.locator("main form[action$='/approve']")).to_have_count(0)  # not the preparer
    screenshot(page, "officer-06-prepared")

    sign_out(page)
    sign_in(page, OFFICER2)
    page.goto("/officer/milestones/awaiting-release")
    expect(page.locator("#prepared-total")).to_be_visible()
    page.locator(f"main a[href='/officer/milestones/{milestone}/release']").click()
    page.locator("#prepared form[action$='/approve'] button").click()
    expect(page).to_have_url(re.compile(rf"/grants/{grant}#milestone-{milestone}$"))
    expect(page.locator(".alert-success")).to_contain_text("¥150,000,000")
    section = page.locator(f"#milestone-{milestone}")
    expect(section.locator("dl.facts")).to_contain_text("¥150,000,000")
    expect(section.locator(f"a[href='/officer/milestones/{milestone}/release']")).to_have_count(0)
    screenshot(page, "officer-07-released")


# ---- alerts and language --------------------------------------------------------------------


def test_user_reads_an_alert_and_switches_language(page: Page, live_server: LiveServer) -> None:
    # What `flask grants scan` does each morning: the overdue milestone raises an alert.
    in_app(live_server, lambda: scan(SYSTEM, E2E_TODAY, current_app.config))
    sign_in(page, APPLICANT3)
    unread = page.locator("#unread-alerts")
    before = int(unread.get_attribute("data-count") or 0)
    assert before >= 1
    page.locator("#alerts-link").click()
    expect(page).to_have_url(re.compile(r"/alerts$"))
    row = page.locator("#alerts tr.unread", has_text=OVERDUE_MILESTONE).first
    row_id = row.get_attribute("id")
    screenshot(page, "alerts-01-inbox")
    row.locator("button[type=submit]").click()
    expect(page.locator(f"#{row_id}")).to_have_class(re.compile(r"\bread\b"))
    if before > 1:
        expect(unread).to_have_attribute("data-count", str(before - 1))
    else:
        expect(unread).to_have_count(0)
    screenshot(page, "alerts-02-read")

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("nav a[href='/']")).to_have_text("ホーム")
    _switch_language(page, "en")
    expect(page).to_have_url(re.compile(r"/alerts(\?page=1)?$"))  # back where it was
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Alerts")
    expect(page.locator("nav a[href='/']")).to_have_text("Home")
    screenshot(page, "alerts-03-english")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # kept on the account
    _switch_language(page, "ja")  # leave the demo account as it was
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def _switch_language(page: Page, locale: str) -> None:
    page.select_option("#locale-switch", locale)
    page.locator("header form[action='/language'] button[type=submit]").click()
    page.wait_for_load_state()


def test_the_api_documentation_renders_offline(page: Page, live_server: LiveServer) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("grants", ignore_case=True)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Authorization: Bearer <token>")
    assert failed == []
    screenshot(page, "api-docs")


# ---- my work and a bulk release ---------------------------------------------------------------


def test_my_work_leads_each_role_to_its_items_and_releases_in_bulk(
    page: Page, live_server: LiveServer
) -> None:
    """After the journeys above: the applicant's resubmitted evidence waits for the reviewers,
    and the milestone the reviewers approved waits for its tranche."""
    sign_in(page, REVIEWERS[0])
    expect(page.locator("#work-count")).to_be_visible()
    page.locator("nav a[href='/work']").click()
    reviews = page.locator("#work-reviews")
    expect(reviews.locator(".work-entry")).not_to_have_count(0)
    expect(reviews).to_contain_text("日待ち")  # each round's age
    screenshot(page, "work-01-reviewer")
    reviews.locator(".work-entry a").first.click()
    expect(page).to_have_url(re.compile(r"/milestones/\d+/review$"))
    sign_out(page)

    sign_in(page, OFFICER)
    page.locator("nav a[href='/work']").click()
    ready = page.locator("#work-releases")
    waiting = int(ready.locator("h2 .muted").inner_text().strip("()"))
    assert waiting >= 1  # the tranches approved in the journeys above
    screenshot(page, "work-02-officer")
    ready.locator("a[href='/officer/milestones/awaiting-release']").click()
    rows = page.locator("main tr.awaiting-row")
    count = rows.count()
    assert count == waiting  # My work counts what the queue lists
    for n in range(count):
        rows.nth(n).locator("input[name=milestone_id]").check()
    page.locator("#release-selected").click()
    expect(page).to_have_url(re.compile(r"/officer/milestones/bulk-release\?"))
    expect(page.locator("main tr.bulk-row")).to_have_count(count)
    screenshot(page, "work-03-confirm")
    page.locator("#confirm-bulk-release").click()
    # Each tranche is its own release: one at most the threshold goes out; a larger one is
    # refused, saying a second officer must approve it (separation of duties).
    released = page.locator("main tr.outcome-released").count()
    refused = page.locator("main tr.outcome-refused")
    assert released + refused.count() == count
    for n in range(refused.count()):
        expect(refused.nth(n)).to_contain_text("オフィサー")
    screenshot(page, "work-04-released")
    page.goto("/officer/milestones/awaiting-release")
    expect(page.locator("main tr.awaiting-row")).to_have_count(count - released)
