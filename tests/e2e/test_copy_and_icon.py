"""Small things people see: the site's icon, and the Copy button beside an address or a
token shown once, in Japanese and in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer, sign_in

APPLICANT = "applicant@example.jp"  # reads Japanese
OFFICER_EN = "officer2@example.jp"  # reads English


@pytest.mark.parametrize(
    ("email", "copied"), [(APPLICANT, "コピーしました"), (OFFICER_EN, "Copied")]
)
def test_the_calendar_address_is_copied_with_one_click(
    browser: Browser, live_server: LiveServer, email: str, copied: str
) -> None:
    context = browser.new_context(base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, email)
        page.goto("/settings/calendar")
        page.locator("main form[action='/settings/calendar'] button[type=submit]").first.click()
        address = page.locator("#feed-url").input_value()
        assert address.endswith(".ics")
        button = page.locator("button[data-copy='feed-url']")
        expect(button).to_be_visible()
        box = page.locator("#feed-url").bounding_box()
        assert box is not None and box["width"] > 300  # the whole field, not cut to a stub
        button.click()
        expect(button).to_have_text(copied)
        assert page.evaluate("navigator.clipboard.readText()") == address
    finally:
        context.close()


def test_every_page_names_the_site_icon(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/login")
        href = page.locator("link[rel=icon]").get_attribute("href")
        assert href is not None
        response = page.request.get(live_server.url + href)
        assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
    finally:
        context.close()


def test_a_new_token_is_copied_with_one_click(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, APPLICANT)
        page.goto("/settings/tokens")
        page.fill("input[name=name]", "Copy journey")
        page.locator("main form[action='/settings/tokens'] button[type=submit]").click()
        secret = page.locator("#new-token").input_value()
        page.locator("button[data-copy='new-token']").click()
        expect(page.locator("button[data-copy='new-token']")).to_have_text("コピーしました")
        assert page.evaluate("navigator.clipboard.readText()") == secret
    finally:
        context.close()
