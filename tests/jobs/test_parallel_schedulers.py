"""Several schedulers at once against one PostgreSQL database create no duplicate alert.

Threads call the scan service directly at the same instant (the unique key and the scan's
advisory lock are what is tested, without the lease), and two `flask grants scan`
processes run side by side (the lease lets one act; the other gives up or finds nothing
left to do). SQLite runs one writer at a time, so the race exists only on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from flask import Flask

from grants.domain.accounts import Role
from grants.extensions import db
from grants.services.actors import SYSTEM
from grants.services.alerts_scan import scan
from tests.support.alerts import all_alerts, keys, staff
from tests.support.factories import make_user
from tests.support.grants import make_grant

DUE = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Parallel schedulers race only on PostgreSQL; SQLite serialises whole "
            "transactions. Run with GRANTS_TEST_DATABASE=postgresql."
        )


def _world() -> None:
    for index in range(4):
        world = make_grant(code=f"MS-PAR{index}")
        make_user(Role.applicant, world.grantee)
    staff(Role.officer)
    staff(Role.officer)
    staff(Role.admin)


def test_concurrent_scans_create_each_alert_once(app: Flask) -> None:
    _world()
    days = [DUE - timedelta(days=30), DUE - timedelta(days=7), DUE + timedelta(days=1),
            DUE + timedelta(days=14), DUE + timedelta(days=30)]  # fmt: skip
    threads_per_day = 6
    errors: list[BaseException] = []
    created: list[int] = []
    for today in days:
        barrier = threading.Barrier(threads_per_day)

        def work(day: date = today, barrier: threading.Barrier = barrier) -> None:
            with app.app_context():
                try:
                    barrier.wait(timeout=30)
                    created.extend(scan(SYSTEM, day).alert_ids)
                except BaseException as error:  # noqa: BLE001  (asserted below)
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=work) for _ in range(threads_per_day)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    rows = keys()
    assert len(rows) == len(set(rows)) == len(created) == len(set(created))
    # Per grant: 2 users x 2 reminders + overdue (2 grantee + 2 officers)
    # + escalation 1 (2 officers) + escalation 2 (1 admin) = 11.
    assert len(rows) == 4 * 11


def test_two_scan_processes_at_once_create_no_duplicates(app: Flask, repo_root) -> None:  # type: ignore[no-untyped-def]
    _world()
    env = {
        **os.environ,
        "GRANTS_ENV": "testing",
        "FLASK_APP": "wsgi",
        "GRANTS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
    }
    command = [sys.executable, "-m", "flask", "grants", "scan", "--today", "2026-10-31"]
    processes = [
        subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [process.communicate(timeout=120) for process in processes]
    codes = [process.returncode for process in processes]
    assert 0 in codes, results
    for code, (_out, err) in zip(codes, results, strict=True):
        assert code == 0 or "holds the lease" in err, err
    rows = keys()
    assert len(rows) == len(set(rows)) == 4 * 7  # the reminders' days had passed
    assert Counter(str(a.kind) for a in all_alerts()) == {"overdue": 16, "escalation": 12}
