"""A mixed load on the production server set-up: gunicorn (config/gunicorn.conf.py) with 2
workers x 4 threads, on PostgreSQL (a throwaway cluster from tests/support/pgcluster.py)
and then on SQLite (a file in a temporary directory).

Run from the repository root: `python bench/load.py` (`--only sqlite` or `--only
postgresql` for one of them; `--requests` and `--concurrency` to change the load).

Each database is migrated and loaded with the demo data (`flask grants demo`), API tokens
are made for the demo accounts (`flask grants create-token`), and the server is started
in production mode on loopback. Then `--concurrency` client threads (each signed in as one
demo account, with its token) send `--requests` requests in all, from one shuffled list:
the main pages of each role, API reads, a few writes (an API token made and revoked), and
GET /healthz, the trivial endpoint, mixed in with the rest so that it waits in the same
queues. A request counts as an error when it does not answer the expected status.

One line per database with the details, each ending in
RESULT bench=load db=<db> p95_ratio=<p95 of the workload / p95 of /healthz> errors=<n>
rps=<requests per second>, then LAST the worse of the two (the higher ratio).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import pgcluster  # noqa: E402
from tests.support.smtp import free_port  # noqa: E402

PASSWORD = "demo-password"
HEALTH = "GET /healthz"
# (account, pages it opens, API reads it makes)
ROLES = {
    "applicant@example.jp": (["/", "/applications", "/alerts"], ["/api/v1/grants"]),
    "applicant2@example.jp": (["/", "/alerts"], ["/api/v1/applications"]),
    "reviewer@example.jp": (["/", "/reviewer/queue"], ["/api/v1/alerts"]),
    "officer@example.jp": (
        ["/", "/officer/portfolio", "/officer/milestones/awaiting-release", "/officer/screening"],
        ["/api/v1/grants", "/api/v1/budget-pools", "/api/v1/screening"],
    ),
}
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="per database")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--seed", type=int, default=19)
    return parser.parse_args()


# --- the server -------------------------------------------------------------------------------


def environment(url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "GRANTS_ENV": "production",
        "GRANTS_SECRET_KEY": "bench-load-secret-key",
        "GRANTS_DATABASE_URL": url,
        "GRANTS_UPLOAD_FOLDER": str(folder / "uploads"),
        "GRANTS_TASK_RESULT_FOLDER": str(folder / "task-results"),
        "GRANTS_MAIL_BACKEND": "log",
        # Plain HTTP on loopback: cookies without Secure, no HSTS; many sign-ins from one
        # address.
        "GRANTS_SESSION_COOKIE_SECURE": "false",
        "GRANTS_REMEMBER_COOKIE_SECURE": "false",
        "GRANTS_HSTS_MAX_AGE": "0",
        "GRANTS_LOGIN_RATE_LIMIT": "100000 per minute",
    }


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, load the demo data; an API token per account."""
    started = time.perf_counter()
    flask(env, "db", "upgrade")
    flask(env, "grants", "demo")
    tokens = {}
    for email in ROLES:
        out = flask(env, "grants", "create-token", "--email", email, "--name", "bench")
        tokens[email] = out.strip().splitlines()[-1]
    print(f"  prepared in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return tokens


@contextmanager
def gunicorn(env: dict[str, str], port: int) -> Iterator[str]:
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"),
        *("--access-logfile", os.devnull, "wsgi:app"),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not answer /healthz within a minute")
        time.sleep(0.2)


# --- the load --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: str  # "page", "api", "write" or "health"
    path: str


@dataclass
class Client:
    email: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)


@dataclass
class Outcome:
    timings: dict[str, list[float]] = field(default_factory=lambda: {"work": [], "health": []})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.timings["health" if kind == "health" else "work"].append(seconds)
            if error:
                self.errors.append(error)


