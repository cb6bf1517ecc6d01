"""core.lists: a whitelisted order with the id last, pages that never overlap or skip a row,
NULLs placed alike on both databases, and searches that take % and _ literally."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import literal, select

from grants.accounts.models import Organization, User
from grants.core.identity import OrgKind
from grants.core.lists import (
    Direction,
    Filter,
    Listing,
    ListQuery,
    count_of,
    in_fiscal_year,
    in_order,
    matching,
    page_of,
)
from grants.extensions import db
from tests.support.factories import make_org
from tests.support.queries import count_queries

ORGS = Listing(
    name="test_orgs",
    sorts={
        "name": (Organization.name,),
        "name_en": (Organization.name_en,),  # may be NULL
        "kind": (in_order(Organization.kind, OrgKind),),
    },
    default_sort="name",
    tiebreak=Organization.id,
    kinds=tuple(OrgKind),
    filters=frozenset({Filter.search}),
    per_page=3,
)


def _orgs() -> list[Organization]:
    """Seven organisations, with names that repeat (ties) and English names left out."""
    names = [
        ("B", "Bee"),
        ("A", None),
        ("B", None),
        ("C", "Sea"),
        ("A", "Ay"),
        ("B", "Bee"),
        ("D", None),
    ]
    kinds = [OrgKind.vc, OrgKind.startup, OrgKind.university, OrgKind.startup] * 2
    return [
        make_org(kind, name=name, name_en=name_en)
        for (name, name_en), kind in zip(names, kinds, strict=False)
    ]


def _ids(asked: ListQuery) -> list[int]:
    return [org.id for org in page_of(select(Organization), ORGS, asked).items]


def _every_page(asked: ListQuery) -> list[int]:
    found: list[int] = []
    for number in range(1, 4):
        found += _ids(ListQuery(**{**asked.__dict__, "page": number}))
    return found


@pytest.mark.parametrize("key", ["name", "name_en", "kind"])
def test_pages_never_overlap_and_descending_reverses_ascending(app: Flask, key: str) -> None:
    orgs = _orgs()
    ascending = _every_page(ORGS.query(sort=key, direction=Direction.asc))
    descending = _every_page(ORGS.query(sort=key, direction=Direction.desc))
    assert sorted(ascending) == sorted(org.id for org in orgs)  # each row once
    assert descending == list(reversed(ascending))


def test_ties_are_broken_by_the_id_and_nulls_come_last_going_up(app: Flask) -> None:
    orgs = _orgs()
    by_name = _every_page(ORGS.query())
    expected = sorted(orgs, key=lambda o: (o.name, o.id))
    assert by_name == [org.id for org in expected]
    by_english = _every_page(ORGS.query(sort="name_en"))
    named = sorted((o for o in orgs if o.name_en), key=lambda o: (o.name_en, o.id))
    unnamed = sorted(o.id for o in orgs if not o.name_en)
    assert by_english == [org.id for org in named] + unnamed


def test_states_sort_in_their_enums_order_not_the_alphabets(app: Flask) -> None:
    _orgs()
    kinds = [
        org.kind
        for org in page_of(select(Organization), ORGS, ORGS.query(sort="kind", per_page=10)).items
    ]
    order = list(OrgKind)
    assert kinds == sorted(kinds, key=order.index)
    assert kinds[0] == OrgKind.startup and kinds[-1] == OrgKind.vc


def test_a_page_past_the_end_is_the_last_one_or_empty_when_asked_so(app: Flask) -> None:
    _orgs()
    last = page_of(select(Organization), ORGS, ORGS.query(page=3))
    past = page_of(select(Organization), ORGS, ORGS.query(page=10**30))
    assert (past.page, past.items, past.total) == (3, last.items, 7)
    empty = page_of(select(Organization), ORGS, ORGS.query(page=9, clamp=False))
    assert (empty.page, empty.items, empty.total) == (9, [], 7)
    bounded = page_of(select(Organization), ORGS, ORGS.query(page=-5, per_page=10**9))
    assert (bounded.page, bounded.per_page, len(bounded.items)) == (1, 500, 7)


def test_an_unknown_sort_key_never_reaches_the_database(app: Flask) -> None:
    orgs = _orgs()
    asked = ORGS.query(sort="name; DROP TABLE organization", per_page=10)
    assert _ids(asked) == [o.id for o in sorted(orgs, key=lambda o: (o.name, o.id))]


def test_matching_takes_wildcards_literally_and_counts(app: Flask) -> None:
    make_org(name="100% Bio")
    make_org(name="100 Bio")
    make_org(name="snake_case Labs")
    make_org(name="snakeXcase Labs")
    percent = select(Organization).where(matching("0%", Organization.name))
    assert [o.name for o in db.session.scalars(percent)] == ["100% Bio"]
    underscore = select(Organization).where(matching("e_c", Organization.name))
    assert [o.name for o in db.session.scalars(underscore)] == ["snake_case Labs"]
    assert count_of(select(Organization).where(matching("bio", Organization.name))) == 2


def test_a_fiscal_year_runs_from_april_to_march(app: Flask) -> None:
    def within(day: date) -> bool:
        return bool(db.session.scalar(select(in_fiscal_year(literal(day), 2026))))

    assert within(date(2026, 4, 1)) and within(date(2027, 3, 31))
    assert not within(date(2026, 3, 31)) and not within(date(2027, 4, 1))


def test_a_listing_needs_its_default_sort_among_its_keys() -> None:
    with pytest.raises(ValueError, match="no sort key"):
        Listing(name="broken", sorts={"a": (User.id,)}, default_sort="b", tiebreak=User.id)


def test_a_search_counts_its_rows_in_the_page_s_statement(app: Flask) -> None:
    orgs = _orgs()
    searched = select(Organization).where(matching("B", Organization.name))
    bees = sorted(o.id for o in orgs if o.name == "B")
    with count_queries() as statements:
        first = page_of(searched, ORGS, ORGS.query(term="B"))
    assert (first.total, [o.id for o in first.items]) == (3, bees)
    assert len(statements) == 1
    # past the end: counted apart, and the last page shown
    past = page_of(searched, ORGS, ORGS.query(term="B", page=9))
    assert (past.page, past.total, [o.id for o in past.items]) == (1, 3, bees)
    nothing = page_of(
        select(Organization).where(matching("Z", Organization.name)), ORGS, ORGS.query(term="Z")
    )
    assert (nothing.page, nothing.total, nothing.items) == (1, 0, [])
