"""Credentials in the browser: an administrator invites a new account, whose owner follows
the invitation e-mail's link, chooses a password and signs in; the pages of a link pass
axe-core, with and without errors.

The live server sends mail through the log transport, read back here as the mailbox.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import current_app
from playwright.sync_api import Browser, Page, expect

from grants.accounts import service as accounts
from grants.accounts.credentials.mail import link_url
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from tests.e2e.conftest import LiveServer, in_app, screenshot, sign_in, sign_out
from tests.support.mails import Outbox

ADMIN = "admin@example.jp"
INVITED = "e2e-invited@example.jp"
PASSWORD = "lantern-quarry-ostrich"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def test_an_invited_reviewer_sets_a_password_from_the_e_mail_and_signs_in(
    page: Page, browser: Browser, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(caplog)
    sign_in(page, ADMIN)
    page.goto("/admin/users/new")
    page.fill("#email", INVITED)
    page.fill("#name", "招待 花子")
    page.select_option("#role", "reviewer")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".flashes .alert-success")).to_be_visible()
    expect(page.locator("#password-state")).to_contain_text("まだパスワードを設定していません")
    screenshot(page, "credentials-01-invited")
    sign_out(page)

    mail = outbox.last(INVITED)
    assert mail.link is not None and "パスワード" in mail.subject
    invitee = browser.new_context(base_url=live_server.url, locale="ja-JP")
    try:
        own = invitee.new_page()
        own.set_default_timeout(10_000)
        own.goto(urlsplit(mail.link).path)  # the e-mail's link, on the server under test
        expect(own.locator("#account-email")).to_have_value(INVITED)
        own.fill("#password", "password1234")
        own.fill("#password_again", "password1234")
        own.locator("main form button[type=submit]").click()
        expect(own.locator("#password-error")).to_contain_text("多くの人が使うパスワード")
        screenshot(own, "credentials-02-weak-password")
        own.fill("#password", PASSWORD)
        own.fill("#password_again", PASSWORD)
        own.locator("main form button[type=submit]").click()
        expect(own).to_have_url(f"{live_server.url}/login")
        expect(own.locator(".flashes")).to_contain_text("パスワードを設定しました")
        sign_in(own, INVITED, PASSWORD)
        expect(own.locator(".site-tools .who")).to_contain_text("招待 花子")
        own.locator("a.settings-link[href='/settings/security']").click()
        expect(own.locator("#password-heading")).to_be_visible()
        screenshot(own, "credentials-03-signed-in")
        own.goto(urlsplit(mail.link).path)  # the link worked once
        expect(own.locator("#link-refusal")).to_contain_text("使用済み")
    finally:
        invitee.close()
    assert "パスワードが変更されました" in outbox.last(INVITED).subject


def _invitation_path() -> str:
    data = accounts.UserData(
        email=f"axe-{utcnow().timestamp():.0f}@example.jp",
        name="Axe Check",
        role=Role.applicant,
        locale=Locale.ja,
    )
    _user, invitation = accounts.create_user(
        SYSTEM, data, now=utcnow(), settings=current_app.config
    )
    return urlsplit(link_url(invitation, current_app.config)).path


def test_a_links_pages_are_accessible(browser: Browser, live_server: LiveServer) -> None:
    path = in_app(live_server, _invitation_path)
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(path)
        problems += _violations(page)
        page.fill("#password", "short")
        page.fill("#password_again", "other")
        page.locator("main form button[type=submit]").click()
        expect(page.locator("[aria-invalid=true]").first).to_be_visible()
        problems += _violations(page)
        page.goto("/password/reset/forged-link")
        expect(page.locator("#link-refusal")).to_be_visible()
        problems += _violations(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}) -> {v['targets']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
