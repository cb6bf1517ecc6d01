"""Messages with a count use ngettext, so that English says "1 day", "1 alert"."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Locale, Role
from tests.support.factories import make_user
from tests.support.web import login


@pytest.mark.parametrize(("days", "text"), [(1, "kept for 1 day."), (7, "kept for 7 days.")])
def test_the_tasks_page_says_how_long_results_are_kept(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, days: int, text: str
) -> None:
    monkeypatch.setitem(app.config, "TASK_RESULT_DAYS", days)
    login(client, make_user(Role.officer, locale=Locale.en).email)
    response = client.get("/tasks")
    assert response.status_code == 200
    assert text in response.get_data(as_text=True)
