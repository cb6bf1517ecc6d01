"""Concurrent confirmations and returns on PostgreSQL: exactly one takes effect."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from grants.awards.models import Settlement
from grants.core.errors import Conflict
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.releases import service as releases
from grants.settlement.inspection import service as inspection
from tests.support.approvals import approve, officer
from tests.support.grants import GrantWorld, make_grant
from tests.support.races import at_once
from tests.support.settlement import MAN, accept_all, file_report, lines, pool

TODAY = date(2026, 10, 20)
THREADS = 10


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "Row-lock races need PostgreSQL; SQLite serialises whole transactions. "
            "Run with GRANTS_TEST_DATABASE=postgresql."
        )


def _inspected_advance() -> tuple[int, GrantWorld]:
    """A milestone paid 1億円 in advance whose report comes to 6,000万円: (report, program)."""
    world = make_grant(tranches=(100_000_000, 200_000_000), first_due=date(2026, 12, 31))
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, date(2026, 10, 15))
    report = file_report(world, "m1", lines(9_000 * MAN), 0, TODAY)
    accept_all(report, officer(), TODAY)
    return report.id, world


def test_ten_officers_confirming_one_final_amount_make_one_settlement(app: Flask) -> None:
    report_id, world = _inspected_advance()
    jobs = [(officer().id, report_id) for _ in range(THREADS)]
    results = at_once(
        app,
        lambda actor, rid: inspection.confirm_final_amount(actor, rid, "returned", TODAY).id,
        jobs,
    )
    assert sum(isinstance(result, int) for result in results) == 1
    assert all(isinstance(r, int | Conflict) for r in results), results
    assert db.session.query(Settlement).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="settlement.confirm").count() == 1


def test_ten_officers_recording_one_return_count_it_once(app: Flask) -> None:
    report_id, world = _inspected_advance()
    confirmed = inspection.confirm_final_amount(officer(), report_id, "returned", TODAY)
    jobs = [(officer().id, confirmed.id) for _ in range(THREADS)]
    results = at_once(
        app, lambda actor, sid: inspection.record_return(actor, sid, TODAY, TODAY).id, jobs
    )
    assert sum(isinstance(result, int) for result in results) == 1
    assert pool(world, 2026).returned == 40_000_000
