"""The API documentation page: the vendored Swagger UI reading /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs() -> Response:
    response = Response(render_template("api/docs.html"), mimetype="text/html")
    # Swagger UI sets inline styles on its elements; scripts stay same-origin only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'"
    )
    return response
