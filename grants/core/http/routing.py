"""URL converters shared by the web pages and the API."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from grants.core.db import ID_MAX


class BoundedInt(IntegerConverter):
    """`<int:...>` that answers 404 for numbers no column can hold, instead of overflowing."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)
