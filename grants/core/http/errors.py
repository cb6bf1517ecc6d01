"""Error pages in the user's language, and JSON errors under /api.

A database that cannot be reached (down, restarting, a connection cut, every connection
busy) answers 503 with Retry-After: an error page that reads nothing from the database
(no signed-in user, no unread count; the language from the browser), or the JSON error
under /api. The pool checks each connection before use (pool_pre_ping), so the requests
after the database is back find it again by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.exceptions import NotFound as NoSuchAddress
from werkzeug.wrappers import Response

from grants.core.errors import Conflict, DomainError, NotAllowed, NotFound, RuleViolation
from grants.core.http.i18n import localise, offline_locale
from grants.core.http.limits import body_limit
from grants.extensions import db

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotAllowed: 403,
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 422,
}


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Sign-in required"), _("A valid API token is required.")),
        403: (_("Forbidden"), _("You do not have permission to open this page.")),
        404: (_("Not found"), _("There is no page at this address.")),
        405: (_("Method not allowed"), _("This address does not accept this kind of request.")),
        409: (_("Conflict"), _("This was changed in the meantime. Reload and try again.")),
        413: (_("Too large"), _("The request is larger than this address accepts.")),
        415: (_("Unsupported body"), _("This address does not accept a body of this type.")),
        422: (_("Cannot process"), _("The data sent could not be accepted.")),
        429: (_("Too many attempts"), _("Too many attempts. Wait a minute and try again.")),
        500: (_("Server error"), _("Something went wrong on our side. It has been logged.")),
        503: (
            _("Temporarily unavailable"),
            _("The service cannot reach its database just now. Try again in a minute."),
        ),
    }


STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
# What a 503 asks the client to wait before retrying, in seconds.
RETRY_AFTER_SECONDS = 30
# The database cannot be reached: the connection failed or was cut, or the pool is empty.
OUTAGES = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def register_error_handlers(app: Flask) -> None:
    for kind, handler in (
        (CSRFError, _csrf_error),
        (HTTPException, _http_error),
        (DomainError, _domain_error),
        (Exception, _unexpected_error),
    ):
        app.register_error_handler(kind, _rolled_back(handler))
    for outage in OUTAGES:
        app.register_error_handler(outage, _database_unavailable)


def _rolled_back(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Whatever failed writes nothing, and the error page (the signed-in user, the unread
    count) can still read: after a failed flush the session refuses every statement."""

    def handle(error: Any) -> Any:
        try:
            db.session.rollback()
            return handler(error)
        except OUTAGES as outage:  # the error page itself could not read (the user ...)
            return _database_unavailable(outage)

    return handle


def _database_unavailable(error: Exception) -> tuple[str | Response, int, dict[str, str]]:
    """503 without touching the database again; the session is thrown away."""
    current_app.logger.warning("database unavailable: %s", error)
    try:
        db.session.remove()
    except SQLAlchemyError:  # the connection is gone: nothing to roll back
        current_app.logger.debug("discarding the session failed", exc_info=True)
    with force_locale(offline_locale()):
        body, status = render_error(503, offline=True)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _csrf_error(error: CSRFError) -> tuple[str | Response, int]:
    detail = _("The form has expired or was not sent from this site. Reload the page and retry.")
    return render_error(400, detail)


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, MethodNotAllowed) and not _matches_another_method(error):
        return _http_error(NoSuchAddress())
    data = getattr(error, "data", None) or {}  # what flask-smorest's abort() attaches
    detail = data.get("message") or (_size_detail() if error.code == 413 else None)
    body, status = render_error(error.code, detail, _input_errors(data))
    return body, status, _headers_of(error)


def _matches_another_method(error: MethodNotAllowed) -> bool:
    """Whether the address names a resource at all: werkzeug answers 405 for an id that no
    column holds (2**63) when a route of another method has the same path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in error.valid_methods or ():
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def _size_detail() -> str | None:
    """What a 413 tells: the limit of the address that refused the body."""
    limit = body_limit()
    if not limit:
        return None
    return _(
        "The request is larger than this address accepts: at most %(size)s bytes.",
        size=f"{limit:,}",
    )


def _headers_of(error: HTTPException) -> dict[str, str]:
    """What the error itself would have told the client: the methods a 405 allows, the
    scheme a 401 expects (the API's bearer tokens)."""
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if error.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="grants"'
    return headers


def _input_errors(data: dict[str, Any]) -> dict[str, Any]:
    """Validation messages by field; webargs groups them by location first ({"json": ...})."""
    merged: dict[str, Any] = {}
    for by_field in (data.get("messages") or {}).values():
        if isinstance(by_field, dict):
            merged.update(by_field)
    return merged


def error_json(error: DomainError) -> tuple[int, dict[str, Any]]:
    """The status and JSON body the API answers for `error` (an item of a bulk request, an
    idempotency key's stored answer)."""
    response, status = _domain_error(error)
    assert isinstance(response, Response)  # under /api the error is JSON
    return status, response.get_json()


def _domain_error(error: DomainError) -> tuple[str | Response, int]:
    status = next((s for t, s in DOMAIN_STATUS.items() if isinstance(error, t)), 400)
    code = getattr(error, "api_code", None)  # a case the API names apart from its status
    return render_error(status, localise(error.message) or None, localise(error.fields), code=code)


def _unexpected_error(error: Exception) -> tuple[str | Response, int]:
    current_app.logger.exception("Unhandled error", exc_info=error)
    return render_error(InternalServerError.code)


def render_error(
    status: int,
    detail: str | None = None,
    fields: dict[str, list[str]] | None = None,
    offline: bool = False,
    code: str | None = None,
) -> tuple[str | Response, int]:
    """The error as JSON under /api, else as a page; `offline`: a page that reads nothing
    from the database (no navigation for the signed-in user); `code`: a JSON error code more
    precise than the status's own."""
    title, message = _messages().get(status, (_("Error"), _("The request failed.")))
    if request.path.startswith("/api/") or request.path.endswith(".json"):  # JSON addresses
        code = code or STATUS_CODES.get(status, "error")
        body = {"error": {"code": code, "message": detail or message, "fields": fields or {}}}
        return jsonify(body), status
    if offline:  # no context processor runs: they read the signed-in user
        template = current_app.jinja_env.get_template("errors/offline.html")
        context = {"status": status, "title": title, "message": detail or message}
        return template.render(request=request, current_locale=str(get_locale()), **context), status
    page = render_template(
        "errors/error.html", status=status, title=title, message=detail or message
    )
    return page, status
