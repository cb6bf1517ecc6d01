"""The cached INSERT ... SELECT ... ON CONFLICT DO NOTHING construct of core.db."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Boolean, Integer, String, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from grants.accounts.models import Organization
from grants.awards.models import Milestone
from grants.core.db import ID_MAX, insert_select_if_absent, locked_row, rare
from grants.core.errors import NotFound
from grants.core.models import UTCDateTime
from grants.extensions import db

ORGS = Organization.__table__
COLUMNS = ["id", "name", "kind", "listed", "rd_base_in_japan", "created_at"]


def _statement(org_id: int, name: str) -> insert_select_if_absent:
    values: list[Any] = [
        literal(org_id, Integer()),
        literal(name, String()),
        literal("startup", String()),
        literal(False, Boolean()),
        literal(True, Boolean()),
        literal(datetime(2026, 11, 1, tzinfo=UTC), UTCDateTime()),
    ]
    return insert_select_if_absent(ORGS, COLUMNS, select(*values), ["id"], ["id", "name"])


def test_equal_statements_share_one_cache_key_whatever_the_values(app: Flask) -> None:
    first = _statement(1, "A")._generate_cache_key()
    second = _statement(2, "B")._generate_cache_key()
    assert first is not None and first == second


def test_inserts_returns_the_new_rows_and_skips_conflicts(app: Flask) -> None:
    assert db.session.execute(_statement(9001, "Acme")).all() == [(9001, "Acme")]
    assert db.session.execute(_statement(9001, "Dup")).all() == []  # the same id: skipped
    assert db.session.get(Organization, 9001).name == "Acme"  # type: ignore[union-attr]
    db.session.rollback()


def test_a_rare_condition_stays_a_condition_the_planner_reads(app: Flask) -> None:
    flagged = select(Milestone.id).where(
        rare(Milestone.overdue_since >= date.min), Milestone.grant_id > 0
    )
    on_sqlite = str(flagged.compile(dialect=sqlite.dialect()))
    assert "WHERE unlikely(milestone.overdue_since >= ?) AND" in on_sqlite
    on_postgresql = str(flagged.compile(dialect=postgresql.dialect()))
    assert "WHERE (milestone.overdue_since >= %(overdue_since_1)s) AND" in on_postgresql
    if db.engine.dialect.name == "sqlite":
        sql, params = str(flagged.compile(db.engine)), (date.min.isoformat(), 0)
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        assert "ix_milestone_flagged" in " ".join(r[3] for r in plan)


def test_a_locked_row_is_found_by_its_id_and_a_missing_one_is_not_found(app: Flask) -> None:
    org = Organization(name="Lock KK", kind="startup")
    db.session.add(org)
    db.session.commit()
    assert locked_row(Organization, org.id) is org
    for missing in (org.id + 1, 0, -1, ID_MAX + 1):
        with pytest.raises(NotFound):
            locked_row(Organization, missing)
