"""The main pages run the same number of SQL statements at 10 and at 1,000 grants.

Data is bulk-inserted (tests/support/bulk.py). The applicant's organization owns half of
the grants and the reviewer is assigned to all of them, so that what each page shows
grows a hundredfold between the two sizes while its statement count must not move.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from werkzeug.security import generate_password_hash

from grants.core.calendar import tokyo_today
from grants.milestones.reviews.queries import REVIEW_QUEUE
from grants.portfolio.queries import PORTFOLIO
from tests.support.bulk import APPLICANT, OFFICER, REVIEWER, Sizes, empty_tables, populate
from tests.support.factories import PASSWORD
from tests.support.queries import count_queries
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
SMALL = Sizes(grants=10, milestones_per_grant=6, own_grants=5, reviewed_grants=10)
LARGE = Sizes(grants=1_000, milestones_per_grant=6, own_grants=500, reviewed_grants=1_000)
PAGES = {
    "applicant dashboard": (APPLICANT, "/"),
    "reviewer queue": (REVIEWER, "/reviewer/queue"),
    "officer portfolio": (OFFICER, "/officer/portfolio"),
    "reviewer home": (REVIEWER, "/"),
    "officer home": (OFFICER, "/"),
}
# What each page lists, to show that it did render the bigger data set.
_ITEMS = {
    "applicant dashboard": re.compile(r'<li class="strip-step '),
    "reviewer queue": re.compile(r'href="/milestones/\d+/review"'),
    "officer portfolio": re.compile(r'class="portfolio-row'),
}


def _measure(app: Flask, sizes: Sizes) -> dict[str, tuple[int, int]]:
    """Per page: (statements of one request, items listed), on a fresh data set of `sizes`."""
    populate(sizes, TODAY, generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"]))
    found = {}
    for name, (email, path) in PAGES.items():
        client = app.test_client()
        login(client, email)
        assert client.get(path).status_code == 200  # warm-up: caches, pool, templates
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200, name
        pattern = _ITEMS.get(name)
        items = len(pattern.findall(response.get_data(as_text=True))) if pattern else 0
        found[name] = (len(statements), items)
    empty_tables()
    return found


def test_statement_counts_do_not_grow_with_the_data(app: Flask) -> None:
    small = _measure(app, SMALL)
    large = _measure(app, LARGE)
    counts = {name: (small[name][0], large[name][0]) for name in PAGES}
    assert all(a == b for a, b in counts.values()), counts
    # the pages did show a hundred times more (the portfolio up to its page size)
    assert small["applicant dashboard"][1] == 5 * 6 and large["applicant dashboard"][1] == 500 * 6
    # the reviewer's queue a page at a time too (of more than a thousand rounds)
    assert small["reviewer queue"][1] >= 10 and large["reviewer queue"][1] == REVIEW_QUEUE.per_page
    assert (
        small["officer portfolio"][1] == 10 and large["officer portfolio"][1] == PORTFOLIO.per_page
    )
    assert max(a for a, _ in counts.values()) <= 20, counts
