"""Second factors in the browser: an officer sets up an authenticator app when first asked
and signs in with its codes (computed with pyotp, as the app would); another registers a
passkey on Chromium's virtual authenticator and signs in with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from grants.core.identity import Locale, Role
from tests.e2e.conftest import LiveServer, in_app, screenshot, sign_in, sign_out, totp_code
from tests.support.factories import PASSWORD, make_user


def _new_officer(server: LiveServer, email: str) -> None:
    def create() -> None:
        make_user(
            Role.officer, password=PASSWORD, locale=Locale.en, email=email, name="E2E Officer"
        )

    in_app(server, create)


def test_an_officer_sets_up_an_authenticator_app_then_signs_in_with_it(
    page: Page, live_server: LiveServer
) -> None:
    email = "e2e-totp-officer@example.jp"
    _new_officer(live_server, email)
    sign_in(page, email, PASSWORD)
    assert "/second-factor/enrol" in page.url  # sent there at once
    page.goto("/alerts")
    assert "/second-factor/enrol" in page.url  # and from every page
    screenshot(page, "second-factor-01-enrol")
    page.click("form[action^='/settings/security/second-factor/totp'] button[type=submit]")
    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    screenshot(page, "second-factor-02-qr-code")
    page.fill("input[name=code]", "000000")
    page.click("main form button[type=submit]")
    expect(page.locator("#code-error")).to_be_visible()  # a wrong code, in words
    page.fill("input[name=code]", totp_code(email, secret))
    page.click("main form button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    screenshot(page, "second-factor-03-recovery-codes")
    page.locator("main a.button").click()
    expect(page).to_have_url(live_server.url + "/alerts")  # where it was going
    sign_out(page)
    sign_in(page, email, PASSWORD, secret)  # the password, then the app's code
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("header .who")).to_contain_text("E2E Officer")


@pytest.fixture
def localhost_context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """The site under a host name: passkeys are bound to a domain, never to an address."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(base_url=url, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_an_officer_registers_a_passkey_and_signs_in_with_it(
    localhost_context: BrowserContext, live_server: LiveServer
) -> None:
    email = "e2e-passkey-officer@example.jp"
    _new_officer(live_server, email)
    page = localhost_context.new_page()
    cdp = localhost_context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    sign_in(page, email, PASSWORD)
    assert "/second-factor/enrol" in page.url
    page.fill("input[name=name]", "virtual key")
    page.click("form[data-passkey=create] button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)  # the first factor
    page.locator("main a.button").click()
    page.goto("/settings/security")
    expect(page.locator("main")).to_contain_text("virtual key")
    screenshot(page, "second-factor-04-passkey-registered")
    credentials = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]}
    )
    assert len(credentials["credentials"]) == 1
    sign_out(page)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(
        live_server.url.replace("127.0.0.1", "localhost") + "/login/second-factor"
    )
    screenshot(page, "second-factor-05-second-step")
    page.click("form[data-passkey=get] button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("E2E Officer")
    assert page.url.endswith("/")
