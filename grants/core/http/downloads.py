"""HTTP downloads shared by the web pages and the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import Response, send_file, stream_with_context


class Streamed(Protocol):
    """A CSV file made while it is sent (portfolio.exports.service.Export is one)."""

    @property
    def filename(self) -> str: ...

    def chunks(self) -> Iterator[bytes]: ...


def csv_response(export: Streamed) -> Response:
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


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF document made on the server, as a download that no cache keeps."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
