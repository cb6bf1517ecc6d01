"""Lists people can work with: a search term, filters, a whitelisted sort and stable pages.

A feature's queries module declares each of its lists as a `Listing`: the sort keys it
offers and the columns behind each, its default order, and the filters that apply to it
(which states and kinds may be asked for, whether a programme, a fiscal year, "overdue"
or a search term narrow it). The edges read the request into a `ListQuery` with the
listing as the whitelist (core.http.listing for the pages, core.http.schemas for the
API), so that nothing but a known key ever reaches ORDER BY. The query function narrows
its statement by the query's filters, then `page_of` orders it (the chosen columns, then
the id, all in the chosen direction: a total order, so that pages never overlap or skip
a row, and the descending list is the ascending one reversed) and reads one page: a
COUNT and a SELECT, whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, type_coerce

from grants.core.db import Page, bounded, dialect_name, page_within
from grants.extensions import db

# Longer search terms match nothing any column holds; the edges cut them to this.
TERM_MAX = 200
# The fiscal years a filter may name (as the budget pools' own range).
FISCAL_YEAR_MIN, FISCAL_YEAR_MAX = 2000, 2200
PER_PAGE = 25
PER_PAGE_MAX = 100


class Direction(StrEnum):
    asc = "asc"
    desc = "desc"

    @property
    def reversed(self) -> Direction:
        return Direction.desc if self is Direction.asc else Direction.asc


class Filter(StrEnum):
    """The narrowing a list may offer besides its states and kinds."""

    search = "q"
    program = "program_id"
    fiscal_year = "fiscal_year"
    overdue = "overdue"


@dataclass(frozen=True)
class Listing:
    """What one list offers: its sort keys (each a tuple of column expressions), its
    default order, the state and kind values its filters accept, and its other filters.

    `tiebreak` is the row's id: the last key of every order.
    """

    name: str
    sorts: Mapping[str, tuple[Any, ...]]
    default_sort: str
    tiebreak: Any
    default_direction: Direction = Direction.asc
    states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    filters: frozenset[Filter] = field(default_factory=frozenset)
    per_page: int = PER_PAGE

    def __post_init__(self) -> None:
        if self.default_sort not in self.sorts:
            raise ValueError(f"{self.name}: no sort key {self.default_sort!r}")

    def offers(self, narrowing: Filter) -> bool:
        return narrowing in self.filters

    def query(self, **values: Any) -> ListQuery:
        """The list as it opens (default order, first page, nothing filtered), with `values`."""
        default = ListQuery(
            sort=self.default_sort, direction=self.default_direction, per_page=self.per_page
        )
        return replace(default, **values)


@dataclass(frozen=True)
class ListQuery:
    """What a reader asked of a list, already checked against its Listing."""

    sort: str
    direction: Direction
    page: int = 1
    per_page: int = PER_PAGE
    term: str = ""
    state: str | None = None
    kind: str | None = None
    program_id: int | None = None
    fiscal_year: int | None = None
    overdue: bool | None = None
    # A page past the end shows the last one (the pages); the API answers it empty.
    clamp: bool = True

    @property
    def descending(self) -> bool:
        return self.direction is Direction.desc

    def filters(self) -> tuple[Any, ...]:
        """Everything but the order and the page: what a count depends on."""
        return (
            self.term,
            self.state,
            self.kind,
            self.program_id,
            self.fiscal_year,
            self.overdue,
        )


def ordered(query: Select[Any], listing: Listing, asked: ListQuery) -> Select[Any]:
    """`query` in the asked order: the sort key's columns, then the id, one direction."""
    columns = listing.sorts.get(asked.sort, listing.sorts[listing.default_sort])
    keys = [*columns, listing.tiebreak]
    return query.order_by(None).order_by(*(_directed(key, asked.descending) for key in keys))


