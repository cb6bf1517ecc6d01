"""The application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from grants.extensions import babel, csrf, db, limiter, login_manager, migrate
from grants.read_transactions import commit_read_only_requests
from grants.routing import BoundedInt
from grants.services.sql_dialect import READ_ONLY
from grants.settings import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "grants",
        root_path=str(ROOT / "grants"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    load_config(app.config, app.instance_path, config)
    app.url_map.converters["int"] = BoundedInt
    _init_extensions(app)
    _register_blueprints(app)
    _start_scheduler(app)
    return app


def _init_extensions(app: Flask) -> None:
    import grants.models  # noqa: F401  (registers the tables with the metadata)
    from grants.web.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            commit_read_only_requests(app, db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "grants" / "translations"),
    )
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from grants.api import register_api
    from grants.cli import register_cli
    from grants.web import register_web

    register_web(app)
    register_api(app)
    register_cli(app)


def _start_scheduler(app: Flask) -> None:
    """The embedded scheduler, only when enabled and only in the serving process."""
    from grants.jobs.scheduler import start_embedded

    start_embedded(app)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")
