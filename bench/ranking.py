"""The ranking page of a call of 2,000 applications x 3 reviewers x 5 criteria, against a
trivial page.

Run from the repository root: `python bench/ranking.py` (SQLite file in a temporary
directory) or `python bench/ranking.py --postgres` (a throwaway cluster from
tests/support/pgcluster.py).

Data is bulk-inserted by tests/support/merit_bulk.py: every application under review with
a three-tranche plan and a certified lead VC, scored by three of sixty reviewers on the
five criteria of AMED's rubric (30,000 scores), and budget pools that hold about half of
them, so that the funding line falls mid-list. Each page is served by the WSGI app through
app.test_client(), signed in through the login form. The trivial page is the officer's
empty list of background tasks (GET /tasks), as in bench/pages.py.

The ranking is kept per process while the tables it reads stand still (their latest stamps,
core.audit_marks.kept_while): the timed requests change nothing, so after the first one
they read the kept ranking and render a page of it (50 rows, the pools, the chart). The
first request after a change computes the whole ranking (every application's award amount
and commitments, every score); it is timed too, as "cold", from an emptied memo before each
round, and its statements counted: the count does not depend on the number of applications.

One line per page: <page> median=<ms> queries=<statements of one request>, then LAST:
RESULT bench=ranking ratio=<ranking page median / trivial median> queries=<cold request>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from bench.pages import counting, get  # noqa: E402
from grants import create_app  # noqa: E402
from grants.core.calendar import tokyo_today  # noqa: E402
from grants.extensions import db  # noqa: E402
from tests.support import pgcluster  # noqa: E402
from tests.support.factories import PASSWORD  # noqa: E402
from tests.support.merit_bulk import OFFICER, populate  # noqa: E402
from tests.support.web import login  # noqa: E402

TRIVIAL = "trivial signed-in page (GET /tasks as the officer, empty)"
RANKING = "ranking page (GET /officer/programs/1/ranking)"
COLD = "ranking page, computed anew (after a change)"
MEMOS = ("grants.audit_marks", "grants.audit_marks.marked")  # what a new process starts without


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="run on a throwaway cluster")
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--reviewers", type=int, default=3, help="per application")
    parser.add_argument("--rounds", type=int, default=25, help="timed requests per page")
    return parser.parse_args()


def prepare(url: str, applications: int, reviewers: int) -> tuple[Flask, Engine, int]:
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        password_hash = generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
        program_id = populate(
            applications, tokyo_today(datetime.now(UTC)), password_hash, reviewers
        )
        print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        engine = db.engine
        db.session.remove()
    return app, engine, program_id


def measure(
    app: Flask, engine: Engine, program_id: int, rounds: int
) -> dict[str, tuple[float, int]]:
    path = f"/officer/programs/{program_id}/ranking"
    client: FlaskClient = app.test_client()
    login(client, OFFICER)
    pages = {TRIVIAL: "/tasks", RANKING: path}
    queries = {}
    for name, page in pages.items():
        for _ in range(3):  # warm-up: templates, statement caches, query plans, the kept ranking
            get(client, page)
        with counting(engine) as statements:
            get(client, page)
        queries[name] = len(statements)
    _forget(app)
    with counting(engine) as statements:
        get(client, path)
    queries[COLD] = len(statements)
    times: dict[str, list[float]] = {name: [] for name in (*pages, COLD)}
    for _ in range(rounds):
        for name, page in pages.items():
            times[name].append(get(client, page))
        _forget(app)
        times[COLD].append(get(client, path))
    return {name: (statistics.median(found), queries[name]) for name, found in times.items()}


def _forget(app: Flask) -> None:
    for memo in MEMOS:
        app.extensions.pop(memo, None)


def main() -> None:
    args = parse_args()
    if args.postgres:
        cluster = pgcluster.start()
        try:
            results = run(cluster.url, args)
        finally:
            cluster.stop()
        database = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            results = run(f"sqlite:///{tmp}/bench.sqlite3", args)
        database = "sqlite"
    scores = args.applications * args.reviewers * 5
    print(f"{database}: {args.applications} applications, {scores} scores, {args.rounds} rounds")
    trivial = results[TRIVIAL][0]
    for name, (median, queries) in results.items():
        ratio = "" if name == TRIVIAL else f" ratio={median / trivial:.2f}"
        print(f"{name}: median={median * 1000:.2f} ms queries={queries}{ratio}")
    ratio = results[RANKING][0] / trivial
    most = max(results[RANKING][1], results[COLD][1])
    print(f"RESULT bench=ranking ratio={ratio:.2f} queries={most}")


def run(url: str, args: argparse.Namespace) -> dict[str, tuple[float, int]]:
    app, engine, program_id = prepare(url, args.applications, args.reviewers)
    try:
        return measure(app, engine, program_id, args.rounds)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
