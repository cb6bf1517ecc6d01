"""An officer writes an internal note and a shared question on a milestone; the grantee is
told, sees only the question (the reviewers as "評価者1"...) and answers it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from playwright.sync_api import Page, expect

from grants.extensions import db
from tests.e2e.conftest import E2E_TODAY, LiveServer, in_app, screenshot, sign_in, sign_out
from tests.support.factories import PASSWORD
from tests.support.grants import make_grant

OFFICER = "officer@example.jp"
NOTE = "内部メモ：評価者に測定条件を確認してもらう。"
QUESTION = "測定に使ったアッセイを教えてください。手順書: https://example.jp/protocol"
ANSWER = "ELISA 法で測定しました。"


@dataclass(frozen=True)
class Thread:
    applicant: str
    grant: int
    milestone: int


def _thread(live_server: LiveServer) -> Thread:
    def make() -> Thread:
        world = make_grant(first_due=E2E_TODAY + timedelta(days=60), code="E2E-MSG")
        # closed to applications, so that the other journeys' application form does not
        # offer it
        world.program.application_closes = world.program.application_opens
        db.session.commit()
        return Thread(world.applicant.email, world.grant.id, world.milestones[0].id)

    return in_app(live_server, make)


def _post(page: Page, body: str, internal: bool = False) -> None:
    page.fill("#body", body)
    if internal:
        page.check("#internal")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()


def test_a_note_a_question_and_the_answer(page: Page, live_server: LiveServer) -> None:
    thread = _thread(live_server)
    sign_in(page, OFFICER)
    page.goto(f"/grants/{thread.grant}")
    page.locator(f"#milestone-{thread.milestone} a[href$='/milestone/{thread.milestone}']").click()
    expect(page).to_have_url(re.compile(rf"/conversations/milestone/{thread.milestone}$"))
    _post(page, NOTE, internal=True)
    _post(page, QUESTION)
    expect(page.locator("article.message-internal")).to_contain_text(NOTE)
    screenshot(page, "conversations-01-officer")
    sign_out(page)

    sign_in(page, thread.applicant, PASSWORD)
    page.locator("#alerts-link").click()
    page.locator("#alerts tr.unread", has_text="新しいメッセージ").first.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/conversations/milestone/{thread.milestone}#message-"))
    expect(page.locator("main")).to_contain_text("測定に使ったアッセイ")
    expect(page.locator("main")).not_to_contain_text(NOTE)
    expect(page.locator("#internal")).to_have_count(0)
    link = page.locator("article.message a[href='https://example.jp/protocol']")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    _post(page, ANSWER)
    expect(page.locator("article.message").last).to_contain_text(ANSWER)
    screenshot(page, "conversations-02-grantee")
    sign_out(page)
