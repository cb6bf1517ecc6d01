"""Every list people work with, in the pages and the API, over the bulk data set.

`LISTS` names each list's page and endpoint, who reads it, its Listing (the sort keys
it offers), a filtered and sorted address of each, and the key of its items' ids in the
API. `bulk_lists(app, sizes)` loads tests/support/bulk.py's data with what it lacks for
the lists (an administrator, amendment requests, alerts, tranches awaiting release).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from grants.accounts.models import User
from grants.accounts.queries import ORGANIZATIONS, USERS
from grants.alerts.inbox.queries import ALERTS
from grants.alerts.models import Alert
from grants.amendments.queries import AMENDMENTS
from grants.applications.queries import APPLICATIONS
from grants.applications.screening.queries import SCREENING
from grants.awards.listing.queries import GRANTS
from grants.awards.models import Amendment, Grant, Milestone
from grants.core.identity import Role
from grants.core.lists import Listing
from grants.core.states import AmendmentKind, AmendmentState, GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.assignments.queries import ASSIGNABLE
from grants.milestones.queries import MILESTONES
from grants.milestones.reviews.queries import REVIEW_QUEUE
from grants.portfolio.queries import PORTFOLIO
from grants.releases.queries import RELEASES
from tests.support.bulk import OFFICER, REVIEWER, Sizes, populate
from tests.support.factories import PASSWORD

ADMIN = "admin@bulk.example.jp"


@dataclass(frozen=True)
class ListCase:
    who: str  # the e-mail address of the reader
    web: str | None  # the page
    api: str | None  # the endpoint
    web_listing: Listing
    api_listing: Listing | None = None  # when it differs from the page's
    web_query: str = ""  # filtered and sorted, as the page names its parameters
    api_query: str = ""  # ... and as the endpoint does
    id_key: str = "id"  # of the API's items
    state_key: str = "state"  # the API's name of the state filter

    @property
    def listing(self) -> Listing:
        return self.api_listing or self.web_listing


LISTS: dict[str, ListCase] = {
    "applications": ListCase(
        OFFICER,
        "/applications",
        "/api/v1/applications",
        APPLICATIONS,
        web_query="state=awarded&q=Project&sort=title&direction=desc",
        api_query="status=awarded&q=Project&sort=title&direction=desc",
        state_key="status",
    ),
    "screening": ListCase(
        OFFICER,
        "/officer/screening",
        "/api/v1/screening",
        SCREENING,
        web_query="program_id=1&sort=requested_subsidy",
        api_query="program_id=1&sort=requested_subsidy",
    ),
    "grants": ListCase(
        OFFICER,
        "/officer/portfolio",
        "/api/v1/grants",
        PORTFOLIO,
        GRANTS,
        web_query="state=active&overdue=0&q=BULK&sort=next_due&direction=desc",
        api_query="status=active&overdue=false&q=BULK&sort=next_due&direction=desc",
        state_key="status",
    ),
    "milestones": ListCase(
        OFFICER,
        "/milestones",
        "/api/v1/milestones",
        MILESTONES,
        web_query="state=planned&fiscal_year=2026&sort=tranche_amount&direction=desc",
        api_query="state=planned&fiscal_year=2026&sort=tranche_amount&direction=desc",
    ),
    "reviewer queue": ListCase(
        REVIEWER,
        "/reviewer/queue",
        "/api/v1/reviewer/queue",
        REVIEW_QUEUE,
        web_query="program_id=1&q=BULK&sort=grant&direction=desc",
        api_query="program_id=1&q=BULK&sort=grant&direction=desc",
    ),
    "releases": ListCase(
        OFFICER,
        "/officer/milestones/awaiting-release",
        "/api/v1/releases/awaiting",
        RELEASES,
        web_query="program_id=1&q=Milestone&sort=approved&direction=desc",
        api_query="program_id=1&q=Milestone&sort=approved&direction=desc",
        id_key="milestone_id",
    ),
    "amendments": ListCase(
        OFFICER,
        "/officer/amendments",
        "/api/v1/amendments",
        AMENDMENTS,
        web_query="state=requested&kind=due_date&sort=grant",
        api_query="state=requested&kind=due_date&sort=grant",
    ),
    "users": ListCase(
        ADMIN,
        "/admin/users",
        "/api/v1/users",
        USERS,
        web_query="state=active&kind=reviewer&q=bulk&sort=name&direction=desc",
        api_query="state=active&kind=reviewer&q=bulk&sort=name&direction=desc",
    ),
    "organizations": ListCase(
        ADMIN,
        "/admin/organizations",
        "/api/v1/organizations",
        ORGANIZATIONS,
        web_query="kind=startup&q=Grantee&sort=created&direction=desc",
        api_query="kind=startup&q=Grantee&sort=created&direction=desc",
    ),
    "alerts": ListCase(
        OFFICER,
        "/alerts",
        "/api/v1/alerts",
        ALERTS,
        web_query="state=unread&kind=overdue&sort=kind",
        api_query="state=unread&kind=overdue&sort=kind",
    ),
    "assignable grants": ListCase(
        OFFICER,
        "/officer/grants/reviewers",
        None,
        ASSIGNABLE,
        web_query="state=short_of_reviewers&program_id=1&sort=organization",
    ),
}


def bulk_lists(app: Flask, sizes: Sizes, today: date) -> None:
    """The bulk data set, with an administrator, three amendment requests, three alerts
    for the officer and three tranches awaiting their release."""
    password_hash = generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
    populate(sizes, today, password_hash)
    db.session.add(
        User(email=ADMIN, name="Admin", password_hash=password_hash, role=Role.admin, locale="en")
    )
    officer = db.session.scalars(select(User).where(User.email == OFFICER)).one()
    planned = db.session.scalars(
        select(Milestone)
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(Milestone.state == MilestoneState.planned, Grant.state == GrantState.active)
        .order_by(Milestone.id)
        .limit(6)
    ).all()
    for milestone in planned[:3]:
        db.session.add(
            Amendment(
                grant_id=milestone.grant_id,
                milestone_id=milestone.id,
                kind=AmendmentKind.due_date,
                state=AmendmentState.requested,
                new_due_date=milestone.due_date,
                reason="More time",
            )
        )
        db.session.add(
            Alert(
                user_id=officer.id,
                subject_type="milestone",
                subject_id=milestone.id,
                kind="overdue",
                tier=1,
                grant_id=milestone.grant_id,
                milestone_id=milestone.id,
                scan_date=today,
            )
        )
    for milestone in planned[3:]:
        milestone.state = MilestoneState.approved
        milestone.decided_at = datetime(2026, 4, 1, tzinfo=UTC)
        milestone.overdue_since = None
    db.session.commit()
