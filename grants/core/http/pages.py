"""What every HTML page shares: error pages, filters, template globals, security headers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from grants.core.http.forms import error_links
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
    login_manager.login_view = "sessions.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    app.context_processor(_template_globals)
    app.add_template_global(error_links)  # a global: the forms macros are imported
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
    if _private(response):
        response.headers["Cache-Control"] = "no-store"
    if max_age := int(current_app.config["HSTS_MAX_AGE"]):
        response.headers.setdefault("Strict-Transport-Security", _hsts(max_age))
    return response


def _private(response: Response) -> bool:
    """Whether no cache (the browser's, a proxy's) may keep the response: what a signed-in
    user or an API token was shown, the API, sign-in and the admin pages; static files may
    be kept. A response that already says no-store keeps what else it says."""
    if request.endpoint == "static" or "no-store" in (response.cache_control.to_header() or ""):
        return False
    if request.path.startswith(("/admin", "/login", "/api/")):
        return True
    return g.get("api_user") is not None or bool(session.get("_user_id"))


def _hsts(max_age: int) -> str:
    value = f"max-age={max_age}"
    return value + "; includeSubDomains" if current_app.config["HSTS_INCLUDE_SUBDOMAINS"] else value
