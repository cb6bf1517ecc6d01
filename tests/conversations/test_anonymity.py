"""Reviewer anonymity: with the programme's setting on (the default), an applicant meets the
reviewers only as "Reviewer 1", "Reviewer 2" on every page, JSON answer, e-mail, inbox and
calendar feed they can reach, never by name, e-mail address or id; staff see names; with
the setting off, the applicant does too. Internal notes never reach them either."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.alerts.calendar import service as calendar
from grants.alerts.delivery import service as mail
from grants.conversations import service as conversations
from grants.core.actors import SYSTEM
from grants.core.identity import Locale
from grants.core.models import utcnow
from grants.extensions import db
from tests.support.api import ApiClient
from tests.support.events import Cast, changes_requested, make_cast
from tests.support.factories import uploads
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.web import login_english, post_form

TODAY = date(2026, 10, 1)
NOTE = "INTERNAL-NOTE-7d1f"
_LINK = re.compile(r'href="([^"#]+)')
_SKIP = ("/logout", "/static/", "/api/", "/calendar/", "mailto:")


@pytest.fixture
def server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", running.port)
        yield running


def _cast_with_reviews_and_messages() -> Cast:
    cast = make_cast()
    for n, reviewer in enumerate([*cast.world.reviewers, cast.conflicted]):
        reviewer.name = f"Hidden Reviewer Zq{n}"
        reviewer.email = f"hidden.zq{n}@reviewers.example.jp"
    cast.world.applicant.locale = Locale.en
    db.session.commit()
    changes_requested(cast)  # both reviewers decide, with comments; the grantee is told
    milestone = cast.world.milestones[0].id
    for author, body, internal in (
        (cast.world.reviewers[1], "Please add the raw data.", False),
        (cast.world.reviewers[0], NOTE, True),
        (cast.officer, NOTE, True),
        (cast.officer, "Shared question from the office.", False),
    ):
        conversations.post_message(
            author, "milestone", milestone, body, internal, [], TODAY, upload_folder=uploads()
        )
    return cast


def _crawl(client: FlaskClient) -> dict[str, str]:
    """Every page reachable by links from the home page, as the signed-in user sees it."""
    seen: dict[str, str] = {}
    queue = ["/"]
    while queue and len(seen) < 300:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path, follow_redirects=True)
        seen[path] = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        for link in _LINK.findall(seen[path]):
            target = urlsplit(urljoin(path, link.replace("&amp;", "&")))
            if target.netloc and target.netloc != "localhost":
                continue
            local = target.path + (f"?{target.query}" if target.query else "")
            if not local.startswith(_SKIP) and local not in seen:
                queue.append(local)
    return seen


def _api_bodies(client: FlaskClient, cast: Cast) -> dict[str, str]:
    """Every GET of the API documentation with the world's ids, as the applicant."""
    api = ApiClient(client, cast.world.applicant)
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = {
        "grant_id": cast.world.grant.id,
        "milestone_id": cast.world.milestones[0].id,
        "application_id": cast.world.grant.application_id,
        "program_id": cast.world.program.id,
    }
    bodies: dict[str, str] = {}
    for template, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        path = template
        for name, value in ids.items():
            path = path.replace("{" + name + "}", str(value))
        if "{" in path:
            continue
        response = api.get(path)
        # a PDF's text is compressed: its notices (settlement) say who was paid, never who
        # reviewed, and are checked by their own tests
        pdf = response.mimetype == "application/pdf"
        bodies[path] = "" if pdf else response.get_data(as_text=True)
        response.close()
    return bodies


def _leaks(text: str, reviewers: list[User]) -> list[str]:
    found = []
    for reviewer in reviewers:
        for said in (reviewer.name, reviewer.email, reviewer.email.split("@")[0]):
            if said in text:
                found.append(said)
        # an id beside the word, as an attribute, a parameter, a path or a key would hold it
        # ("Reviewer 2", a label, has a space and no punctuation)
        pattern = rf"reviewers?(?:_id|-id|Id)?[\"'=:/\-]\W{{0,2}}{reviewer.id}\b"
        if re.search(pattern, text, re.IGNORECASE):
            found.append(pattern)
    return found


def _json_reviewer_ids(body: str) -> list[Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                named = "reviewer" in key and key not in ("reviewer_name", "reviewers_anonymous")
                if named and item is not None:
                    found.append((key, item))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


def test_an_applicant_never_meets_a_reviewer_or_an_internal_note(
    app: Flask, client: FlaskClient, server: SmtpServer
) -> None:
    cast = _cast_with_reviews_and_messages()
    reviewers = [*cast.world.reviewers, cast.conflicted]
    mail.deliver(SYSTEM, utcnow(), current_app.config)
    token = calendar.create_token(cast.world.applicant)
    login_english(client, cast.world.applicant)
    pages = _crawl(client)
    grant_page = pages.get(f"/grants/{cast.world.grant.id}", "")
    thread = f"/conversations/milestone/{cast.world.milestones[0].id}"
    assert thread in pages and "Reviewer 1" in grant_page and "Reviewer 2" in grant_page
    assert "Criteria" in grant_page or "Reviews" in grant_page
    assert "Reviewer 2" in pages[thread] and "Please add the raw data." in pages[thread]
    bodies = {
        **pages,
        **_api_bodies(client, cast),
        "calendar": client.get(f"/calendar/{token}.ics").get_data(as_text=True),
    }
    to_applicant = [
        m for m in server.mailbox.received if cast.world.applicant.email in str(m["To"])
    ]
    assert to_applicant  # the changes requested, the office's and the reviewer's messages
    for n, message in enumerate(to_applicant):
        bodies[f"mail {n}"] = str(message["Subject"]) + message.get_body().get_content()
    for where, body in bodies.items():
        assert not _leaks(body, reviewers), (where, _leaks(body, reviewers))
        assert NOTE not in body, where
        assert not _json_reviewer_ids(body), (where, _json_reviewer_ids(body))
    milestone_json = json.loads(bodies[f"/api/v1/milestones/{cast.world.milestones[0].id}"])
    names = {r["reviewer_name"] for s in milestone_json["submissions"] for r in s["reviews"]}
    assert names == {"Reviewer 1", "Reviewer 2"}
    messages = json.loads(bodies[f"/api/v1/milestones/{cast.world.milestones[0].id}/messages"])
    assert [m["author"] for m in messages][0] == "Reviewer 2"  # the same number everywhere


def test_staff_see_names_and_so_do_applicants_when_the_programme_shows_them(
    app: Flask, client: FlaskClient
) -> None:
    cast = _cast_with_reviews_and_messages()
    thread = f"/conversations/milestone/{cast.world.milestones[0].id}"
    grant = f"/grants/{cast.world.grant.id}"
    login_english(client, cast.officer)
    for path in (grant, thread):
        assert "Hidden Reviewer Zq1" in client.get(path).get_data(as_text=True), path
    post_form(client, "/logout", {})
    cast.world.program.reviewers_anonymous = False
    db.session.commit()
    login_english(client, cast.world.applicant)
    for path in (grant, thread):
        page = client.get(path).get_data(as_text=True)
        assert "Hidden Reviewer Zq1" in page and "Reviewer 1" not in page, path
        assert NOTE not in page
    api = ApiClient(client, cast.world.applicant)
    body = api.get(f"/api/v1/milestones/{cast.world.milestones[0].id}").get_json()
    ids = {r["reviewer_id"] for s in body["submissions"] for r in s["reviews"]}
    assert ids == {r.id for r in cast.world.reviewers}
