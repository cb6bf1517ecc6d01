"""Permission matrices over a blueprint's routes: who gets which status code.

The parties, in relation to a world's grant (or, for an application world without a grant,
to the applicant's organization):

    anonymous              not signed in (a column of `statuses`; sent to the login page)
    applicant_other_org    an applicant of another organization
    grantee                the world's applicant (the grantee, or the application's owner)
    reviewer               a reviewer assigned to the grant, without a conflict
    reviewer_not_assigned  a reviewer not assigned to the grant
    reviewer_conflicted    a reviewer assigned to the grant who then declared a conflict
                           with it (with no grant: with the applicant's organization)
    officer, admin         a programme officer, an administrator
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import ConflictDeclaration, User
from grants.awards.models import ReviewerAssignment
from grants.core.identity import OrgKind, Role
from grants.extensions import db
from tests.support.factories import make_org, make_user
from tests.support.web import login, post_form

ANONYMOUS = "anonymous"
REVIEWERS = ("reviewer", "reviewer_not_assigned", "reviewer_conflicted")
# Every signed-in party, in the order `statuses` asks them (officer and admin last, so that
# what they are allowed to do does not change what the others see).
WHO = ("applicant_other_org", "grantee", *REVIEWERS, "officer", "admin")
# Parties with no business with the grant at all.
OUTSIDERS = ("applicant_other_org", "reviewer_not_assigned")

Statuses = dict[str, dict[tuple[str, str], int]]


def routes(app: Flask, blueprint: str, ids: int = 1) -> list[tuple[str, str]]:
    """(method, path) for every GET/POST route of `blueprint`, or of every route under a
    path when `blueprint` starts with "/" (a page's routes, whichever feature serves them),
    each id replaced by `ids`."""
    found = []
    for rule in app.url_map.iter_rules():
        by_path = blueprint.startswith("/") and rule.rule.startswith(blueprint)
        if by_path or rule.endpoint.startswith(f"{blueprint}."):
            path = "/".join(str(ids) if p.startswith("<") else p for p in rule.rule.split("/"))
            methods = sorted((rule.methods or set()) & {"GET", "POST"})
            found += [(method, path) for method in methods]
    return sorted(found)


def user_for(world: Any, who: str) -> User:
    """A signed-in party of the matrix, in relation to `world` (a GrantWorld, or any world
    with an `applicant`, and optionally a `grant` and `reviewers`)."""
    if who == "grantee":
        return world.applicant
    if who == "reviewer":
        reviewers = getattr(world, "reviewers", None)
        return reviewers[0] if reviewers else make_user(Role.reviewer)
    if who == "reviewer_not_assigned":
        return make_user(Role.reviewer)
    if who == "reviewer_conflicted":
        return conflicted_reviewer(world)
    if who == "applicant_other_org":
        return make_user(Role.applicant, make_org(OrgKind.startup))
    return make_user(Role(who))


def conflicted_reviewer(world: Any) -> User:
    """A reviewer assigned to the world's grant who has declared a conflict with it (straight
    into the tables: no audit rows for the matrix to account for)."""
    reviewer = make_user(Role.reviewer)
    grant = getattr(world, "grant", None)
    if grant is not None:
        db.session.add(ReviewerAssignment(grant_id=grant.id, reviewer_id=reviewer.id))
        declaration = ConflictDeclaration(
            reviewer_id=reviewer.id, grant_id=grant.id, note="Advisor to the company"
        )
    else:
        declaration = ConflictDeclaration(
            reviewer_id=reviewer.id,
            organization_id=world.applicant.organization_id,
            note="Shareholder",
        )
    db.session.add(declaration)
    db.session.commit()
    return reviewer


def switch(client: FlaskClient, user: User) -> None:
    post_form(client, "/logout", {})
    login(client, user.email)


def request(
    client: FlaskClient,
    method: str,
    path: str,
    data: dict[str, object] | None = None,
    **kwargs: Any,
) -> TestResponse:
    if method == "GET":
        return client.get(path)
    return post_form(client, path, data or {}, **kwargs)


def statuses(
    client: FlaskClient,
    world: Any,
    paths: list[tuple[str, str]],
    data: Callable[[str, str], dict[str, object]] | None = None,
    who: tuple[str, ...] = WHO,
    **kwargs: Any,
) -> Statuses:
    """The status code of every route for every party of `who`, and for `anonymous` (who
    must be sent to the login page: asserted here). `kwargs` go to every POST."""

    def status(method: str, path: str) -> TestResponse:
        response = request(client, method, path, data(method, path) if data else None, **kwargs)
        response.close()  # a download's file, for one
        return response

    post_form(client, "/logout", {})
    table: Statuses = {ANONYMOUS: {}}
    for method, path in paths:
        response = status(method, path)
        assert response.status_code == 302, (ANONYMOUS, method, path)
        assert "/login" in response.headers["Location"], (ANONYMOUS, method, path)
        table[ANONYMOUS][(method, path)] = response.status_code
    for party in who:
        switch(client, user_for(world, party))
        table[party] = {(method, path): status(method, path).status_code for method, path in paths}
    post_form(client, "/logout", {})
    return table


def refused(table: Statuses, *parties: str, status: int = 403) -> None:
    """Every route answers `status` to each of `parties`."""
    for party in parties:
        assert set(table[party].values()) == {status}, (party, table[party])


def anonymous_goes_to_login(client: FlaskClient, paths: list[tuple[str, str]]) -> None:
    for method, path in paths:
        response = request(client, method, path)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"], (method, path)
