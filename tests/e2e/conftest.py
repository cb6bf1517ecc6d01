"""Browser journeys: the real app served on loopback, driven by Playwright in Debian's Chromium.

The app runs in a thread with its own SQLite database and the demo data; it is created once
per session. Playwright's own browser download does not work offline, so Chromium comes from
the system (`apt-get install chromium`, done by .ci/run). Screenshots go to
tests/e2e/screenshots/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Select, select
from werkzeug.serving import make_server

from grants import create_app
from grants.accounts.second_factor.rules import code_at, time_step
from grants.applications.models import Application
from grants.awards.models import Grant, Milestone
from grants.core.calendar import tokyo_today
from grants.demo.service import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
from grants.extensions import db
from grants.programs.models import Program
from grants.rulesets.models import RuleSet, RuleSetStatus

T = TypeVar("T")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
# Without these, Chromium keeps trying to reach the network, which is closed here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_available() -> bool:
    return Path(CHROMIUM).is_file()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if os.environ.get("GRANTS_TEST_DATABASE") == "postgresql":
        reason = "Browser journeys run once, in the SQLite pass (they bring their own database)."
    elif not _browser_available():
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI needs Chromium at {CHROMIUM} for the browser journeys.")
        reason = f"No Chromium at {CHROMIUM}: apt-get install chromium"
    if reason:
        for item in items:
            if "tests/e2e/" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class LiveServer:
    url: str
    app: object


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        load_demo(E2E_TODAY, app.config)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


# Demo dates are laid out around this day; pages use the real clock, so keep it today.
E2E_TODAY = tokyo_today(datetime.now(UTC))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)  # fail in seconds, not half a minute
    yield page
    context.close()


def sign_in(
    page, email: str, password: str = DEMO_PASSWORD, secret: str = DEMO_TOTP_SECRET
) -> None:  # type: ignore[no-untyped-def]
    """The password, then, when asked, a code from the authenticator app holding `secret`
    (the demo's key, unless the journey set up its own)."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/login/second-factor"):
        page.fill("input[name=code]", totp_code(email, secret))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


# The time step of the last code each account gave in this run: the server accepts each
# step's code once, so the next sign-in uses a later step (waiting for one if need be).
_USED_STEPS: dict[str, int] = {}


def totp_code(email: str, secret: str) -> str:
    """The code an authenticator app holding `secret` shows now, never one already given."""
    while True:
        now = time_step(datetime.now(UTC))
        step = max(now, _USED_STEPS.get(email, now - 1) + 1)
        if step <= now + 1:  # within the server's skew of one step
            _USED_STEPS[email] = step
            return code_at(secret, step)
        time.sleep(1)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("header form[action='/logout'] button[type=submit]").click()
    page.wait_for_load_state()


def in_app(server: LiveServer, work: Callable[[], T]) -> T:
    """Run `work` (a look-up, or a use case the scheduler would run) in the served app."""
    with server.app.app_context():  # type: ignore[attr-defined]
        try:
            return work()
        finally:
            db.session.remove()


# ---- demo rows, found by what people see on the pages rather than by hard-coded ids -----


def _id(server: LiveServer, query: Select[tuple[int]]) -> int:
    found = in_app(server, lambda: db.session.scalar(query))
    assert found is not None, f"demo data has no row for {query}"
    return int(found)


def grant_id(server: LiveServer, number: str) -> int:
    return _id(server, select(Grant.id).where(Grant.number == number))


def milestone_id(server: LiveServer, number: str, sequence: int) -> int:
    query = (
        select(Milestone.id)
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(Grant.number == number, Milestone.sequence == sequence)
    )
    return _id(server, query)


def milestone_titled(server: LiveServer, title: str) -> int:
    return _id(server, select(Milestone.id).where(Milestone.title == title))


def published_ruleset(server: LiveServer, code: str) -> int:
    query = (
        select(RuleSet.id)
        .join(Program, Program.id == RuleSet.program_id)
        .where(Program.code == code, RuleSet.status == RuleSetStatus.published)
        .order_by(RuleSet.version.desc())
    )
    return _id(server, query.limit(1))


def application_titled(server: LiveServer, title: str) -> int:
    return _id(server, select(Application.id).where(Application.title == title))
