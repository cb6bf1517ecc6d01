"""What the OpenAPI document says every operation can answer besides its own responses.

Each operation declares its successes and the errors particular to it (a 409 when the
milestone is not current ...). The errors that come from the API's conventions are added
here, where the conventions are: every operation needs a valid token (401) that may do it
(403) and may meet a database outage (503); one with an id in its path may find nothing
visible (404); one that reads a body or a query string may refuse it (400: not JSON, not
UTF-8; 413: too large; 415: not JSON; 422: a field refused, named by its dotted path).
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ALWAYS = {
    401: "No valid API token: missing, unknown, expired or revoked.",
    403: "The token's owner may not do this (their role, or what they own).",
    503: "The database cannot be reached: retry after the Retry-After header's seconds.",
}
_JSON_BODY = {
    400: "The body is not valid JSON, or is nested too deeply to read.",
    413: "The body is larger than this operation accepts.",
    415: "The body is not JSON (Content-Type: application/json).",
    422: "A value is refused: error.fields names each by its dotted path.",
}
_FORM_BODY = {
    400: "A field name or file name is not UTF-8.",
    413: "The upload is larger than this operation accepts.",
    422: "A value or a file is refused: error.fields names each by its dotted path.",
}
_QUERY = {
    400: "The query string is not UTF-8.",
    422: "A query parameter is refused: error.fields names it.",
}
_PATH_ID = {404: "Nothing with this id, or nothing its owner may see."}


class ConventionalErrors(BasePlugin):  # type: ignore[misc]
    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            declared = {str(status) for status in responses}  # flask-smorest keys some by int
            for status, description in sorted(_errors(path or "", operation).items()):
                if str(status) not in declared:
                    responses[str(status)] = {"description": description, "content": _ERROR}


def _errors(path: str, operation: dict[str, Any]) -> dict[int, str]:
    found = dict(_ALWAYS)
    if "{" in path:
        found |= _PATH_ID
    if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
        found |= _QUERY
    body = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in body:
        found |= _FORM_BODY
    elif body:
        found |= _JSON_BODY
    return found
