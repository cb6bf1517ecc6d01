"""The officer's decision page: the award rules' refusals in the officer's language."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from grants.awards.decision import web as decision_web
from grants.awards.models import Grant
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.applications import TODAY, make_pools, screened_application
from tests.support.factories import make_user
from tests.support.web import login, post_form


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decision_web, "_today", lambda: TODAY)


@pytest.mark.parametrize(
    ("locale", "refusal", "rule"),
    [
        (Locale.ja, "採択ルールにより、この応募は採択できません。", "初回トランシェ"),
        (Locale.en, "The award rules refuse this application.", "Upfront tranche"),
    ],
)
def test_the_award_rules_refusal_is_said_in_the_officers_language(
    client: FlaskClient, locale: Locale, refusal: str, rule: str
) -> None:
    # Upfront tranche above 1/4 of the request: the milestone programme's award rule blocks.
    world = screened_application("milestone", tranches=(200_000_000, 100_000_000, 100_000_000))
    make_pools(world.program)
    login(client, make_user(Role.officer, locale=locale).email)
    path = f"/officer/screening/{world.application.id}"
    preview = client.get(path).get_data(as_text=True)
    assert f'<p class="alert alert-error">{rule}' in preview
    response = post_form(client, f"{path}/award", {})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[page.index('id="form-errors"') :].split("</div>")[0]
    assert refusal in errors and rule in errors
    assert db.session.query(Grant).count() == 0
