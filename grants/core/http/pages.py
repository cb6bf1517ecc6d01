"""What every HTML page shares: error pages, filters, template globals, security headers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from grants.extensions import login_manager


def init_pages(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Register the features' HTML blueprints and what every page shares."""
    from grants.core.http.errors import register_error_handlers
    from grants.core.http.filters import register_filters
    from grants.core.http.i18n import install_template_gettext

    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_filters(app)
    install_template_gettext(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    app.context_processor(_template_globals)
    app.after_request(_security_headers)


def _template_globals() -> dict[str, Any]:
    from grants.core.http.access import can
    from grants.core.http.filters import LOCALE_KEY, current_locale
    from grants.core.http.labels import locale_labels, org_kind_labels, role_labels
    from grants.core.permissions import Action

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
