"""One overdue marker, the scan's flag with its date, on every page that lists milestones.

A milestone is overdue iff milestone.overdue_since is set (the scan sets it to the first
day the milestone counts as overdue, due date + grace + 1). Every page that lists
milestones shows it through templates/_macros/milestones.html as "Overdue since <date>
(N days)", and shows nothing for a milestone past its due date that the scan has not
flagged (it is within its grace period).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.awards.models import EvidenceSubmission, Milestone
from grants.core.calendar import format_date, tokyo_today
from grants.core.identity import Locale, Role
from grants.core.states import MilestoneState
from grants.extensions import db
from tests.support.approvals import approve
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
DUE = TODAY - timedelta(days=20)
SINCE = TODAY - timedelta(days=12)  # due date + 7 days' grace + 1
DAYS = 13  # SINCE counts as the first overdue day
MARKER = f"Overdue since {format_date(SINCE, 'en')} ({DAYS} days)"


@dataclass
class Page:
    """What one page needs: who looks, at which address, for which milestone."""

    user: User
    path: str
    milestone: Milestone


def _english(role: Role) -> User:
    return make_user(role, locale=Locale.en)


def _submitted(milestone: Milestone) -> None:
    milestone.round += 1
    milestone.state = MilestoneState.submitted
    db.session.add(
        EvidenceSubmission(
            milestone_id=milestone.id,
            round=milestone.round,
            narrative="Results attached.",
            measured=[{"metric": "IC50", "target": "<= 10", "unit": "nM", "value": "8"}],
        )
    )
    db.session.commit()


def _grant_page(world: GrantWorld) -> Page:
    return Page(_english(Role.officer), f"/grants/{world.grant.id}", world.milestones[0])


def _home(world: GrantWorld) -> Page:
    world.applicant.locale = Locale.en
    db.session.commit()
    return Page(world.applicant, "/", world.milestones[0])


def _portfolio(world: GrantWorld) -> Page:
    return Page(_english(Role.officer), "/officer/portfolio", world.milestones[0])


def _reviewer_queue(world: GrantWorld) -> Page:
    # A submitted milestone is never flagged by the services (evidence clears the flag);
    # the page shows whatever the flag says all the same.
    _submitted(world.milestones[0])
    reviewer = world.reviewers[0]
    reviewer.locale = Locale.en
    db.session.commit()
    return Page(reviewer, "/reviewer/queue", world.milestones[0])


def _review_decision(world: GrantWorld) -> Page:
    page = _reviewer_queue(world)
    return Page(page.user, f"/milestones/{page.milestone.id}/review", page.milestone)


def _release_queue(world: GrantWorld) -> Page:
    approve(world, world.milestones[0])
    return Page(_english(Role.officer), "/officer/milestones/awaiting-release", world.milestones[0])


def _release_page(world: GrantWorld) -> Page:
    approve(world, world.milestones[0])
    milestone = world.milestones[0]
    return Page(_english(Role.officer), f"/officer/milestones/{milestone.id}/release", milestone)


def _amendments(world: GrantWorld) -> Page:
    return Page(_english(Role.officer), f"/grants/{world.grant.id}/amendments", world.milestones[0])


def _terminate(world: GrantWorld) -> Page:
    path = f"/officer/grants/{world.grant.id}/terminate"
    return Page(_english(Role.officer), path, world.milestones[0])


def _evidence_form(world: GrantWorld) -> Page:
    world.applicant.locale = Locale.en
    db.session.commit()
    milestone = world.milestones[0]
    return Page(world.applicant, f"/milestones/{milestone.id}/evidence", milestone)


PAGES: dict[str, Callable[[GrantWorld], Page]] = {
    "grant page": _grant_page,
    "applicant home": _home,
    "officer portfolio": _portfolio,
    "reviewer queue": _reviewer_queue,
    "review decision": _review_decision,
    "release queue": _release_queue,
    "release page": _release_page,
    "amendments": _amendments,
    "terminate": _terminate,
    "evidence form": _evidence_form,
}


def _get(client: FlaskClient, page: Page) -> str:
    login(client, page.user.email)
    response = client.get(page.path)
    assert response.status_code == 200, page.path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_a_flagged_milestone_is_marked_with_its_date(
    app: Flask, client: FlaskClient, name: str
) -> None:
    world = make_grant(first_due=DUE)
    page = PAGES[name](world)
    page.milestone.overdue_since = SINCE
    db.session.commit()
    html = _get(client, page)
    assert MARKER in html, name
    assert f'class="badge badge-fail badge-overdue" data-overdue-since="{SINCE.isoformat()}"' in (
        html
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_past_due_without_the_flag_is_not_marked(
    app: Flask, client: FlaskClient, name: str
) -> None:
    world = make_grant(first_due=DUE)  # 20 days past due; the scan has not flagged it
    html = _get(client, PAGES[name](world))
    assert "badge-overdue" not in html and "Overdue since" not in html, name
    assert "days overdue" not in html and "Overdue by" not in html


def test_the_marker_in_japanese(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=date(2026, 9, 30))
    world.milestones[0].overdue_since = date(2026, 10, 1)
    db.session.commit()
    login(client, world.applicant.email)  # ja
    html = client.get(f"/grants/{world.grant.id}").get_data(as_text=True)
    marker = re.search(r'<span class="badge badge-fail badge-overdue"[^>]*>([^<]*)</span>', html)
    assert marker and "2026年10月1日" in marker.group(1)


# --- every template that lists milestones uses the shared macro --------------------------

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Shows a milestone's due date, or loops over milestones.
_LISTS_MILESTONES = re.compile(
    r"(\.due_date|milestone_due)\s*\|\s*day|\.due_text\b"
    r"|{%-?\s*for\s+[\w, ]+\s+in\s+[\w.]*(milestones|cancelled)\b"
)
_USES_MACRO = re.compile(
    r'{%-?\s*from\s+"_macros/milestones\.html"\s+import\s+[^%]*overdue_(marker|text)'
)
EXEMPT = {
    # an application's proposed plan: no milestone exists yet, none can be overdue
    "applications/_details.html",
    "applications/plan.html",
    # the macros themselves
    "_macros/milestones.html",
}
# Found by the pattern today; the test fails if the pattern stops finding one of them.
KNOWN = {
    "_macros/charts.html",  # the timeline SVG and its table
    "alerts/inbox.html",
    "amendments/index.html",
    "milestones/evidence/new.html",
    "awards/termination/terminate.html",
    "awards/show.html",
    "portfolio/home/home.html",
    "portfolio/index.html",
    "releases/_awaiting_table.html",
    "releases/show.html",
    "milestones/reviews/decide.html",
    "milestones/reviews/queue.html",
    "milestones/index.html",
    "milestones/assignments/bulk.html",
    "releases/queue.html",
}


def _listing_templates() -> set[str]:
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text(encoding="utf-8")
        if _LISTS_MILESTONES.search(text) or "alert.milestone" in text:
            found.add(name)
    return found - EXEMPT


def test_every_template_that_lists_milestones_uses_the_shared_macro() -> None:
    listing = _listing_templates()
    assert listing >= KNOWN, KNOWN - listing
    missing = {
        name
        for name in listing
        if not _USES_MACRO.search((TEMPLATES / name).read_text(encoding="utf-8"))
    }
    assert missing == set(), f"list milestones without the overdue marker: {sorted(missing)}"


_COUNTED_FROM_THE_DUE_DATE = re.compile(r"%\(num\)d days? overdue|Overdue by")


def test_no_template_decides_overdue_from_the_due_date() -> None:
    """The words and the rule live in the macro only: no page counts days from a due date."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES).as_posix()
        assert not _COUNTED_FROM_THE_DUE_DATE.search(text), name
        if name != "_macros/milestones.html":
            assert "Overdue since" not in text, name
