"""My work reads a fixed number of statements per role, whatever the data."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from grants.accounts.models import User
from grants.awards.models import Milestone
from grants.core.calendar import tokyo_today
from grants.extensions import db
from tests.support.api import ApiClient
from tests.support.bulk import APPLICANT, OFFICER, REVIEWER, Sizes, empty_tables
from tests.support.lists import bulk_lists
from tests.support.queries import count_queries
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
SMALL = Sizes(grants=10, milestones_per_grant=6, own_grants=5, reviewed_grants=10)
LARGE = Sizes(grants=200, milestones_per_grant=6, own_grants=100, reviewed_grants=200)


def _statements(app: Flask, sizes: Sizes) -> dict[str, tuple[int, int]]:
    """(page, API) statements of My work for each role."""
    bulk_lists(app, sizes, TODAY)
    # one milestone flagged overdue at least: a section with nothing reads its rows not at all
    first = db.session.scalars(select(Milestone).order_by(Milestone.id).limit(1)).one()
    first.overdue_since = first.overdue_since or TODAY
    db.session.commit()
    found = {}
    for email in (OFFICER, REVIEWER, APPLICANT):
        web = app.test_client()
        login(web, email)
        api = ApiClient(
            app.test_client(), db.session.scalars(select(User).where(User.email == email)).one()
        )
        counts = []
        for client, path in ((web, "/work"), (api, "/api/v1/me/work")):
            assert client.get(path).status_code == 200  # warm-up: kept figures, caches
            with count_queries() as statements:
                response = client.get(path)
            assert response.status_code == 200
            counts.append(len(statements))
        found[email] = (counts[0], counts[1])
    empty_tables()
    return found


def test_statement_counts_do_not_grow_with_the_data(app: Flask) -> None:
    small = _statements(app, SMALL)
    assert _statements(app, LARGE) == small
    assert max(n for counts in small.values() for n in counts) <= 25, small
