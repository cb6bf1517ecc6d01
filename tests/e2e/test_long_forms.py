"""Long forms, in Japanese and in English: the errors are summarised at the top of the page
with a link to each field, and leaving a changed form unsent asks first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import LiveServer, sign_in

APPLICANTS = {"ja": "applicant@example.jp", "en": "applicant2@example.jp"}
SUMMARY_TITLE = {"ja": "修正が必要な項目が", "en": "things to correct"}


@pytest.fixture(params=sorted(APPLICANTS))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def applicant(browser: Browser, live_server: LiveServer, language: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, APPLICANTS[language])
    yield page
    context.close()


def test_the_errors_are_summarised_at_the_top_with_links(applicant: Page, language: str) -> None:
    applicant.goto("/applications/new")
    applicant.click("main form button[type=submit]")  # everything empty
    summary = applicant.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("h2")).to_contain_text(SUMMARY_TITLE[language])
    first = summary.locator("a").first
    target = (first.get_attribute("href") or "").lstrip("#")
    assert target and applicant.locator(f"#{target}").count() == 1
    summary_top = summary.bounding_box()
    field_top = applicant.locator(f"#{target}").bounding_box()
    assert summary_top and field_top and summary_top["y"] < field_top["y"]
    first.click()
    assert applicant.url.endswith(f"#{target}")


def test_leaving_a_changed_form_asks_first(applicant: Page) -> None:
    applicant.goto("/applications/new")
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    applicant.on("dialog", answer)
    applicant.fill("input[name=title]", "未保存のタイトル")
    applicant.evaluate("() => { window.location.href = '/'; }")
    applicant.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert applicant.url.endswith("/applications/new")  # stayed, the title still typed
    assert applicant.input_value("input[name=title]") == "未保存のタイトル"
    untouched = applicant.context.new_page()
    untouched.on("dialog", answer)
    untouched.goto("/applications/new")
    untouched.evaluate("() => { window.location.href = '/'; }")
    untouched.wait_for_url("**/")
    assert asked == ["beforeunload"]  # an untouched form lets the page go
