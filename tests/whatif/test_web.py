"""The what-if page of a draft rule set."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, Role
from grants.rules import amed_certified_vc
from grants.rulesets import service as rulesets
from tests.support.factories import make_org, make_user
from tests.support.rulesets import rule
from tests.support.web import login
from tests.support.whatif import make_whatif_world


def _draft_without_relaxation(w) -> int:  # type: ignore[no-untyped-def]
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["relaxations"] = []
    return rulesets.create_draft(w.officer, w.world.program.id, "草案", document).id


def test_officer_sees_the_summary_and_what_changes(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    draft_id = _draft_without_relaxation(w)
    login(client, w.officer.email)
    page = client.get(f"/officer/rulesets/{draft_id}/what-if")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-change="newly_blocked">1<' in html
    assert "非臨床の候補" in html and "第I相の候補" not in html
    everything = client.get(f"/officer/rulesets/{draft_id}/what-if?all=1").get_data(as_text=True)
    assert "第I相の候補" in everything


def test_the_draft_page_links_to_the_what_if(app: Flask, client: FlaskClient) -> None:
    w = make_whatif_world()
    draft_id = _draft_without_relaxation(w)
    login(client, w.officer.email)
    html = client.get(f"/officer/rulesets/{draft_id}").get_data(as_text=True)
    assert f"/officer/rulesets/{draft_id}/what-if" in html


def test_unknown_rule_set_is_404(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.officer).email)
    assert client.get("/officer/rulesets/999/what-if").status_code == 404


def test_anonymous_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.get("/officer/rulesets/1/what-if")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_other_roles_are_forbidden(app: Flask, client: FlaskClient, role: Role) -> None:
    w = make_whatif_world()
    draft_id = _draft_without_relaxation(w)
    login(client, make_user(role, make_org()).email)
    assert client.get(f"/officer/rulesets/{draft_id}/what-if").status_code == 403


def _outcomes(html: str, kind: str) -> str:
    """The report rows of one kind of subject ("Grant" / "Application" or 助成案件 / 応募)."""
    rows = html.split('<tr class="change-')[1:]
    return "".join(row.split("</tr>")[0] for row in rows if f"<td>{kind}: " in row)


def test_a_failing_application_is_ineligible_and_a_failing_grant_is_blocked(
    app: Flask, client: FlaskClient
) -> None:
    w = make_whatif_world()
    draft_id = _draft_without_relaxation(w)
    officer = make_user(Role.officer, locale=Locale.en)
    login(client, officer.email)
    html = client.get(f"/officer/rulesets/{draft_id}/what-if?all=1").get_data(as_text=True)
    applications, grants = _outcomes(html, "Application"), _outcomes(html, "Grant")
    assert "Ineligible" in applications and "Blocked" not in applications
    assert "Blocked" in grants and "Ineligible" not in grants  # its next tranche's gate fails

    japanese = app.test_client()
    login(japanese, w.officer.email)
    html = japanese.get(f"/officer/rulesets/{draft_id}/what-if?all=1").get_data(as_text=True)
    applications, grants = _outcomes(html, "応募"), _outcomes(html, "助成案件")
    assert "要件不適合" in applications and "交付不可" not in applications
    assert "交付不可" in grants and "要件不適合" not in grants
