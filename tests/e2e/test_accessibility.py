"""axe-core on the main pages of every role, and the applicant's pages on a phone.

axe-core (tests/e2e/vendor/axe-core, MPL-2.0) is injected into each page; the app's
Content-Security-Policy forbids inline scripts, so these pages are opened in a context that
bypasses CSP (the journeys run with it). Any violation of impact serious or critical fails,
listed with its rule, impact and the elements it targets. The API docs page is left out: it
is Swagger UI's own markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import current_app
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.preferences import links
from grants.alerts.scan.service import scan
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind
from grants.core.models import utcnow
from grants.demo import amed as demo_amed
from grants.demo import merit as demo_merit
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from grants.settlement.models import ResultsReport
from grants.settlement.rules import ReportState
from grants.tasks import service as background
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
)
from tests.support.tasks import make_task, run_queued, task_settings

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
PHONE = {"width": 375, "height": 812}

APPLICANT = "applicant@example.jp"
APPLICANT3 = "applicant3@example.jp"  # owns the draft and the overdue milestone
REVIEWER = "reviewer@example.jp"
REVIEWER2 = "reviewer2@example.jp"  # has not scored the cochlear implant of the merit demo
OFFICER = "officer@example.jp"
OFFICER_EN = "officer2@example.jp"  # English account
ADMIN = "admin@example.jp"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


@dataclass(frozen=True)
class Case:
    name: str
    user: str | None
    path: str  # formatted with the ids fixture


PAGES = [
    Case("login", None, "/login"),
    Case("forgotten-password", None, "/password/forgot"),
    Case("applicant-home", APPLICANT, "/"),
    Case("security-applicant", APPLICANT, "/settings/security"),
    Case("security-officer", OFFICER, "/settings/security"),
    Case("second-factor-verify", OFFICER_EN, "/settings/security/second-factor/verify"),
    Case("applications", APPLICANT, "/applications"),
    Case("application", APPLICANT, "/applications/{warning_application}"),
    Case("application-new", APPLICANT, "/applications/new"),
    Case("application-draft", APPLICANT3, "/applications/{draft}"),
    Case("application-plan", APPLICANT3, "/applications/{draft}/plan"),
    Case("application-co-investments", APPLICANT3, "/applications/{draft}/co-investments"),
    Case("application-withdraw", APPLICANT3, "/applications/{draft}/withdraw"),
    Case("grant-applicant", APPLICANT, "/grants/{grant}"),
    Case("evidence-form", APPLICANT, "/milestones/{resubmit}/evidence"),
    Case("amendments", APPLICANT, "/grants/{grant}/amendments"),
    Case("conversation-applicant", APPLICANT, "/conversations/milestone/{resubmit}"),
    Case("conversation-officer", OFFICER, "/conversations/milestone/{resubmit}"),
    Case("alerts", APPLICANT3, "/alerts"),
    Case("notification-settings", APPLICANT, "/settings/notifications"),
    Case("notification-link", None, "/settings/notifications/link/{notification_link}"),
    Case("reviewer-home", REVIEWER, "/"),
    Case("review-queue", REVIEWER, "/reviewer/queue"),
    Case("review-decision", REVIEWER, "/milestones/{submitted}/review"),
    Case("reviewer-conflicts", REVIEWER, "/reviewer/conflicts"),
    Case("reviewer-merit", REVIEWER, "/reviewer/merit"),
    Case("reviewer-merit-scored", REVIEWER, "/reviewer/merit/{merit_scored}"),
    Case("reviewer-merit-form", REVIEWER2, "/reviewer/merit/{merit_open}"),
    Case("officer-home", OFFICER, "/"),
    Case("officer-home-english", OFFICER_EN, "/"),
    Case("notification-settings-english", OFFICER_EN, "/settings/notifications"),
    Case("screening-queue", OFFICER, "/officer/screening"),
    Case("screening-application", OFFICER, "/officer/screening/{warning_application}"),
    Case("portfolio", OFFICER, "/officer/portfolio"),
    Case("grant-officer", OFFICER, "/grants/{grant}"),
    Case("release", OFFICER, "/officer/milestones/{approved}/release"),
    Case("release-queue", OFFICER, "/officer/milestones/awaiting-release"),
    Case("programmes", OFFICER, "/officer/programs"),
    Case("programme", OFFICER, "/officer/programs/{program}"),
    Case("rulesets", OFFICER, "/officer/programs/{program}/rulesets"),
    Case("ruleset-published", OFFICER, "/officer/rulesets/{published}"),
    Case("ruleset-draft", OFFICER, "/officer/rulesets/{draft_ruleset}"),
    Case("rule-editor", OFFICER, "/officer/rulesets/{draft_ruleset}/rules/lead_vc_min"),
    Case("what-if", OFFICER, "/officer/rulesets/{draft_ruleset}/what-if?all=1"),
    Case("merit-programme", OFFICER, "/officer/programs/{merit_program}/merit"),
    Case("merit-settings", OFFICER, "/officer/programs/{merit_program}/merit/settings"),
    Case("merit-panel", OFFICER, "/officer/merit/applications/{merit_cochlear}"),
    Case("merit-ranking", OFFICER, "/officer/programs/{merit_program}/ranking"),
    Case("merit-what-if", OFFICER, "/officer/programs/{merit_program}/ranking?line=4"),
    Case("rubric-editor", OFFICER, "/officer/rulesets/{merit_draft_ruleset}/rubric"),
    Case("merit-feedback", APPLICANT, "/applications/{merit_rejected}/feedback"),
    Case("exports", OFFICER, "/officer/exports"),
    Case("background-tasks", OFFICER, "/tasks"),
    Case("task-running", OFFICER, "/tasks/{running_task}"),
    Case("task-what-if", OFFICER, "/tasks/{what_if_task}?all=1"),
    Case("admin-home", ADMIN, "/"),
    Case("admin-users", ADMIN, "/admin/users"),
    Case("admin-user", ADMIN, "/admin/users/{applicant_user}"),
    Case("admin-organizations", ADMIN, "/admin/organizations"),
    Case("certified-vcs", ADMIN, "/admin/certified-vcs"),
    Case("settlement-grant", APPLICANT, "/grants/{grant}/settlement"),
    Case("settlement-report-form", APPLICANT3, "/grants/{returned_grant}/settlement/m1"),
    Case("settlement-queue", OFFICER, "/settlement"),
    Case("settlement-report", OFFICER_EN, "/settlement/reports/{inspected_report}"),
    Case("certified-vc-import", ADMIN, "/admin/certified-vcs/import"),
    Case("role-changes", ADMIN, "/admin/role-changes"),
    Case("audit-log", ADMIN, "/admin/audit"),
    Case("work-applicant", APPLICANT, "/work"),
    Case("work-reviewer", REVIEWER, "/work"),
    Case("work-officer", OFFICER, "/work"),
    Case("milestones", APPLICANT, "/milestones?sort=due_date&direction=desc"),
    Case("applications-officer", OFFICER, "/applications?state=awarded"),
    Case("amendment-requests", OFFICER, "/officer/amendments?state=requested"),
    Case("assign-reviewers", OFFICER, "/officer/grants/reviewers"),
    Case("bulk-release", OFFICER, "/officer/milestones/bulk-release?milestone_id={approved}"),
]

PHONE_PAGES = [  # the applicant's pages, and two officer pages with wide filters
    Case("login", None, "/login"),
    Case("home", APPLICANT, "/"),
    Case("applications", APPLICANT, "/applications"),
    Case("application", APPLICANT, "/applications/{warning_application}"),
    Case("application-new", APPLICANT, "/applications/new"),
    Case("application-plan", APPLICANT3, "/applications/{draft}/plan"),
    Case("application-co-investments", APPLICANT3, "/applications/{draft}/co-investments"),
    Case("grant", APPLICANT, "/grants/{grant}"),
    Case("evidence-form", APPLICANT, "/milestones/{resubmit}/evidence"),
    Case("conversation", APPLICANT, "/conversations/milestone/{resubmit}"),
    Case("alerts", APPLICANT3, "/alerts"),
    Case("merit-feedback", APPLICANT, "/applications/{merit_rejected}/feedback"),
    Case("notification-settings", APPLICANT, "/settings/notifications"),
    Case("portfolio", OFFICER, "/officer/portfolio"),
    Case("screening-queue", OFFICER, "/officer/screening"),
    Case("work", APPLICANT, "/work"),
    Case("milestones", APPLICANT, "/milestones"),
]


@pytest.fixture(scope="module")
def ids(live_server: LiveServer) -> dict[str, int | str]:
    """The demo rows the pages show, plus a draft rule set and the scan's alerts."""
    in_app(live_server, lambda: scan(SYSTEM, E2E_TODAY, current_app.config))
    published = published_ruleset(live_server, demo_amed.CODE)
    draft = in_app(live_server, lambda: _draft_copy(published))
    return {
        "warning_application": application_titled(live_server, demo_amed.LARGE_WARNING),
        "draft": application_titled(live_server, demo_amed.DRAFT),
        "grant": grant_id(live_server, "MS-DARPA-1-0001"),
        "resubmit": milestone_id(live_server, "MS-DARPA-1-0001", 3),  # changes requested
        "approved": milestone_titled(live_server, "マウス感染モデルでの有効性確認"),
        "submitted": milestone_titled(live_server, "耐久試験（90日連続駆動）"),
        "program": in_app(live_server, lambda: db.session.get(RuleSet, published).program_id),
        "published": published,
        "draft_ruleset": draft,
        "what_if_task": in_app(live_server, lambda: _what_if_task(draft)),
        "running_task": in_app(live_server, _running_task),
        "returned_grant": grant_id(live_server, "MS-DARPA-1-0003"),
        "inspected_report": in_app(live_server, _inspected_report),
        "notification_link": in_app(live_server, _notification_link),
        "applicant_user": in_app(live_server, lambda: _user(APPLICANT).id),
        **_merit_ids(live_server),
    }


