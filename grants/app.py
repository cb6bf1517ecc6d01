"""The application factory: the one place that knows every feature.

It imports each feature's models (so that their tables are in the metadata), registers
its HTML and API blueprints and its commands, and hands the scheduler its jobs. Nothing
else imports a feature's web or api module.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from grants.core.db import commit_read_only_requests, configure_sqlite_transactions
from grants.core.http.limits import init_limits
from grants.core.http.requests import Request
from grants.core.http.routing import BoundedInt
from grants.core.logs import filter_request_logs
from grants.core.settings import load_config
from grants.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent

# The features, in the order of the import contract (README, "Architecture").
MODELS = (
    "core",
    "accounts",
    "accounts.credentials",
    "accounts.certified_vcs",
    "accounts.second_factor",
    "accounts.tokens",
    "accounts.role_changes",
    "programs",
    "rulesets",
    "applications",
    "merit_review",
    "awards",
    "conversations",
    "settlement",
    "alerts",
    "tasks",
)
WEB = (
    "accounts.sessions",
    "accounts.second_factor",
    "accounts.credentials",
    "alerts",
    "alerts.preferences",
    "portfolio.home",
    "accounts",
    "accounts.role_changes",
    "audit",
    "programs",
    "accounts.certified_vcs",
    "rulesets",
    "rulesets.settings",
    "whatif",
    "awards.page",
    "awards.decision",
    "milestones",
    "milestones.evidence",
    "milestones.reviews",
    "milestones.assignments",
    "applications",
    "applications.screening",
    "merit_review",
    "merit_review.panels",
    "merit_review.scores",
    "merit_review.ranking",
    "merit_review.feedback",
    "merit_review.rubrics",
    "releases",
    "investments",
    "settlement",
    "settlement.documents",
    "settlement.ledger",
    "amendments",
    "conversations",
    "awards.termination",
    "portfolio",
    "portfolio.exports",
    "work",
    "tasks",
    "accounts.tokens",
    "operations",
)
API = (
    "accounts",
    "accounts.certified_vcs",
    "audit",
    "programs",
    "rulesets",
    "whatif",
    "accounts.tokens",
    "portfolio.exports",
    "applications",
    "applications.screening",
    "merit_review",
    "merit_review.panels",
    "merit_review.scores",
    "merit_review.ranking",
    "merit_review.feedback",
    "awards",
    "awards.decision",
    "milestones",
    "releases",
    "settlement",
    "milestones.assignments",
    "investments",
    "amendments",
    "conversations",
    "alerts",
    "alerts.preferences",
    "portfolio",
    "work",
    "tasks",
)
CLI = (
    "accounts",
    "accounts.second_factor",
    "accounts.tokens",
    "accounts.role_changes",
    "alerts",
    "audit",
    "demo",
    "whatif",
    "operations",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "grants",
        root_path=str(ROOT / "grants"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.request_class = Request
    load_config(app.config, app.instance_path, config)
    filter_request_logs()
    app.url_map.converters["int"] = BoundedInt
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _start_scheduler(app)
    _start_task_workers(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client's address and scheme are the ones
    they forward (X-Forwarded-For, X-Forwarded-Proto): the sign-in limit counts per client."""
    if proxies := int(app.config["TRUSTED_PROXIES"]):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    for name in MODELS:
        import_module(f"grants.{name}.models")  # registers the tables with the metadata
    from grants.core.http.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            commit_read_only_requests(app, db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    limiter.init_app(app)  # its hook runs before the CSRF check, which parses the form
    csrf.init_app(app)
    init_limits(app)  # first of all hooks: no body is read past its route's limit
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "grants" / "translations"),
    )
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from grants.accounts.tokens.api import authenticate_request
    from grants.core.cli import grants_cli
    from grants.core.http.api import init_api
    from grants.core.http.pages import init_pages

    init_pages(app, [import_module(f"grants.{name}.web").bp for name in WEB])
    init_api(app, [import_module(f"grants.{name}.api").blp for name in API], authenticate_request)
    for name in CLI:
        import_module(f"grants.{name}.cli")  # each adds its commands to grants_cli
    app.cli.add_command(grants_cli)


def _start_scheduler(app: Flask) -> None:
    """The embedded scheduler, only when enabled and only in the serving process."""
    from grants.alerts.jobs import JOBS as ALERT_JOBS
    from grants.core.scheduler import set_jobs, start_embedded
    from grants.operations.jobs import JOBS as OPERATIONS_JOBS
    from grants.tasks.jobs import JOBS as TASK_JOBS

    set_jobs(app, ALERT_JOBS + TASK_JOBS + OPERATIONS_JOBS)
    start_embedded(app)


def _start_task_workers(app: Flask) -> None:
    """The background workers of an app server, started with its first request: a process
    that serves none (`flask db upgrade`, `flask grants ...`) claims no task."""
    from grants.tasks.jobs import start_workers

    @app.before_request
    def _start_workers() -> None:
        start_workers(app)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout; readers DEFERRED and writers IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    configure_sqlite_transactions(engine)
