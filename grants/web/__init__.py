"""HTML blueprints per role area. Routes only translate between HTTP and services."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from grants.extensions import login_manager


def register_web(app: Flask) -> None:
    from grants.web import (
        admin,
        alerts,
        amendments,
        applications,
        assignments,
        auth,
        certified_vcs,
        evidence,
        exports,
        grant_admin,
        grant_pages,
        investments,
        main,
        portfolio,
        programs,
        releases,
        reviews,
        ruleset_settings,
        rulesets,
        screening,
        tasks,
        tokens,
        whatif,
    )
    from grants.web.errors import register_error_handlers
    from grants.web.filters import register_filters
    from grants.web.i18n import install_template_gettext

    for module in (
        auth,
        alerts,
        main,
        admin,
        programs,
        certified_vcs,
        rulesets,
        ruleset_settings,
        whatif,
        grant_pages,
        evidence,
        reviews,
        assignments,
        applications,
        screening,
        releases,
        investments,
        amendments,
        grant_admin,
        portfolio,
        exports,
        tasks,
        tokens,
    ):
        app.register_blueprint(module.bp)
    register_error_handlers(app)
    register_filters(app)
    install_template_gettext(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    app.context_processor(_template_globals)
    app.after_request(_security_headers)


def _template_globals() -> dict[str, Any]:
    from grants.domain.permissions import Action
    from grants.web.access import can
    from grants.web.filters import LOCALE_KEY, current_locale
    from grants.web.labels import locale_labels, org_kind_labels, role_labels

    return {
        "Action": Action,
        "can": can,
        LOCALE_KEY: current_locale(),
        "locale_labels": locale_labels,
        "org_kind_labels": org_kind_labels,
        "role_labels": role_labels,
    }


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    if request.path.startswith(("/admin", "/login")):
        response.headers.setdefault("Cache-Control", "no-store")
    if max_age := int(current_app.config["HSTS_MAX_AGE"]):
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response
