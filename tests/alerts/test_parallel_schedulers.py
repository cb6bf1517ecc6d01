"""Several schedulers at once against one PostgreSQL database create no duplicate alert.

Threads call the scan service directly at the same instant (the unique key and the scan's
advisory lock are what is tested, without the lease); two `flask grants scan` processes
run side by side (both scan, which needs no lease; the lease lets one deliver); and two
schedulers run their jobs (grants.alerts.jobs: scan and deliver, behind the lease) at the
same time beside a manual pass, against a real SMTP server, with the lease changing hands
between days: each alert exists once and each e-mail is sent once. SQLite runs one writer
at a time, so the race exists only on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask, current_app
from sqlalchemy import update

from grants.alerts.jobs import deliver_alerts, run_pass, scan_milestones
from grants.alerts.scan.service import scan
from grants.core.actors import SYSTEM
from grants.core.identity import Role
from grants.core.models import SchedulerLease, utcnow
from grants.extensions import db
from tests.support.alerts import all_alerts, keys, staff
from tests.support.factories import make_user
from tests.support.grants import make_grant
from tests.support.smtp import SmtpServer, smtp_server

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
                    created.extend(scan(SYSTEM, day, current_app.config).alert_ids)
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
    assert codes == [0, 0], results  # a manual scan is not refused while another runs
    for out, _err in results:
        assert "Scan for 2026-10-31:" in out, out
        assert "E-mail: " in out and ("sent" in out or "holds the scheduler lease" in out), out
    rows = keys()
    assert len(rows) == len(set(rows)) == 4 * 7  # the reminders' days had passed
    assert Counter(str(a.kind) for a in all_alerts()) == {"overdue": 16, "escalation": 12}
    db.session.expire_all()
    assert all(a.emailed_at is not None for a in all_alerts())  # one of them delivered


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
        yield running


def test_two_schedulers_and_a_manual_pass_at_once_alert_and_mail_each_once(
    app: Flask, server: SmtpServer
) -> None:
    _world()
    days = [DUE - timedelta(days=30), DUE - timedelta(days=7), DUE + timedelta(days=1),
            DUE + timedelta(days=14), DUE + timedelta(days=30)]  # fmt: skip
    holders = ["scheduler@one", "scheduler@two"]
    errors: list[BaseException] = []
    acted: Counter[str] = Counter()
    lock = threading.Lock()

    def scheduler(holder: str, day: date, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=30)
            report = scan_milestones(app, holder, day)  # the job: scan, then mail what it made
            delivery = deliver_alerts(app, holder)  # the job that picks up the rest
            with lock:
                acted[holder] += report is not None or bool(delivery and delivery.sent)
        except BaseException as error:  # noqa: BLE001  (asserted below)
            errors.append(error)

    def manual(day: date, barrier: threading.Barrier) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                run_pass("cli@here", day)  # `flask grants scan --today`: no lease for the scan
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    for day in days:
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=scheduler, args=(h, day, barrier)) for h in holders]
        threads.append(threading.Thread(target=manual, args=(day, barrier)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        _hand_the_lease_over()
    assert errors == []
    rows = keys()
    assert len(rows) == len(set(rows)) == 4 * 11
    db.session.expire_all()
    alerts = all_alerts()
    assert all(a.emailed_at is not None and a.email_attempts == 1 for a in alerts)
    assert server.mailbox.by_alert() == {a.id: 1 for a in alerts}  # every e-mail sent once
    assert sum(acted.values()) >= len(days)


def _hand_the_lease_over() -> None:
    """The scheduler holding the lease stops between days: the next day anyone may take it."""
    db.session.execute(update(SchedulerLease).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
