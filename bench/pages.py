"""The three main pages and every list, filtered and sorted, at 10,000 grants and 80,000
milestones, against a trivial page.

Run from the repository root: `python bench/pages.py` (SQLite file in a temporary
directory) or `python bench/pages.py --postgres` (a throwaway cluster from
tests/support/pgcluster.py).

Data is bulk-inserted by tests/support/bulk.py: the applicant's organization owns 5
grants, the reviewer is assigned to 20 (each with evidence waiting), the officer's
portfolio pages through all of them 25 at a time. Each page is served by the WSGI app
through app.test_client(), signed in through the login form. The trivial page is the
officer's empty list of background tasks (GET /tasks): the same layout and the same
per-request work as every signed-in page (session, user, unread alerts, navigation) with
no content, so the ratio measures what a page's content costs. The anonymous login form
is timed too, for reference (a signed-in page without content already costs about 2.5
times it); it is not in the ratio.
The portfolio's figures (programme health, budget pools and their charts, the totals of
the tranches awaiting release and of the grants) are kept as always while the data
stands still (core/audit_marks.py): the timed requests change nothing, so they read the
kept figures after the first one; the page of grants and the oldest awaiting tranches are
read from the database on every request.
The lists people work with are timed the same way, each filtered and sorted as a reader
would ask (a state or a year, a search term, a column other than the default, often
descending), in the pages and, for the larger ones, in the API (a personal token): the
data then also holds an administrator, an amendment request for one grant in twenty, and
the alerts the scheduler's scan creates on the day (officers' overdue and escalation
alerts). Their figures, like the pages', are read from the database on every request
except what is kept while the data stands still (the fiscal years of the filters, the
count and sum of the tranches awaiting release, the grants short of reviewers).
Requests are interleaved page by page, round after round, so that load hits every page
alike; each page's median is compared with the trivial page's.

One line per page: <page> median=<ms> queries=<statements of one request>, then the
worst of the main pages and the worst of the lists, and LAST:
RESULT bench=pages ratio=<worst page or list median / trivial median> queries=<max per page>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, func, insert, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from grants import create_app  # noqa: E402
from grants.accounts.models import User  # noqa: E402
from grants.alerts.scan.service import scan  # noqa: E402
from grants.awards.models import Amendment, Milestone  # noqa: E402
from grants.core.actors import SYSTEM  # noqa: E402
from grants.core.calendar import fiscal_year, tokyo_today  # noqa: E402
from grants.core.identity import Role  # noqa: E402
from grants.core.states import MilestoneState  # noqa: E402
from grants.extensions import db  # noqa: E402
from tests.support import pgcluster  # noqa: E402
from tests.support.api import token_for  # noqa: E402
from tests.support.bulk import APPLICANT, OFFICER, REVIEWER, Sizes, populate  # noqa: E402
from tests.support.factories import PASSWORD  # noqa: E402
from tests.support.web import login  # noqa: E402

TRIVIAL = "trivial signed-in page (GET /tasks as the officer, empty)"
# For context only: the anonymous login form (no session, no user, no navigation).
ANONYMOUS = "anonymous reference (GET /login)"
MAIN = {
    "applicant dashboard (GET /)": (APPLICANT, "/"),
    "reviewer queue (GET /reviewer/queue)": (REVIEWER, "/reviewer/queue"),
    "officer portfolio (GET /officer/portfolio)": (OFFICER, "/officer/portfolio"),
}
ADMIN = "admin@bulk.example.jp"
FY = "{fy}"  # the fiscal year of the day, filled in when the data is loaded
# Each list filtered and sorted as a reader would ask; "API " lists answer JSON to a token.
LISTS = {
    "applications": (OFFICER, "/applications?state=awarded&sort=title&direction=desc"),
    "screening": (OFFICER, "/officer/screening?state=submitted&sort=requested_subsidy"),
    "portfolio, overdue by next due": (OFFICER, "/officer/portfolio?overdue=1&sort=next_due"),
    "portfolio, searched": (OFFICER, "/officer/portfolio?q=BULK-00012&sort=number"),
    "milestones, year and state": (
        OFFICER,
        f"/milestones?fiscal_year={FY}&state=planned&sort=due_date&direction=desc",
    ),
    "milestones, overdue": (OFFICER, "/milestones?overdue=1&sort=grant"),
    "applicant's milestones": (APPLICANT, "/milestones?state=approved&sort=tranche_amount"),
    "reviewer queue, by grant": (REVIEWER, "/reviewer/queue?sort=grant&direction=desc"),
    "release queue": (
        OFFICER,
        "/officer/milestones/awaiting-release?sort=tranche_amount&direction=desc",
    ),
    "amendments": (OFFICER, "/officer/amendments?state=requested&sort=grant"),
    "users": (ADMIN, "/admin/users?kind=reviewer&sort=name&direction=desc"),
    "organisations": (ADMIN, "/admin/organizations?kind=startup&q=Grantee&sort=created"),
    "alerts": (OFFICER, "/alerts?state=unread&sort=kind"),
    "assign reviewers": (OFFICER, "/officer/grants/reviewers?state=short_of_reviewers"),
    "my work (officer)": (OFFICER, "/work"),
    "API grants": (OFFICER, "/api/v1/grants?overdue=true&sort=award&direction=desc"),
    "API milestones": (
        OFFICER,
        f"/api/v1/milestones?fiscal_year={FY}&state=submitted&sort=tranche_amount&direction=desc",
    ),
    "API my work (officer)": (OFFICER, "/api/v1/me/work"),
}
PAGES = {**MAIN, **{f"list: {name}": where for name, where in LISTS.items()}}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="run on a throwaway cluster")
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--milestones", type=int, default=8, help="per grant")
    parser.add_argument("--rounds", type=int, default=25, help="timed requests per page")
    return parser.parse_args()


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def get(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return elapsed


def prepare(url: str, sizes: Sizes) -> tuple[Flask, Engine]:
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url}
    app = create_app(config)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        password_hash = generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
        today = tokyo_today(datetime.now(UTC))
        populate(sizes, today, password_hash)
        _for_the_lists(app, today, password_hash)
        print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        engine = db.engine
        db.session.remove()
    return app, engine


def _for_the_lists(app: Flask, today: date, password_hash: str) -> None:
    """An administrator, an amendment request for one grant in twenty (its first open
    milestone), and the day's alerts from the scheduler's scan."""
    db.session.add(
        User(email=ADMIN, name="Admin", password_hash=password_hash, role=Role.admin, locale="en")
    )
    first_open = (
        select(Milestone.grant_id, func.min(Milestone.id).label("milestone_id"))
        .where(Milestone.state == MilestoneState.planned)
        .group_by(Milestone.grant_id)
        .subquery()
    )
    rows = db.session.execute(
        select(first_open.c.grant_id, first_open.c.milestone_id).where(
            first_open.c.grant_id % 20 == 0
        )
    ).all()
    db.session.execute(
        insert(Amendment),
        [
            {"grant_id": grant_id, "milestone_id": milestone_id, "kind": "due_date",
             "state": "requested", "new_due_date": today + timedelta(days=60),
             "reason": "More time"}
            for grant_id, milestone_id in rows
        ],
    )  # fmt: skip
    db.session.commit()
    scan(SYSTEM, today, app.config)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _client(app: Flask, email: str, path: str) -> tuple[FlaskClient, dict[str, str]]:
    """A client signed in as `email`, or with a personal token of theirs for the API."""
    client = app.test_client()
    if not path.startswith("/api/"):
        login(client, email)
        return client, {}
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        secret = token_for(user)
        db.session.remove()
    return client, {"Authorization": f"Bearer {secret}"}


def measure(app: Flask, engine: Engine, rounds: int) -> dict[str, tuple[float, int]]:
    """Per page (and the trivial one): (median seconds, statements of one request)."""
    anonymous = app.test_client()
    clients: dict[str, tuple[FlaskClient, str, dict[str, str]]] = {
        ANONYMOUS: (anonymous, "/login", {})
    }
    signed_in: dict[str, FlaskClient] = {}  # one sign-in each: the sign-in limit counts them
    for name, (email, path) in {TRIVIAL: (OFFICER, "/tasks"), **PAGES}.items():
        if path.startswith("/api/"):
            client, headers = _client(app, email, path)
            clients[name] = (client, path, headers)
            continue
        if email not in signed_in:
            signed_in[email] = _client(app, email, path)[0]
        clients[name] = (signed_in[email], path, {})
    queries = {}
    for name, (client, path, headers) in clients.items():
        for _ in range(3):  # warm-up: templates, statement caches, query plans
            get(client, path, headers)
        with counting(engine) as statements:
            get(client, path, headers)
        queries[name] = len(statements)
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, (client, path, headers) in clients.items():
            times[name].append(get(client, path, headers))
    return {name: (statistics.median(times[name]), queries[name]) for name in clients}


def run(url: str, sizes: Sizes, rounds: int) -> dict[str, tuple[float, int]]:
    year = fiscal_year(tokyo_today(datetime.now(UTC)))
    for name, (email, path) in list(PAGES.items()):
        PAGES[name] = (email, path.replace(FY, str(year)))
    app, engine = prepare(url, sizes)
    try:
        return measure(app, engine, rounds)
    finally:
        engine.dispose()


def main() -> None:
    args = parse_args()
    sizes = Sizes(grants=args.grants, milestones_per_grant=args.milestones)
    if args.postgres:
        cluster = pgcluster.start()
        try:
            results = run(cluster.url, sizes, args.rounds)
        finally:
            cluster.stop()
        database = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            results = run(f"sqlite:///{tmp}/bench.sqlite3", sizes, args.rounds)
        database = "sqlite"
    n_milestones = sizes.grants * sizes.milestones_per_grant
    print(f"{database}: {sizes.grants} grants, {n_milestones} milestones, {args.rounds} rounds")
    trivial = results[TRIVIAL][0]
    for name, (median, queries) in results.items():
        ratio = f" ratio={median / trivial:.2f}" if name in PAGES else ""
        print(f"{name}: median={median * 1000:.2f} ms queries={queries}{ratio}")
    slowest = max(results[name][0] for name in PAGES)
    anonymous = slowest / results[ANONYMOUS][0]
    print(f"worst page against the anonymous login form: ratio={anonymous:.2f}")
    for group, names in (("main pages", MAIN), ("lists", [n for n in PAGES if n not in MAIN])):
        name = max(names, key=lambda n: results[n][0])
        print(f"worst of the {group}: {name} ratio={results[name][0] / trivial:.2f}")
    worst = slowest / trivial
    most = max(results[name][1] for name in PAGES)
    print(f"RESULT bench=pages ratio={worst:.2f} queries={most}")


if __name__ == "__main__":
    main()
