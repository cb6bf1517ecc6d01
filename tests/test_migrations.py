"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from grants import create_app
from grants.extensions import db


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if os.environ.get("GRANTS_TEST_DATABASE") != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS grants_migrate")
        conn.exec_driver_sql("CREATE DATABASE grants_migrate")
    yield url.set(database="grants_migrate").render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS grants_migrate WITH (FORCE)")
    admin.dispose()


def test_upgrade_then_nothing_left_to_generate(empty_database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"organization", "user_account", "audit_event", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
