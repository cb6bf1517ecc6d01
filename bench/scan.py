"""The daily milestone scan over 100,000 milestones, on PostgreSQL and on SQLite.

Run from the repository root: `python bench/scan.py` (PostgreSQL needs the server
binaries that tests/support/pgcluster.py finds; without them only SQLite runs).

Synthetic data, bulk-inserted with executemany: 10,000 grants of 10 milestones due every
six months, spread over ten years around the scan day; past milestones are mostly
approved and released, recent ones partly submitted or still awaiting evidence, future
ones planned (then VACUUM ANALYZE, as a live database is). The database is then lived in
as production lives in it: the scheduler scanned it yesterday (that scan reads the whole
ten-year backlog, as a first scan ever does, and is timed for reference), a day of work
changes DAY_OF_WORK milestones through audited changes as the services make them, and
today the scheduler scans again, in a process warmed up as a running scheduler's is (its
statements built by earlier scans). Each database gets, in the same run:

- a bare indexed count of the milestones due in the scan's window (SELECT count(*) FROM
  milestone WHERE due_date BETWEEN first AND last AND state IN (planned,
  changes_requested), the median of several runs): the baseline;
- today's first scan: it reads what reached a tier since yesterday's scan and the
  milestones changed since, and creates the day's alerts;
- the median of three immediate reruns, which find nothing changed and return at once.

For reference, the stderr line also gives yesterday's scan of the whole backlog, today's
scan reading everything (`whole`: it must create nothing, or the first scan missed
something), and the floor under any first scan that stores its alerts and
records itself, in times the count: inserting today's alert rows with nothing else to do
(one INSERT ... SELECT of the same rows from a copy), committing them, and appending and
committing one audit row.

One line per database: RESULT bench=scan db=<name> ratio=<first/count> rerun_ratio=<...>
floor_ratio=<first scan / that floor: the count + inserting + committing + one audit row>
The LAST line is the worse of the two databases, metric by metric (the higher of each;
with one database it is that one):
RESULT bench=scan ratio=<first/count> rerun_ratio=<rerun/count> floor_ratio=<...> n=100000
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import current_app  # noqa: E402
from sqlalchemy import insert, select, text, update  # noqa: E402

from grants import create_app  # noqa: E402
from grants.accounts.models import Organization, User
from grants.alerts import rules  # noqa: E402
from grants.alerts.scan.service import scan  # noqa: E402
from grants.applications.models import Application
from grants.awards.models import (
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    ReviewerAssignment,
)
from grants.core import audit  # noqa: E402
from grants.core.actors import SYSTEM  # noqa: E402
from grants.core.calendar import fiscal_year  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.programs.models import BudgetPool, Program
from grants.rules import validate_ruleset  # noqa: E402
from grants.rules.engine import default_schedule  # noqa: E402
from grants.rules.presets import milestone_programme  # noqa: E402
from grants.rulesets.models import RuleSet
from tests.support import pgcluster  # noqa: E402

N_GRANTS = 10_000
PER_GRANT = 10
N = N_GRANTS * PER_GRANT
TODAY = date(2026, 10, 1)
SEED = 20261001
REPEATS = 7
NOW = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
WARM_UP = date(2000, 1, 1)  # before every due date and decision of the data
DAY_OF_WORK = 60  # milestones changed between two daily scans


@dataclass
class Result:
    name: str
    count_seconds: float
    first_seconds: float
    rerun_seconds: float
    window_count: int
    created: int
    floor_seconds: float  # the count + inserting the alert rows + committing + one audit row

    @property
    def ratio(self) -> float:
        return self.first_seconds / self.count_seconds

    @property
    def floor_ratio(self) -> float:
        return self.first_seconds / self.floor_seconds

    @property
    def rerun_ratio(self) -> float:
        return self.rerun_seconds / self.count_seconds


# --- data --------------------------------------------------------------------------------


def _rows(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, with explicit ids, in insertion order."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _ORDER}
    rows["program"].append(_program())
    rows["rule_set"].append(_ruleset())
    staff = _staff(rows)
    reviewers = staff["reviewer"]
    years = range(fiscal_year(TODAY) - 6, fiscal_year(TODAY) + 7)
    for pool_id, year in enumerate(years, start=1):
        rows["budget_pool"].append(
            {"id": pool_id, "program_id": 1, "fiscal_year": year,
             "appropriation": 10**15, "committed": 0, "released": 0}
        )  # fmt: skip
    pools = {year: pool_id for pool_id, year in enumerate(years, start=1)}
    milestone_id = submission_id = 0
    for grant_id in range(1, N_GRANTS + 1):
        org_id = len(rows["organization"]) + 1
        rows["organization"].append(
            {"id": org_id, "name": f"Org {org_id}", "kind": "startup", "listed": False,
             "rd_base_in_japan": True, "created_at": NOW}
        )  # fmt: skip
        _user(rows, "applicant", org_id)
        start = TODAY - timedelta(days=rng.randrange(-730, 5 * 365))
        rows["application"].append(_application(grant_id, org_id, start))
        state = rng.choices(["active", "suspended", "completed"], [90, 5, 5])[0]
        rows["grant_award"].append(
            {"id": grant_id, "number": f"G-{grant_id:06d}", "application_id": grant_id,
             "program_id": 1, "organization_id": org_id, "ruleset_id": 1,
             "award_amount": 10**9, "state": state, "awarded_at": NOW}
        )  # fmt: skip
        for reviewer_id in rng.sample(reviewers, 2):
            rows["reviewer_assignment"].append(
                {"id": len(rows["reviewer_assignment"]) + 1, "grant_id": grant_id,
                 "reviewer_id": reviewer_id, "assigned_at": NOW - timedelta(days=900)}
            )  # fmt: skip
        for sequence in range(1, PER_GRANT + 1):
            milestone_id += 1
            due = start + timedelta(days=182 * (sequence - 1))
            state, decided, released = _fate(rng, due)
            rows["milestone"].append(
                {"id": milestone_id, "grant_id": grant_id, "sequence": sequence,
                 "title": f"Milestone {sequence}", "criteria": [], "due_date": due,
                 "tranche_amount": 10**8, "fiscal_year": fiscal_year(due), "state": state,
                 "round": 1 if state not in ("planned",) else 0, "decided_at": decided,
                 "released_at": decided if released else None}
            )  # fmt: skip
            if state != "planned":
                submission_id += 1
                rows["evidence_submission"].append(
                    {"id": submission_id, "milestone_id": milestone_id, "round": 1,
                     "narrative": "-", "measured": [],
                     "submitted_at": _instant(due - timedelta(days=rng.randrange(0, 20)))}
                )  # fmt: skip
            if released:
                rows["disbursement"].append(
                    {"id": len(rows["disbursement"]) + 1, "milestone_id": milestone_id,
                     "grant_id": grant_id, "budget_pool_id": pools[fiscal_year(due)],
                     "amount": 10**8, "fiscal_year": fiscal_year(due),
                     "released_by_id": staff["officer"][0], "released_at": decided}
                )  # fmt: skip
    return rows


def _fate(rng: random.Random, due: date) -> tuple[str, datetime | None, bool]:
    """(state, decided_at, released) of a milestone due on `due`, seen on TODAY."""
    age = (TODAY - due).days
    if age < -30:
        return ("submitted", None, False) if rng.random() < 0.02 else ("planned", None, False)
    if age < 0:
        return rng.choices([("planned", None, False), ("submitted", None, False)], [85, 15])[0]
    decided = _instant(due + timedelta(days=min(age, rng.randrange(5, 40))))
    if age < 90:
        return rng.choices(
            [("planned", None, False), ("changes_requested", decided, False),
             ("submitted", None, False), ("approved", decided, rng.random() < 0.7)],
            [15, 5, 30, 50],
        )[0]  # fmt: skip
    return rng.choices(
        [("approved", decided, rng.random() < 0.99), ("rejected", decided, False),
         ("cancelled", decided, False), ("planned", None, False)],
        [93, 2, 3, 2],
    )[0]  # fmt: skip


def _instant(day: date) -> datetime:
    return datetime.combine(day, clock(3, 0), tzinfo=UTC)


def _program() -> dict[str, Any]:
    return {"id": 1, "code": "BENCH", "name_ja": "ベンチ", "name_en": "Bench",
            "application_opens": date(2020, 4, 1), "application_closes": date(2030, 3, 31),
            "end_date": date(2040, 3, 31), "themes": ["amr"], "modalities": ["drug"],
            "created_at": NOW}  # fmt: skip


def _ruleset() -> dict[str, Any]:
    return {"id": 1, "program_id": 1, "title": "v1", "status": "published", "version": 1,
            "effective_from": date(2020, 4, 1),
            "document": validate_ruleset(milestone_programme()),
            "created_at": NOW, "updated_at": NOW, "published_at": NOW}  # fmt: skip


def _staff(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[int]]:
    staff: dict[str, list[int]] = {}
    for role, count in (("officer", 3), ("admin", 1), ("reviewer", 60)):
        staff[role] = [_user(rows, role, None) for _ in range(count)]
    return staff


def _user(rows: dict[str, list[dict[str, Any]]], role: str, org_id: int | None) -> int:
    user_id = len(rows["user_account"]) + 1
    rows["user_account"].append(
        {"id": user_id, "email": f"u{user_id}@example.jp", "name": f"User {user_id}",
         "password_hash": "-", "role": role, "locale": "ja", "active": True,
         "organization_id": org_id, "created_at": NOW}
    )  # fmt: skip
    return user_id


def _application(grant_id: int, org_id: int, start: date) -> dict[str, Any]:
    return {"id": grant_id, "program_id": 1, "organization_id": org_id, "title": "-",
            "theme": "amr", "modality": "drug", "stage": "phase1", "eligible_cost": 10**9,
            "indirect_cost": 0, "requested_subsidy": 10**9, "project_start": start,
            "project_end": start + timedelta(days=5 * 365), "state": "awarded",
            "ruleset_id": 1, "created_at": NOW, "updated_at": NOW}  # fmt: skip


_ORDER = (
    "program", "rule_set", "budget_pool", "organization", "user_account", "application",
    "grant_award", "reviewer_assignment", "milestone", "evidence_submission", "disbursement",
)  # fmt: skip
_MODELS = {
    "program": Program, "rule_set": RuleSet, "budget_pool": BudgetPool,
    "organization": Organization, "user_account": User, "application": Application,
    "grant_award": Grant, "reviewer_assignment": ReviewerAssignment, "milestone": Milestone,
    "evidence_submission": EvidenceSubmission, "disbursement": Disbursement,
}  # fmt: skip


def load(rows: dict[str, list[dict[str, Any]]]) -> None:
    for name in _ORDER:
        table = _MODELS[name].__table__
        for start in range(0, len(rows[name]), 5_000):
            db.session.execute(insert(table), rows[name][start : start + 5_000])
    if db.engine.dialect.name == "postgresql":
        for name in _ORDER:  # explicit ids were given: move the sequences past them
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {name}))"
                )
            )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # VACUUM runs outside a transaction
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


# --- measuring -----------------------------------------------------------------------------


def window() -> tuple[date, date]:
    """The due dates the scan reads milestones awaiting evidence in (see alerts.scan.service)."""
    first, last = rules.scan_window(default_schedule(current_app.config), TODAY)
    return first or date(1900, 1, 1), last


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def bare_write(alert_ids: list[int]) -> tuple[float, float]:
    """Seconds to write these alert rows again with nothing else to do: one INSERT ...
    SELECT of the same rows from a copy, then its commit (the floor under the scan that
    made them), as (insert, commit)."""
    chosen = ", ".join(str(alert_id) for alert_id in alert_ids) or "NULL"
    db.session.execute(
        text(f"CREATE TABLE alert_copy AS SELECT * FROM alert WHERE id IN ({chosen})")
    )
    db.session.execute(text(f"DELETE FROM alert WHERE id IN ({chosen})"))
    db.session.commit()
    insert_seconds, _ = timed(
        lambda: db.session.execute(text("INSERT INTO alert SELECT * FROM alert_copy"))
    )
    commit_seconds, _ = timed(db.session.commit)
    return insert_seconds, commit_seconds


def bare_record() -> float:
    """Seconds to append one audit row and commit it: what any scan that creates alerts
    does at least, besides reading and writing them."""
    return timed(lambda: (audit.record(SYSTEM, "grant.bench", db.session.get(Grant, 1)),
                          db.session.commit()))[0]  # fmt: skip


def a_day_of_work(rng: random.Random) -> None:
    """What a day brings between two daily scans, as the services would leave it (each
    change with its audit event): evidence for DAY_OF_WORK // 2 open milestones, and a
    decision on as many submitted ones (approved, or sent back for changes)."""
    M = Milestone.__table__
    active = (Grant.__table__.c.state == "active",)
    pick = DAY_OF_WORK // 2
    for state, outcome in (("planned", "submitted"), ("submitted", None)):
        rows = db.session.execute(
            select(M.c.id, M.c.round)
            .join(Grant.__table__, Grant.__table__.c.id == M.c.grant_id)
            .where(M.c.state == state, *active)
            .order_by(M.c.due_date.desc(), M.c.id)
            .limit(pick * 20)
        ).all()
        for milestone_id, round_ in rng.sample(rows, pick):
            new_state = outcome or rng.choice(["approved", "approved", "changes_requested"])
            values: dict[str, Any] = {"state": new_state}
            if new_state == "submitted":
                values["round"] = round_ + 1
                db.session.execute(
                    insert(EvidenceSubmission.__table__),
                    {"milestone_id": milestone_id, "round": round_ + 1, "narrative": "-",
                     "measured": [], "submitted_at": NOW},
                )  # fmt: skip
            else:
                values["decided_at"] = NOW
            db.session.execute(update(M).where(M.c.id == milestone_id).values(**values))
            milestone = db.session.get(Milestone, milestone_id)
            audit.record(SYSTEM, "milestone.bench", milestone)
    db.session.commit()


def warm_up() -> None:
    """A running scheduler's process has its mappers set up and its statements compiled
    by its earlier scans. Scans on days before every due date and decision find nothing
    and do that: one reading everything, then one of the next day after a change."""
    assert scan(SYSTEM, WARM_UP, current_app.config).total == 0, "the warm-up scan created alerts"
    G = Grant.__table__
    db.session.execute(update(G).where(G.c.id == 1).values(state="active"))  # stamped
    audit.record(SYSTEM, "grant.bench", db.session.get(Grant, 1))
    db.session.commit()
    report = scan(SYSTEM, WARM_UP + timedelta(days=1), current_app.config)
    assert report.total == 0 and report.since == WARM_UP and report.changed == PER_GRANT


def measure(name: str, url: str, rows: dict[str, list[dict[str, Any]]]) -> Result:
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url}
    app = create_app(config)
    with app.app_context():
        db.create_all()
        load(rows)
        first_due, last_due = window()
        count_sql = text(
            "SELECT count(*) FROM milestone WHERE due_date BETWEEN :first AND :last "
            "AND state IN ('planned', 'changes_requested')"
        )
        params = {"first": first_due, "last": last_due}

        def count() -> int:
            value = db.session.execute(count_sql, params).scalar_one()
            db.session.rollback()
            return int(value)

        count()  # warm the cache and the plan
        warm_up()
        backlog_seconds, backlog = timed(
            lambda: scan(SYSTEM, TODAY - timedelta(days=1), current_app.config)
        )
        a_day_of_work(random.Random(SEED))
        counts = [timed(count) for _ in range(REPEATS)]
        count_seconds = statistics.median(seconds for seconds, _ in counts)
        first_seconds, report = timed(lambda: scan(SYSTEM, TODAY, current_app.config))
        assert report.since == TODAY - timedelta(days=1), "the first scan read everything"
        reruns = [timed(lambda: scan(SYSTEM, TODAY, current_app.config)) for _ in range(3)]
        assert all(rerun.total == 0 for _, rerun in reruns), "a rerun created alerts"
        full_seconds, full = timed(lambda: scan(SYSTEM, TODAY, current_app.config, whole=True))
        assert full.total == 0, f"the first scan missed {full.total} alerts"
        db.session.get(Grant, 1)  # loaded, as the scan's rows are when it records them
        record_seconds = bare_record()
        insert_seconds, commit_seconds = bare_write(report.alert_ids)
        result = Result(
            name,
            count_seconds,
            first_seconds,
            statistics.median(seconds for seconds, _ in reruns),
            counts[0][1],
            report.total,
            count_seconds + insert_seconds + commit_seconds + record_seconds,
        )
        db.session.remove()
        db.engine.dispose()
    print(
        f"{name}: window {first_due}..{last_due} holds {result.window_count} milestones "
        f"awaiting evidence; count {result.count_seconds * 1000:.2f} ms; first scan of the "
        f"day {result.first_seconds * 1000:.2f} ms ({result.created} alerts; {report.changed} "
        f"milestones changed since yesterday's scan), rerun {result.rerun_seconds * 1000:.2f} ms; "
        f"for reference: yesterday's scan of the whole backlog {backlog_seconds * 1000:.1f} ms "
        f"({backlog.total} alerts), today read whole {full_seconds * 1000:.1f} ms; the floor "
        f"under any first scan, in times the count: inserting today's {result.created} "
        f"alert rows alone {insert_seconds / result.count_seconds:.1f}, committing them "
        f"{commit_seconds / result.count_seconds:.1f}, recording and committing one audit "
        f"row alone {record_seconds / result.count_seconds:.1f}",
        file=sys.stderr,
    )
    print(
        f"RESULT bench=scan db={name} ratio={result.ratio:.2f} "
        f"rerun_ratio={result.rerun_ratio:.2f} floor_ratio={result.floor_ratio:.2f} n={N}"
    )
    return result


def main() -> None:
    rows = _rows(random.Random(SEED))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", rows))
    if pgcluster.find_bindir() is not None:
        cluster = pgcluster.start()
        try:
            results.append(measure("postgresql", cluster.url, rows))
        finally:
            cluster.stop()
    ratio = max(result.ratio for result in results)
    rerun_ratio = max(result.rerun_ratio for result in results)
    floor_ratio = max(result.floor_ratio for result in results)
    print(
        f"RESULT bench=scan ratio={ratio:.2f} rerun_ratio={rerun_ratio:.2f} "
        f"floor_ratio={floor_ratio:.2f} n={N}"
    )


if __name__ == "__main__":
    main()
