"""HTTP downloads shared by the web pages and the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Response, send_file, stream_with_context

from grants.core.actors import Actor
from grants.portfolio.exports import service as exports

Build = Callable[[Actor, exports.Filters], exports.Export]


def csv_response(export: exports.Export) -> Response:
    """The export streamed as a download."""
    response = Response(stream_with_context(export.chunks()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def file_response(path: Path, filename: str) -> Response:
    """An export prepared in the background, with the headers of the streamed one."""
    response = send_file(path, mimetype="text/csv", max_age=0)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
