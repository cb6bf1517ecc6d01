"""Every list, in the pages and the API: each sort key both ways (descending is ascending
reversed), pages that add up to the whole list, parameters a list does not take (an
unknown sort key, a page past the end, numbers no column holds) never a 5xx, and a
statement count that does not grow with the data.

The lists' own filters and searches are tested with their features.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.core.calendar import tokyo_today
from grants.extensions import db
from tests.support.api import ApiClient
from tests.support.bulk import Sizes, empty_tables
from tests.support.lists import LISTS, ListCase, bulk_lists
from tests.support.queries import count_queries
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
SMALL = Sizes(grants=10, milestones_per_grant=6, own_grants=5, reviewed_grants=10)
LARGE = Sizes(grants=200, milestones_per_grant=6, own_grants=100, reviewed_grants=200)
HUGE = str(10**30)


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def _web(client: FlaskClient, case: ListCase) -> FlaskClient:
    login(client, case.who)
    return client


def _ids(api: ApiClient, case: ListCase, query: str) -> list[int]:
    response = api.get(f"{case.api}?per_page=100&{query}")
    assert response.status_code == 200, (case.api, query, response.get_json())
    return [item[case.id_key] for item in response.get_json()["items"]]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_sort_both_ways_and_pages_that_add_up(
    app: Flask, client: FlaskClient, name: str
) -> None:
    case = LISTS[name]
    bulk_lists(app, SMALL, TODAY)
    if case.web is not None:
        web = _web(app.test_client(), case)
        for key in case.web_listing.sorts:
            for direction in ("asc", "desc"):
                response = web.get(f"{case.web}?sort={key}&direction={direction}")
                assert response.status_code == 200, (name, key, direction)
                page = response.get_data(as_text=True)
                assert f'data-sort="{key}"' in page, (name, key)
    if case.api is None:
        return
    api = ApiClient(client, _user(case.who))
    for key in case.listing.sorts:
        ascending = _ids(api, case, f"sort={key}&direction=asc")
        assert len(ascending) >= 2, (name, key)
        assert _ids(api, case, f"sort={key}&direction=desc") == ascending[::-1], (name, key)
        query = f"sort={key}&direction=asc&per_page=2"
        pages = [_ids(api, case, f"{query}&page={n}") for n in range(1, 60)]
        assert [i for page in pages for i in page] == ascending, (name, key)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_parameters_a_list_does_not_take_are_never_a_server_error(
    app: Flask, client: FlaskClient, name: str
) -> None:
    case = LISTS[name]
    bulk_lists(app, SMALL, TODAY)
    bad = {
        "sort": "sort=nothing%3B+DROP+TABLE+milestone",
        "direction": "sort=" + case.listing.default_sort + "&direction=sideways",
        "page": f"page={HUGE}",
        case.state_key: f"{case.state_key}=lost",
        "program_id": f"program_id={HUGE}",
        "fiscal_year": "fiscal_year=99999",
        "kind": "kind=%00",
        "overdue": "overdue=maybe",
        "q": "q=" + "x" * 300,
    }
    if case.web is not None:
        web = _web(app.test_client(), case)
        for query in [*bad.values(), "page=999999", "per_page=100000", "q=%00%01"]:
            response = web.get(f"{case.web}?{query}")
            assert response.status_code == 200, (name, query, response.status_code)
    if case.api is None:
        return
    api = ApiClient(client, _user(case.who))
    for field, query in bad.items():
        response = api.get(f"{case.api}?{query}")
        assert response.status_code in (200, 422), (name, query)  # 200: not a filter here
        if response.status_code == 422:
            assert field in response.get_json()["error"]["fields"], (name, query)
    assert api.get(f"{case.api}?sort=nothing").status_code == 422
    past = api.get(f"{case.api}?page=999999").get_json()
    assert past["items"] == [] and past["page"] == 999999 and past["total"] > 0, name
    assert api.get(f"{case.api}?per_page=101").status_code == 422


def _statements(app: Flask, sizes: Sizes) -> dict[str, tuple[int, int]]:
    """(web, API) statements of one filtered and sorted request of each list."""
    bulk_lists(app, sizes, TODAY)
    found = {}
    clients: dict[str, FlaskClient] = {}  # one sign-in each: the sign-in limit counts them
    for name, case in LISTS.items():
        counts = []
        if case.web is not None:
            if case.who not in clients:
                clients[case.who] = _web(app.test_client(), case)
            web = clients[case.who]
            path = f"{case.web}?{case.web_query}"
            assert web.get(path).status_code == 200  # warm-up: kept figures, caches
            with count_queries() as statements:
                assert web.get(path).status_code == 200, path
            counts.append(len(statements))
        if case.api is not None:
            api = ApiClient(app.test_client(), _user(case.who))
            path = f"{case.api}?{case.api_query}"
            assert api.get(path).status_code == 200, (path, api.get(path).get_json())
            with count_queries() as statements:
                assert api.get(path).status_code == 200
            counts.append(len(statements))
        found[name] = tuple(counts)
    empty_tables()
    return found


def test_statement_counts_do_not_grow_with_the_data(app: Flask) -> None:
    small = _statements(app, SMALL)
    large = _statements(app, LARGE)
    assert small == large
    assert max(n for counts in small.values() for n in counts) <= 20, small


@pytest.mark.parametrize("name", sorted(n for n, case in LISTS.items() if case.api))
def test_the_openapi_document_names_each_list_s_parameters(
    app: Flask, client: FlaskClient, name: str
) -> None:
    case = LISTS[name]
    assert case.api is not None
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"]: p for p in spec["paths"][case.api]["get"]["parameters"]}
    assert {"page", "per_page", "sort", "direction"} <= set(parameters), name
    assert parameters["sort"]["schema"]["enum"] == list(case.listing.sorts), name
    assert parameters["direction"]["schema"]["enum"] == ["asc", "desc"], name
