"""GET and PUT /api/v1/me/notification-preferences: my own choices, by kind."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from grants.core.identity import Role
from tests.support.api import api_as, assert_error

PATH = "/api/v1/me/notification-preferences"


def test_my_role_s_kinds_are_e_mailed_at_once_until_i_choose(
    client: FlaskClient, app: Flask
) -> None:
    body = api_as(client, Role.reviewer).get(PATH).get_json()
    assert body == {
        "preferences": {
            "review_waiting": "now",
            "reviewer_assigned": "now",
            "evidence_submitted": "now",
            "grant_terminated": "now",
        }
    }


def test_put_sets_the_kinds_given_and_answers_them_all(client: FlaskClient, app: Flask) -> None:
    api = api_as(client, Role.officer)
    response = api.put(PATH, json={"preferences": {"tranche_ready": "digest", "overdue": "off"}})
    assert response.status_code == 200
    chosen = response.get_json()["preferences"]
    assert chosen["tranche_ready"] == "digest" and chosen["overdue"] == "off"
    assert chosen["application_submitted"] == "now"
    assert api.get(PATH).get_json()["preferences"] == chosen
    other = api_as(client, Role.officer).get(PATH).get_json()["preferences"]
    assert set(other.values()) == {"now"}


def test_unknown_kinds_and_choices_are_422_by_dotted_field(client: FlaskClient, app: Flask) -> None:
    api = api_as(client, Role.applicant)
    response = api.put(PATH, json={"preferences": {"due_soon": "weekly", "nothing": "off"}})
    error = assert_error(response, 422)
    assert set(error["fields"]) == {"preferences.due_soon.value", "preferences.nothing.key"}
    assert set(api.get(PATH).get_json()["preferences"].values()) == {"now"}
    assert_error(api.put(PATH, json={}), 422)
    assert_error(api.put(PATH, json={"preferences": ["due_soon"]}), 422)


def test_the_preferences_need_a_token(client: FlaskClient, app: Flask) -> None:
    assert_error(client.get(PATH), 401)
    assert_error(client.put(PATH, json={"preferences": {}}), 401)
