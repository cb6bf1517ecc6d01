"""Query-string arguments shared by the lists: a filter's choice, a search term, the page,
and a whole list's parameters (`list_query`) read against its Listing, with what its page
needs to show them (`ListView`: the filter form, the sortable headers, the pager).

A parameter the list does not offer, or a value it does not accept (an unknown sort key,
a state of another list, a fiscal year out of range, a page past the end or too large for
any database) is read as if it had not been given: a page never fails on its address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask import request, url_for
from werkzeug.datastructures import MultiDict

from grants.core.db import ID_MAX, Page, bounded_page
from grants.core.lists import (
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    TERM_MAX,
    Direction,
    Filter,
    Listing,
    ListQuery,
)
from grants.core.text import without_controls


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def chosen(choices: Sequence[HasId], name: str) -> int | None:
    """The id that ?`name`= names among `choices` (a filter's options), else None."""
    value = request.args.get(name, type=int)
    return value if value in {choice.id for choice in choices} else None


def chosen_ids(values: Sequence[str]) -> list[int]:
    """The ids among `values` (a repeated field: the rows ticked in a list), in order, once
    each; what is not a whole number from 1 to ID_MAX is left out."""
    digits = len(str(ID_MAX))
    found = [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= digits]
    return list(dict.fromkeys(n for n in found if 1 <= n <= ID_MAX))


def search_term() -> str:
    """?q=, without the control characters no column holds (PostgreSQL refuses NUL), and
    no longer than any column's text."""
    return without_controls(request.args.get("q", "")).strip()[:TERM_MAX]


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


# ---- a whole list's parameters ---------------------------------------------------------------

_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


def list_query(listing: Listing, programs: Sequence[HasId] = ()) -> ListQuery:
    """What ?q=&state=&kind=&program_id=&fiscal_year=&overdue=&sort=&direction=&page= ask
    of `listing`, keeping only what it offers and accepts (`programs`: the programme
    filter's choices)."""
    args = request.args
    sort = args.get("sort", "")
    if sort in listing.sorts:
        direction = _direction(args.get("direction"), Direction.asc)
    else:
        sort, direction = listing.default_sort, _direction(None, listing.default_direction)
    return ListQuery(
        sort=sort,
        direction=direction,
        page=page_number(),
        per_page=listing.per_page,
        term=search_term() if listing.offers(Filter.search) else "",
        state=_one_of(args.get("state"), listing.states),
        kind=_one_of(args.get("kind"), listing.kinds),
        program_id=chosen(programs, "program_id") if listing.offers(Filter.program) else None,
        fiscal_year=_fiscal_year() if listing.offers(Filter.fiscal_year) else None,
        overdue=_yes_no(args.get("overdue")) if listing.offers(Filter.overdue) else None,
    )


# A list's own query-string arguments (what ListView.params gives).
LIST_PARAMS = ("q", "state", "kind", "program_id", "fiscal_year", "overdue", "sort", "direction")


def list_params(values: MultiDict[str, str]) -> dict[str, str]:
    """The list arguments a form carried back (hidden fields: a row's action returns to the
    list as it was shown), and its page; the list reads them again as it reads any address."""
    kept = {key: values[key][:TERM_MAX] for key in LIST_PARAMS if values.get(key)}
    return kept | {"page": str(page_number(values))}


def _direction(value: str | None, default: Direction) -> Direction:
    return Direction(value) if value in (Direction.asc, Direction.desc) else default


def _one_of(value: str | None, accepted: Sequence[str]) -> str | None:
    return value if value in accepted else None


def _fiscal_year() -> int | None:
    year = request.args.get("fiscal_year", type=int)
    return year if year is not None and FISCAL_YEAR_MIN <= year <= FISCAL_YEAR_MAX else None


def _yes_no(value: str | None) -> bool | None:
    if value in _TRUE:
        return True
    return False if value in _FALSE else None


class Programme(HasId, Protocol):
    code: str

    def name(self, locale: str) -> str: ...


@dataclass(frozen=True)
class ListView:
    """A list's page as its template shows it: the rows, what was asked, and the choices of
    its filters; it builds the addresses of its sort headers and pages
    (templates/_macros/lists.html)."""

    listing: Listing
    asked: ListQuery
    page: Page
    states: Sequence[tuple[str, str]] = ()  # (value, label in the page's language)
    kinds: Sequence[tuple[str, str]] = ()
    programs: Sequence[Programme] = ()
    fiscal_years: Sequence[int] = ()

    @property
    def items(self) -> list[Any]:
        return self.page.items

    def offers(self, name: str) -> bool:
        return self.listing.offers(Filter(name))

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the list (its empty state then says "nothing matches")."""
        return any(value not in (None, "") for value in self.asked.filters())

    def params(self, **changes: Any) -> dict[str, Any]:
        """The list's query-string arguments that differ from how it opens, with `changes`
        (a None drops one)."""
        asked = self.asked
        current: dict[str, Any] = {
            "q": asked.term or None,
            "state": asked.state,
            "kind": asked.kind,
            "program_id": asked.program_id,
            "fiscal_year": asked.fiscal_year,
            "overdue": None if asked.overdue is None else int(asked.overdue),
            "page": asked.page if asked.page > 1 else None,
        }
        default_order = (self.listing.default_sort, self.listing.default_direction)
        if (asked.sort, asked.direction) != default_order:
            current |= {"sort": asked.sort, "direction": str(asked.direction)}
        current |= changes
        return {key: value for key, value in current.items() if value is not None}

    def url(self, **changes: Any) -> str:
        here = dict(request.view_args or {})
        return url_for(str(request.endpoint), **here, **self.params(**changes))

    def page_url(self, number: int) -> str:
        return self.url(page=number if number > 1 else None)

    def sort_url(self, key: str) -> str:
        """The list sorted by `key`, from the first page: ascending, or the other way round
        when it is sorted by `key` already."""
        direction = Direction.asc
        if key == self.asked.sort:
            direction = self.asked.direction.reversed
        return self.url(sort=key, direction=str(direction), page=None)

    def aria_sort(self, key: str) -> str | None:
        """aria-sort of the column header of `key`: only the sorted column has one."""
        if key != self.asked.sort:
            return None
        return "descending" if self.asked.descending else "ascending"

    def hidden_order(self) -> dict[str, str]:
        """The order as hidden fields of the filter form, so that filtering keeps it."""
        params = self.params()
        return {key: str(params[key]) for key in ("sort", "direction") if key in params}
