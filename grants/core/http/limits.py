"""Request body limits, per route, enforced before anything reads the body.

Uploads (the views marked `@accepts_uploads`) may send up to MAX_CONTENT_LENGTH; every
other address gets a small limit: JSON_BODY_MAX under /api, FORM_BODY_MAX elsewhere.
`refuse_oversized_bodies` runs first of all the app's before-request hooks, ahead of the
rate limiter, the CSRF check (which parses a form) and the API's token check: it sets the
request's limit, which Werkzeug also enforces while a body without a Content-Length
streams in, and answers 413 at once when the declared Content-Length is over it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

F = TypeVar("F", bound=Callable[..., Any])

UPLOAD_LIMIT = "MAX_CONTENT_LENGTH"
JSON_LIMIT = "JSON_BODY_MAX"
FORM_LIMIT = "FORM_BODY_MAX"
_MARK = "grants_body_limit"


def accepts_uploads(view: F) -> F:
    """Mark a view that receives files: its body may be as large as MAX_CONTENT_LENGTH."""
    setattr(view, _MARK, UPLOAD_LIMIT)
    return view


def limit_setting(endpoint: str | None, path: str) -> str:
    """Which setting bounds the body of a request to `endpoint` at `path`."""
    view = current_app.view_functions.get(endpoint or "")
    marked = getattr(view, _MARK, None)
    if marked is not None:
        return str(marked)
    return JSON_LIMIT if path.startswith("/api/") else FORM_LIMIT


def body_limit() -> int | None:
    """The largest body this request may send, in bytes (None: no limit)."""
    value = current_app.config.get(limit_setting(request.endpoint, request.path))
    return int(value) if value else None


class CappedStream(io.RawIOBase):
    """A body streamed without a Content-Length (chunked): 413 once it goes past `limit`.

    Werkzeug stops reading such a body at the limit and hands on what it read, truncated;
    reading through this stream, it reads one byte further, and that byte is refused."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__()
        self._stream = stream
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise RequestEntityTooLarge()
        buffer[: len(data)] = data
        return len(data)


def refuse_oversized_bodies() -> None:
    limit = body_limit()
    request.max_content_length = limit
    if limit is None:
        return
    length = request.content_length
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    if length is None and "wsgi.input_terminated" in request.environ:  # streamed
        request.environ["wsgi.input"] = CappedStream(request.environ["wsgi.input"], limit)
        request.max_content_length = limit + 1  # Werkzeug reads that byte; the cap refuses it


def init_limits(app: Flask) -> None:
    """Run the body check before every other before-request hook, present and future."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_bodies)
