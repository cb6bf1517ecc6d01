"""Page numbers of lists: whatever was asked for, a page every database can OFFSET to."""

from __future__ import annotations

# Far beyond any real list, and small enough that (page - 1) * per_page fits every database.
MAX_PAGE = 1_000_000


def bounded_page(page: int | None) -> int:
    """A page number from 1 to MAX_PAGE: a missing or smaller one is the first page."""
    return min(max(page or 1, 1), MAX_PAGE)
