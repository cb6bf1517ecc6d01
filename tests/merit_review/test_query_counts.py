"""The ranking page runs the same number of SQL statements for 10 and for 300 applications,
also when it computes the ranking anew (bulk-inserted: tests/support/merit_bulk.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from werkzeug.security import generate_password_hash

from grants.core.calendar import tokyo_today
from tests.support.bulk import empty_tables
from tests.support.factories import PASSWORD
from tests.support.merit_bulk import OFFICER, populate
from tests.support.queries import count_queries
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
ROW = re.compile(r'<tr id="rank-\d+"')
MEMO = "grants.audit_marks.marked"


def _measure(app: Flask, applications: int) -> tuple[int, int, int]:
    """(statements computing the ranking, statements reading it kept, rows shown)."""
    password_hash = generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
    program_id = populate(applications, TODAY, password_hash)
    client = app.test_client()
    login(client, OFFICER)
    path = f"/officer/programs/{program_id}/ranking"
    assert client.get(path).status_code == 200  # warm-up: caches, pool, templates
    app.extensions.pop(MEMO, None)  # as a new process: the ranking computed anew
    with count_queries() as cold:
        response = client.get(path)
    assert response.status_code == 200
    with count_queries() as kept:
        assert client.get(path).status_code == 200
    rows = len(ROW.findall(response.get_data(as_text=True)))
    empty_tables()
    return len(cold), len(kept), rows


def test_the_ranking_page_reads_as_much_whatever_the_number_of_applications(app: Flask) -> None:
    small, large = _measure(app, 10), _measure(app, 300)
    assert (small[2], large[2]) == (10, 50)  # a page of the ranking
    assert small[:2] == large[:2]
    assert small[1] < small[0]  # kept: no recomputing