def _directed(column: Any, descending: bool) -> Any:
    """Descending is the exact reverse of ascending on both databases: a column that may be
    NULL sorts its NULLs last going up (PostgreSQL's way; SQLite would put them first)."""
    if not _nullable(column):
        return column.desc() if descending else column.asc()
    return column.desc().nulls_first() if descending else column.asc().nulls_last()


def outer(column: Any) -> Any:
    """A sort column of an outer-joined table: NULL where the row has no such row, so that
    it sorts like a column that may be NULL (its NULLs last going up)."""
    return type_coerce(column, column.type)


def _nullable(column: Any) -> bool:
    expression = getattr(column, "expression", column)
    return bool(getattr(expression, "nullable", True))


def page_of(
    query: Select[Any],
    listing: Listing,
    asked: ListQuery,
    count: Callable[[], int] | None = None,
) -> Page:
    """One page of `query` (narrowed already, not ordered) in the asked order, and how many
    rows it has in all: two statements (one when `count` knows the total already, or when
    searching: the search reads every row, which a window count counts in the same
    statement). The items are the rows, or their one value when `query` selects one
    entity or column."""
    page, per_page = bounded(asked.page, asked.per_page)
    single = len(query.column_descriptions) == 1
    if asked.term and single:  # a search reads every row anyway: count them on the way
        counted = _with_total(query, listing, asked, page, per_page)
        if counted is not None:
            return counted
    total = count() if count is not None else count_of(query)
    if asked.clamp:
        page = page_within(page, total, per_page)
    rows = db.session.execute(
        ordered(query, listing, asked).limit(per_page).offset((page - 1) * per_page)
    )
    items = list(rows.scalars() if single else rows)
    return Page(items, page, per_page, total)


def _with_total(
    query: Select[Any], listing: Listing, asked: ListQuery, page: int, per_page: int
) -> Page | None:
    """The page and the total in one statement (a window count), None when the page is
    empty (past the end: the total is counted apart)."""
    with_total = query.add_columns(func.count().over())
    statement = ordered(with_total, listing, asked).limit(per_page).offset((page - 1) * per_page)
    rows = db.session.execute(statement).all()
    if not rows:
        return None
    return Page([row[0] for row in rows], page, per_page, int(rows[0][-1]))


def page_by_id(
    ids: Select[Any],
    listing: Listing,
    asked: ListQuery,
    load: Callable[[list[int]], Mapping[int, Any]],
    count: Callable[[], int] | None = None,
) -> Page:
    """page_of for wide rows: the page's ids are sorted first (`ids` selects the listing's
    tiebreak id, joining only what its filters and sort read: SQL sorts narrow rows), then
    `load` reads their rows ({id: row}), which come back in the page's order. One statement
    more than page_of."""
    page = page_of(ids, listing, asked, count)
    found = load(page.items) if page.items else {}
    return Page([found[key] for key in page.items], page.page, page.per_page, page.total)


def count_of(query: Select[Any]) -> int:
    """How many rows `query` has."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)


def matching(term: str, *columns: Any) -> ColumnElement[bool]:
    """Any of `columns` contains `term` (a % or _ typed is that character, not a wildcard),
    case-insensitively for the letters the database folds: SQLite's LIKE folds them itself
    (the ASCII ones, as its lower() does), so the columns are read as they are; PostgreSQL's
    does not, so both sides are folded there."""
    if dialect_name() == "sqlite":
        return or_(*(column.contains(term, autoescape=True) for column in columns))
    return or_(*(column.icontains(term, autoescape=True) for column in columns))


def in_fiscal_year(column: Any, year: int) -> ColumnElement[bool]:
    """A date `column` falls in fiscal year `year` (April to March): a range, so that an
    index on the column serves it."""
    return column.between(date(year, 4, 1), date(year + 1, 3, 31))


def in_order(column: Any, members: Iterable[StrEnum]) -> ColumnElement[int]:
    """A state `column` as its position in `members` (the lifecycle's order, not the
    alphabet's), for sorting by state."""
    return case({member: position for position, member in enumerate(members)}, value=column)
