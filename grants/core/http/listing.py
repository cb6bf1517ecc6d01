"""Query-string arguments shared by the lists: the programme filter, a search term, the page."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict

from grants.core.db import bounded_page
from grants.core.text import without_controls
from grants.programs.models import Program
from grants.programs.service import all_programmes


def programme_filter() -> tuple[list[Program], int | None]:
    """Every programme (for the filter's choices) and the one ?program_id= names, else None."""
    programs = all_programmes()
    program_id = request.args.get("program_id", type=int)
    return programs, program_id if program_id in {p.id for p in programs} else None


def search_term() -> str:
    """?q=, without the control characters no column holds (PostgreSQL refuses NUL)."""
    return without_controls(request.args.get("q", "")).strip()


def page_number(values: MultiDict[str, str] | None = None) -> int:
    """?page= (or the `page` of other `values`, a form's), from 1 to MAX_PAGE: a missing or
    malformed one is the first page, a larger one the last allowed, so that no number
    reaches the database as an OFFSET it cannot hold."""
    return bounded_page((request.args if values is None else values).get("page", 1, type=int))