def _merit_ids(live_server: LiveServer) -> dict[str, int]:
    """The merit review demo (MR-DEVICE-1): its programme, a draft of its rule set for the
    rubric editor, a scored and an open assignment, and the rejected application."""
    published = published_ruleset(live_server, demo_merit.CODE)
    cochlear = application_titled(live_server, demo_merit.COCHLEAR)
    return {
        "merit_program": in_app(live_server, lambda: db.session.get(RuleSet, published).program_id),
        "merit_draft_ruleset": in_app(live_server, lambda: _draft_copy(published)),
        "merit_cochlear": cochlear,
        "merit_scored": in_app(live_server, lambda: _assignment(cochlear, REVIEWER)),
        "merit_open": in_app(live_server, lambda: _assignment(cochlear, REVIEWER2)),
        "merit_rejected": application_titled(live_server, demo_merit.AMR_CHIP),
    }


def _assignment(application_id: int, email: str) -> int:
    query = (
        select(MeritAssignment.id)
        .join(User, User.id == MeritAssignment.reviewer_id)
        .where(MeritAssignment.application_id == application_id, User.email == email)
    )
    return db.session.scalars(query).one()


def _officer() -> User:
    return _user(OFFICER)


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _draft_copy(published: int) -> int:
    return rulesets.copy_to_draft(_officer(), published, "ja").id


