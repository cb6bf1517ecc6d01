"""Page numbers of lists: whatever was asked for, a page every database can OFFSET to, and
never a page past the end (that would say the list is empty when it is not)."""

from __future__ import annotations

from math import ceil
from typing import Any

from flask_sqlalchemy.pagination import Pagination

from grants.extensions import db

# Far beyond any real list, and small enough that (page - 1) * per_page fits every database.
MAX_PAGE = 1_000_000


def bounded_page(page: int | None) -> int:
    """A page number from 1 to MAX_PAGE: a missing or smaller one is the first page."""
    return min(max(page or 1, 1), MAX_PAGE)


def page_within(page: int | None, total: int, per_page: int) -> int:
    """`page`, bounded, and at most the last page of `total` rows: a page past the end (an
    old link, a list that shrank) shows the last one."""
    return min(bounded_page(page), max(ceil(total / per_page), 1))


def paginate(query: Any, page: int | None, per_page: int) -> Pagination:
    """Flask-SQLAlchemy's page of `query`, the last one when `page` is past the end."""
    result = db.paginate(query, page=bounded_page(page), per_page=per_page, error_out=False)
    if result.total and result.page > (result.pages or 1):
        result = db.paginate(query, page=result.pages, per_page=per_page, error_out=False)
    return result
