"""Service calls started at the same moment from threads, each in its own app context."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask

from grants.accounts.models import User
from grants.extensions import db


def at_once(
    app: Flask, call: Callable[[User, Any], Any], jobs: Sequence[tuple[int, Any]]
) -> list[Any]:
    """`call(user, argument)` for every (user id, argument) job, all released by one barrier;
    each job's result, or the exception it raised, in job order."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(index: int, user_id: int, argument: Any) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = call(db.session.get(User, user_id), argument)
            except Exception as error:  # noqa: BLE001  (returned for the test to judge)
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(index, *job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results
