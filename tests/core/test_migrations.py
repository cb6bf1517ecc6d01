"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import os
from datetime import date
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url

from grants import create_app
from grants.awards.models import Milestone
from grants.extensions import db
from grants.releases import service as releases


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


def test_milestones_released_before_the_index_take_their_disbursement_time(
    empty_database_url: str, tmp_path: Path
) -> None:
    from tests.support.approvals import approve, officer
    from tests.support.grants import make_grant

    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    app = create_app(config | {"UPLOAD_FOLDER": str(tmp_path)})
    with app.app_context():
        upgrade()
        world = make_grant()
        approve(world, world.milestones[0])
        disbursement = releases.release(officer(), world.milestones[0].id, date(2026, 10, 15))
        released_at = disbursement.released_at
        db.session.remove()
        downgrade(revision="2039ef4cc4d2")  # the column goes
        upgrade()  # and comes back, filled from the disbursements
        rows = db.session.execute(
            select(Milestone.id, Milestone.released_at).order_by(Milestone.id)
        )
        assert [at for _id, at in rows] == [released_at, None, None]
        db.session.remove()
        db.engine.dispose()


def test_alerts_e_mailed_before_the_preferences_count_as_sent_at_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    from grants.alerts.models import Alert
    from grants.core import notify
    from grants.core.actors import SYSTEM
    from grants.core.alert_kinds import AlertKind, SubjectType
    from grants.core.identity import Role
    from grants.core.models import utcnow
    from tests.support.factories import make_user

    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    app = create_app(config | {"UPLOAD_FOLDER": str(tmp_path)})
    with app.app_context():
        upgrade()
        officer = make_user(Role.officer)
        kind, subject = AlertKind.application_submitted, SubjectType.application
        sent, waiting = (
            notify.record(SYSTEM, [officer.id], kind, subject, n, today=date(2026, 10, 1))[0]
            for n in (1, 2)
        )
        db.session.get(Alert, sent).emailed_at = utcnow()
        db.session.commit()
        db.session.remove()
        downgrade(revision="7a864dd6bc7f")  # before the preferences: no routing
        upgrade()
        rows = db.session.execute(select(Alert.id, Alert.delivery).order_by(Alert.id))
        assert [(row.id, row.delivery) for row in rows] == [(sent, "now"), (waiting, None)]
        db.session.remove()
        db.engine.dispose()
