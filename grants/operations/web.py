"""GET /healthz (the process answers) and GET /readyz (it can serve: database, schema,
scheduler): no sign-in, no session cookie, never cached."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from grants.core.http.errors import RETRY_AFTER_SECONDS
from grants.core.models import utcnow
from grants.operations.health import readiness

bp = Blueprint("operations", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return _uncached(jsonify({"status": "ok"}))


@bp.get("/readyz")
def readyz() -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = readiness(app, utcnow(), bool(app.config["SCHEDULER_EXPECTED"]))
    response = _uncached(jsonify(report.to_dict()))
    if not report.ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