def _what_if_task(draft: int) -> int:
    """Queued, then run by a worker (as the scheduler's job does), so its page shows the report."""
    task_id = background.start_what_if(_officer(), draft, E2E_TODAY, "ja", task_settings()).id
    run_queued()
    return task_id


def _inspected_report() -> int:
    """The demo's advance being settled: inspected, waiting for the second officer."""
    found = db.session.scalar(
        select(ResultsReport.id).where(ResultsReport.state == ReportState.inspected)
    )
    assert found is not None
    return found


def _running_task() -> int:
    return make_task(_officer(), done=1234, total=5000).id


def _notification_link() -> str:
    """The token of the preference link an applicant's due-soon e-mail carries."""
    applicant = db.session.scalar(select(User).where(User.email == APPLICANT))
    assert applicant is not None
    secret = str(current_app.config["SECRET_KEY"])
    return links.sign(applicant.id, AlertKind.due_soon, secret, utcnow())


class Sessions:
    """One signed-in browser context per user, shared by the module's pages (signing in
    again for every page would double the run time)."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.contexts: dict[str | None, BrowserContext] = {}

    def page(self, user: str | None, viewport: dict[str, int] | None = None) -> Page:
        if user not in self.contexts:
            # axe is injected as a script tag, which the app's CSP would refuse.
            context = self.browser.new_context(base_url=self.url, locale="ja-JP", bypass_csp=True)
            context.set_default_timeout(10_000)
            self.contexts[user] = context
            if user is not None:
                first = context.new_page()
                sign_in(first, user)
                assert "/login" not in first.url, f"{user} could not sign in"
                first.close()
        page = self.contexts[user].new_page()
        if viewport is not None:
            page.set_viewport_size(viewport)
        return page

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def sessions(browser: Browser, live_server: LiveServer) -> Iterator[Sessions]:
    opened = Sessions(browser, live_server.url)
    yield opened
    opened.close()


@pytest.fixture
def open_page(sessions: Sessions, ids: dict[str, int | str]) -> Iterator[Callable[..., Page]]:
    pages: list[Page] = []

    def opener(case: Case, viewport: dict[str, int] | None = None) -> Page:
        page = sessions.page(case.user, viewport)
        pages.append(page)
        response = page.goto(case.path.format(**ids))
        assert response is not None and response.status == 200, f"{case.path}: {response}"
        return page

    yield opener
    for page in pages:
        page.close()


def blocking_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("case", PAGES, ids=[case.name for case in PAGES])
def test_no_serious_accessibility_violations(open_page: Callable[..., Page], case: Case) -> None:
    page = open_page(case)
    violations = blocking_violations(page)
    assert not violations, f"{page.url}:\n" + "\n".join(violations)


def test_form_errors_are_accessible(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("input[name=email]", "nobody@example.jp")
        page.fill("input[name=password]", "wrong-password")
        page.click("main form button[type=submit]")
        assert page.locator(".alert-error, .errors").count() > 0
        problems = blocking_violations(page)
        sign_in(page, APPLICANT)
        page.goto("/applications/new")
        page.click("main form button[type=submit]")  # everything empty: 422 with messages
        assert page.locator("[aria-invalid=true]").count() > 0
        problems += blocking_violations(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", PHONE_PAGES, ids=[case.name for case in PHONE_PAGES])
def test_pages_fit_a_phone(open_page: Callable[..., Page], case: Case) -> None:
    page = open_page(case, PHONE)
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if case.name in ("home", "grant", "application-co-investments"):
        screenshot(page, f"phone-{case.name}")
    assert scroll_width <= inner_width, f"{case.path} scrolls sideways: {scroll_width}px"
