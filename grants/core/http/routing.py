"""URL converters shared by the web pages and the API."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from grants.core.db import ID_MAX


class BoundedInt(IntegerConverter):
    """`<int:...>` for ids: a positive integer in ASCII digits without leading zeros, at
    most what a column holds. Anything else (0, 01, full-width digits, 2**63) matches no
    route, so every method answers 404 for it, not 405 or the record of another spelling."""

    regex = r"[1-9][0-9]*"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)
