"""The My work page and its count in the header, per role."""

from __future__ import annotations

import re

from flask import Flask, url_for
from flask.testing import FlaskClient

from grants.core.identity import Role
from grants.work import queries as work
from grants.work.queries import Task
from tests.support.factories import make_user
from tests.support.web import login, login_english
from tests.support.work import Office


def _counts(page: str) -> dict[str, int]:
    found = re.findall(r'data-task="(\w+)" data-count="(\d+)"', page)
    return {task: int(count) for task, count in found}


def _hrefs(page: str, task: Task) -> list[str]:
    section = page.split(f'id="work-{task}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr class="work-entry">\s*<th scope="row"><a href="([^"]+)"', section)


def test_an_officer_s_page_counts_each_task_and_links_each_entry(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    login_english(client, office.officer)
    response = client.get("/work")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _counts(page) == {str(task): 1 for task in work.TASKS[Role.officer]}
    assert 'id="work-count" data-count="6"' in page  # the header's count
    with app.test_request_context():
        for section in work.my_work(office.officer).sections:
            expected = [url_for(e.link.endpoint, **e.link.values) for e in section.entries]
            assert _hrefs(page, section.task) == expected, section.task
    milestone = office.world.milestones[0].id
    assert _hrefs(page, Task.releases) == [f"/officer/milestones/{milestone}/release"]
    assert "1 reviewer missing" in page
    assert "Investments to verify" in page and "¥10,000,000" in page
    # every page's header carries the count
    home = client.get("/").get_data(as_text=True)
    assert 'id="work-count" data-count="6"' in home


def test_a_reviewer_sees_each_round_s_age(app: Flask, client: FlaskClient, office: Office) -> None:
    login_english(client, office.world.reviewers[1])
    page = client.get("/work").get_data(as_text=True)
    assert _counts(page) == {"reviews": 1}
    milestone = office.world.milestones[1].id
    assert _hrefs(page, Task.reviews) == [f"/milestones/{milestone}/review"]
    assert re.search(r"waiting \d+ days?", page)
    assert 'id="work-count" data-count="1"' in page


def test_an_applicant_sees_the_evidence_due_and_the_changes_asked(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    login_english(client, office.world.applicant)
    page = client.get("/work").get_data(as_text=True)
    assert _counts(page) == {"evidence": 1, "changes": 1, "messages": 0}
    due, sent_back = office.short.milestones[0].id, office.sent_back.milestones[0].id
    assert _hrefs(page, Task.evidence) == [f"/milestones/{due}/evidence"]
    assert _hrefs(page, Task.changes) == [f"/milestones/{sent_back}/evidence"]
    assert "Evidence due" in page and "Changes requested" in page


def test_nothing_waits_for_an_administrator(
    app: Flask, client: FlaskClient, office: Office
) -> None:
    login_english(client, make_user(Role.admin))
    page = client.get("/work").get_data(as_text=True)
    assert "Nothing waits for you." in page and 'id="work-count"' not in page


def test_the_page_reads_in_japanese(app: Flask, client: FlaskClient, office: Office) -> None:
    login(client, office.officer.email)
    page = client.get("/work").get_data(as_text=True)
    assert "要件審査待ちの応募" in page and "Applications to screen" not in page
    assert 'data-task="screen" data-count="1"' in page


def test_signed_out_the_page_asks_to_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.get("/work")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
