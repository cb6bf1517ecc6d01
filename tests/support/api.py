"""Calling /api/v1 from tests with a personal token."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grants.accounts.models import Organization, User
from grants.accounts.tokens import service as tokens
from grants.core.actors import SYSTEM
from grants.core.identity import Role
from tests.support.factories import make_user
from tests.support.second_factor import no_second_factor_given


class ApiClient:
    """A test client that sends one user's bearer token with every request."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        self.client = client
        self.user = user
        _token, self.secret = tokens.create_token(
            SYSTEM, user, "tests", step_up=no_second_factor_given()
        )

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.put(path, json=json, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.delete(path, headers=headers, **kwargs)


def api_as(client: FlaskClient, role: Role, org: Organization | None = None) -> ApiClient:
    return ApiClient(client, make_user(role, org))


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]
