"""Permission matrices over a blueprint's routes: who gets which status code."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.domain.accounts import OrgKind, Role
from grants.models import User
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld
from tests.support.web import login, post_form

WHO = ("applicant_other_org", "grantee", "reviewer", "officer", "admin")


def routes(app: Flask, blueprint: str, ids: int = 1) -> list[tuple[str, str]]:
    """(method, path) for every GET/POST route of `blueprint`, each id replaced by `ids`."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{blueprint}."):
            path = "/".join(str(ids) if p.startswith("<") else p for p in rule.rule.split("/"))
            methods = sorted((rule.methods or set()) & {"GET", "POST"})
            found += [(method, path) for method in methods]
    return sorted(found)


def user_for(world: GrantWorld, who: str) -> User:
    """A signed-in party of the matrix, in relation to `world`'s grant."""
    if who == "grantee":
        return world.applicant
    if who == "reviewer":
        return world.reviewers[0]
    if who == "applicant_other_org":
        return make_user(Role.applicant, make_org(OrgKind.startup))
    return make_user(Role(who))


def switch(client: FlaskClient, user: User) -> None:
    post_form(client, "/logout", {})
    login(client, user.email)


def request(
    client: FlaskClient, method: str, path: str, data: dict[str, object] | None = None
) -> TestResponse:
    if method == "GET":
        return client.get(path)
    return post_form(client, path, data or {})


def statuses(
    client: FlaskClient,
    world: GrantWorld,
    paths: list[tuple[str, str]],
    data: Callable[[str, str], dict[str, object]] | None = None,
) -> dict[str, dict[tuple[str, str], int]]:
    """The status code of every route for every party in WHO (anonymous separately)."""
    table: dict[str, dict[tuple[str, str], int]] = {}
    for who in WHO:
        switch(client, user_for(world, who))
        table[who] = {
            (method, path): request(
                client, method, path, data(method, path) if data else None
            ).status_code
            for method, path in paths
        }
    post_form(client, "/logout", {})
    return table


def anonymous_goes_to_login(client: FlaskClient, paths: list[tuple[str, str]]) -> None:
    for method, path in paths:
        response = request(client, method, path)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"], (method, path)