def sign_in(base: str, client: Client) -> None:
    page = client.session.get(f"{base}/login", timeout=30).text
    token = _CSRF.search(page)
    form = {"csrf_token": token.group(1) if token else "", "email": client.email}
    answer = client.session.post(
        f"{base}/login", data={**form, "password": PASSWORD}, timeout=30, allow_redirects=False
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {client.email} answered {answer.status_code}")


def plan(email: str, count: int, rng: random.Random) -> list[Step]:
    """`count` steps of one account: 20 % /healthz, 5 % writes, pages and API reads."""
    pages, reads = ROLES[email]
    steps = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.20:
            steps.append(Step("health", "/healthz"))
        elif draw < 0.25:
            steps.append(Step("write", "/api/v1/tokens"))
        elif draw < 0.65:
            steps.append(Step("page", rng.choice(pages)))
        else:
            steps.append(Step("api", rng.choice(reads)))
    return steps


def perform(base: str, client: Client, step: Step) -> str | None:
    """Send one step; the error it met, or None."""
    bearer = {"Authorization": f"Bearer {client.token}"}
    url = f"{base}{step.path}"
    if step.kind == "write":
        made = client.session.post(url, json={"name": "bench write"}, headers=bearer, timeout=60)
        if made.status_code != 201:
            return f"POST {step.path}: {made.status_code}"
        gone = client.session.delete(f"{url}/{made.json()['id']}", headers=bearer, timeout=60)
        return None if gone.status_code == 204 else f"DELETE {step.path}: {gone.status_code}"
    headers = bearer if step.kind == "api" else {}
    answer = client.session.get(url, headers=headers, timeout=60, allow_redirects=False)
    return None if answer.status_code == 200 else f"GET {step.path}: {answer.status_code}"


def drive(base: str, clients: list[Client], total: int, seed: int) -> tuple[Outcome, float]:
    """Every client sends its share of `total` steps at once; the outcome and the seconds."""
    outcome = Outcome()
    rng = random.Random(seed)
    shares = [plan(c.email, total // len(clients), rng) for c in clients]

    def worker(client: Client, steps: list[Step]) -> None:
        for step in steps:
            started = time.perf_counter()
            try:
                error = perform(base, client, step)
            except requests.RequestException as exc:
                error = f"{step.path}: {type(exc).__name__}"
            outcome.add(step.kind, time.perf_counter() - started, error)

    pairs = zip(clients, shares, strict=True)
    threads = [threading.Thread(target=worker, args=pair) for pair in pairs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome, time.perf_counter() - started


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


# --- one database ---------------------------------------------------------------------------


def run(database: str, url: str, folder: Path, args: argparse.Namespace) -> tuple[float, int]:
    env = environment(url, folder)
    tokens = prepare(env)
    emails = list(ROLES)
    clients = [
        Client(emails[n % len(emails)], tokens[emails[n % len(emails)]])
        for n in range(args.concurrency)
    ]
    with gunicorn(env, free_port()) as base:
        for client in clients:
            sign_in(base, client)
        drive(base, clients, 5 * len(clients), args.seed + 1)  # warm-up: caches, plans
        outcome, seconds = drive(base, clients, args.requests, args.seed)
    work, health = outcome.timings["work"], outcome.timings["health"]
    ratio = p95(work) / p95(health)
    rps = (len(work) + len(health)) / seconds
    print(
        f"{database}: {len(work) + len(health)} requests in {seconds:.1f} s at concurrency "
        f"{args.concurrency}: workload p95={p95(work) * 1000:.1f} ms median="
        f"{statistics.median(work) * 1000:.1f} ms, /healthz p95={p95(health) * 1000:.1f} ms"
    )
    for error in sorted(set(outcome.errors))[:10]:
        print(f"  error: {error}", file=sys.stderr)
    print(
        f"RESULT bench=load db={database} p95_ratio={ratio:.2f} "
        f"errors={len(outcome.errors)} rps={rps:.1f}"
    )
    return ratio, len(outcome.errors)


def main() -> None:
    args = parse_args()
    results: dict[str, tuple[float, int]] = {}
    if args.only in (None, "postgresql"):
        cluster = pgcluster.start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                results["postgresql"] = run("postgresql", cluster.url, Path(tmp), args)
        finally:
            cluster.stop()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/load.sqlite3"
            results["sqlite"] = run("sqlite", url, Path(tmp), args)
    worse = max(results, key=lambda name: results[name][0])
    ratio, errors = results[worse]
    print(
        f"RESULT bench=load worst={worse} p95_ratio={ratio:.2f} "
        f"errors={sum(found for _ratio, found in results.values())}"
    )


if __name__ == "__main__":
    main()
