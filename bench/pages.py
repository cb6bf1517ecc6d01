"""The three main pages at 10,000 grants and 80,000 milestones, against a trivial page.

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
Requests are interleaved page by page, round after round, so that load hits every page
alike; each page's median is compared with the trivial page's.

One line per page: <page> median=<ms> queries=<statements of one request>, then LAST:
RESULT bench=pages ratio=<worst page median / trivial median> queries=<max per page>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from grants import create_app  # noqa: E402
from grants.core.calendar import tokyo_today  # noqa: E402
from grants.extensions import db  # noqa: E402
from tests.support import pgcluster  # noqa: E402
from tests.support.bulk import APPLICANT, OFFICER, REVIEWER, Sizes, populate  # noqa: E402
from tests.support.factories import PASSWORD  # noqa: E402
from tests.support.web import login  # noqa: E402

TRIVIAL = "trivial signed-in page (GET /tasks as the officer, empty)"
# For context only: the anonymous login form (no session, no user, no navigation).
ANONYMOUS = "anonymous reference (GET /login)"
PAGES = {
    "applicant dashboard (GET /)": (APPLICANT, "/"),
    "reviewer queue (GET /reviewer/queue)": (REVIEWER, "/reviewer/queue"),
    "officer portfolio (GET /officer/portfolio)": (OFFICER, "/officer/portfolio"),
}


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


def get(client: FlaskClient, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
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
        populate(sizes, tokyo_today(datetime.now(UTC)), password_hash)
        print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        engine = db.engine
        db.session.remove()
    return app, engine


def measure(app: Flask, engine: Engine, rounds: int) -> dict[str, tuple[float, int]]:
    """Per page (and the trivial one): (median seconds, statements of one request)."""
    clients: dict[str, tuple[FlaskClient, str]] = {ANONYMOUS: (app.test_client(), "/login")}
    for name, (email, path) in {TRIVIAL: (OFFICER, "/tasks"), **PAGES}.items():
        client = app.test_client()
        login(client, email)
        clients[name] = (client, path)
    queries = {}
    for name, (client, path) in clients.items():
        for _ in range(3):  # warm-up: templates, statement caches, query plans
            get(client, path)
        with counting(engine) as statements:
            get(client, path)
        queries[name] = len(statements)
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, (client, path) in clients.items():
            times[name].append(get(client, path))
    return {name: (statistics.median(times[name]), queries[name]) for name in clients}


def run(url: str, sizes: Sizes, rounds: int) -> dict[str, tuple[float, int]]:
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
    worst = slowest / trivial
    most = max(results[name][1] for name in PAGES)
    print(f"RESULT bench=pages ratio={worst:.2f} queries={most}")


if __name__ == "__main__":
    main()
