"""The scheduler lease: one holder at a time, renewal, expiry, release, and races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask

from grants.core import lease
from grants.core.models import SchedulerLease, utcnow
from grants.extensions import db

TTL = timedelta(minutes=15)


def test_one_holder_at_a_time_until_it_expires(app: Flask) -> None:
    now = utcnow()
    assert lease.acquire("scheduler", "a", now, TTL)
    assert not lease.acquire("scheduler", "b", now + timedelta(minutes=1), TTL)
    assert lease.acquire("scheduler", "a", now + timedelta(minutes=10), TTL)  # renewed
    assert not lease.acquire("scheduler", "b", now + timedelta(minutes=20), TTL)
    assert lease.acquire("scheduler", "b", now + timedelta(minutes=26), TTL)  # a's expired
    record = db.session.get(SchedulerLease, "scheduler")
    assert record.holder == "b"
    assert record.acquired_at == now + timedelta(minutes=26)


def test_renewal_keeps_the_acquisition_time(app: Flask) -> None:
    now = utcnow()
    lease.acquire("scheduler", "a", now, TTL)
    lease.acquire("scheduler", "a", now + timedelta(minutes=5), TTL)
    record = db.session.get(SchedulerLease, "scheduler")
    assert record.acquired_at == now
    assert record.expires_at == now + timedelta(minutes=5) + TTL


def test_release_lets_another_take_over_at_once(app: Flask) -> None:
    now = utcnow()
    lease.acquire("scheduler", "a", now, TTL)
    assert not lease.release("scheduler", "b", now)  # not b's to release
    assert lease.current("scheduler", now).holder == "a"
    assert lease.release("scheduler", "a", now)
    assert lease.current("scheduler", now + timedelta(seconds=1)) is None
    assert lease.acquire("scheduler", "b", now + timedelta(seconds=1), TTL)


def test_holders_are_unique_per_process_and_call() -> None:
    assert lease.new_holder() != lease.new_holder()
    assert lease.new_holder("cli").startswith("cli@")


@pytest.mark.parametrize("existing", [False, True])
def test_racing_processes_get_exactly_one_winner(app: Flask, existing: bool) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "A real race needs concurrent writers (PostgreSQL); SQLite runs one writer at a "
            "time, which the sequential tests above cover."
        )
    if existing:  # an expired lease row already exists: contenders race on the UPDATE
        lease.acquire("scheduler", "old", utcnow() - 2 * TTL, TTL)
    contenders = 12
    barrier = threading.Barrier(contenders)
    wins: list[str] = []

    def contend(name: str) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            if lease.acquire("scheduler", name, utcnow(), TTL):
                wins.append(name)
            db.session.remove()

    threads = [threading.Thread(target=contend, args=(f"p{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(wins) == 1
    assert db.session.get(SchedulerLease, "scheduler").holder == wins[0]


def test_two_jobs_of_one_scheduler_starting_together_both_hold_it(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("A real race needs concurrent writers (PostgreSQL).")
    for attempt in range(5):  # the race is on the very first INSERT: try it a few times
        db.session.query(SchedulerLease).delete()
        db.session.commit()
        barrier = threading.Barrier(2)
        held: list[bool] = []

        def job(barrier: threading.Barrier = barrier, held: list[bool] = held) -> None:
            with app.app_context():
                barrier.wait(timeout=30)
                held.append(lease.acquire("scheduler", "same", utcnow(), TTL))
                db.session.remove()

        threads = [threading.Thread(target=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert held == [True, True], f"attempt {attempt}"
