"""Query-string arguments shared by the lists: a filter's choice, a search term, the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flask import request, url_for
from werkzeug.datastructures import MultiDict

from grants.core.db import bounded_page
from grants.core.text import without_controls


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def chosen(choices: Sequence[HasId], name: str) -> int | None:
    """The id that ?`name`= names among `choices` (a filter's options), else None."""
    value = request.args.get(name, type=int)
    return value if value in {choice.id for choice in choices} else None


def search_term() -> str:
    """?q=, without the control characters no column holds (PostgreSQL refuses NUL)."""
    return without_controls(request.args.get("q", "")).strip()


def page_number(values: MultiDict[str, str] | None = None) -> int:
    """?page= (or the `page` of other `values`, a form's), from 1 to MAX_PAGE: a missing or
    malformed one is the first page, a larger one the last allowed, so that no number
    reaches the database as an OFFSET it cannot hold."""
    return bounded_page((request.args if values is None else values).get("page", 1, type=int))


class Report(Protocol):
    """A comparison (a what-if) whose page shows every row or only the changed ones."""

    @property
    def rows(self) -> Sequence[Any]: ...

    @property
    def changed(self) -> Sequence[Any]: ...


def report_context(report: Report) -> dict[str, Any]:
    """The rows to show (?all=1: every one) and the links between both views of this page."""
    show_all = request.args.get("all") == "1"
    here = dict(request.view_args or {})
    return {
        "result": report,
        "rows": report.rows if show_all else report.changed,
        "show_all": show_all,
        "all_url": url_for(str(request.endpoint), all=1, **here),
        "changed_url": url_for(str(request.endpoint), **here),
    }
