"""A grant's released and remaining money is one figure, whoever shows it: the grant page,
the API (the grant and the list), the grants export and the officer's portfolio."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.awards.models import Grant
from grants.awards.termination import service as terminations
from grants.core.identity import Locale, Role
from grants.core.states import GrantState
from grants.extensions import db
from grants.releases import service as releases
from tests.support.api import ApiClient
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login

TODAY = date(2026, 10, 15)


def _active(world: GrantWorld) -> None:
    approve(world, world.milestones[0])
    releases.release(officer(world), world.milestones[0].id, TODAY)


def _completed(world: GrantWorld) -> None:
    approve(world, *world.milestones)
    for milestone in world.milestones:
        releases.release(officer(world), milestone.id, TODAY)


def _terminated(world: GrantWorld) -> None:
    _active(world)
    terminations.terminate(officer(world), world.grant.id, "No-go at the review.", TODAY)


STORIES = {
    GrantState.active: _active,
    GrantState.completed: _completed,
    GrantState.terminated: _terminated,
}


@pytest.mark.parametrize("state", list(STORIES))
def test_every_place_shows_the_same_released_and_remaining(
    app: Flask, client: FlaskClient, state: GrantState
) -> None:
    world = make_grant()
    STORIES[state](world)
    grant = db.session.get(Grant, world.grant.id)
    assert grant is not None and grant.state == state
    released = sum(m.tranche_amount for m in grant.milestones if m.released_at is not None)
    expected = (released, 0 if state != GrantState.active else grant.award_amount - released)

    staff = make_user(Role.officer, locale=Locale.en)
    api = ApiClient(client, staff)
    one = api.get(f"/api/v1/grants/{grant.id}").get_json()
    listed = next(g for g in api.get("/api/v1/grants").get_json()["items"] if g["id"] == grant.id)
    exported = _exported(
        api.get("/api/v1/exports/grants.csv", buffered=True).get_data(as_text=True), grant
    )

    login(client, staff.email)
    page = client.get(f"/grants/{grant.id}").get_data(as_text=True)
    portfolio = client.get("/officer/portfolio").get_data(as_text=True)

    assert (one["released"], one["remaining"]) == expected
    assert (listed["released"], listed["remaining"]) == expected
    assert exported == expected
    assert f"<dt>Remaining</dt><dd>¥{expected[1]:,}</dd>" in page
    if state == GrantState.active:  # the portfolio lists the grants still running
        assert f'data-remaining="{expected[1]}"' in portfolio


def _exported(text: str, grant: Grant) -> tuple[int, int]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    row = next(r for r in body if r[0] == grant.number)
    named = dict(zip(header, row, strict=True))
    return int(named["Released (yen)"]), int(named["Remaining (yen)"])


def test_the_grants_export_names_its_columns_in_the_readers_language(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    _terminated(world)
    api = ApiClient(client, make_user(Role.officer))
    text = api.get(
        "/api/v1/exports/grants.csv", headers={"Accept-Language": "ja"}, buffered=True
    ).get_data(as_text=True)
    header = text.lstrip("\ufeff").splitlines()[0]
    assert re.search("採択額|交付額|助成額", header) and "中止" in text
