"""Input conventions of the application endpoints: dotted error paths, storable text, ids.

Field errors (`error.fields`) are keyed by the field's dotted path in the request body:
"title", "milestones.0.due_date", "milestones.1.criteria.0.unit",
"co_investments.2.committed_amount". A path naming a list ("milestones",
"milestones.0.criteria", "co_investments") is about the list as a whole. Malformed input
(a wrong type, a missing field: webargs) and the services' rule checks (RuleViolation,
whose keys follow the web forms' "milestones-0-due_date") come out in the same form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from flask import Request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from webargs.flaskparser import FlaskParser, abort

from grants.domain.errors import RuleViolation
from grants.routing import ID_MAX

T = TypeVar("T")


def dotted(messages: Any, prefix: str = "") -> dict[str, Any]:
    """Nested marshmallow messages ({"milestones": {0: {"due_date": [...]}}}) as dotted paths."""
    if not isinstance(messages, Mapping):
        return {prefix or "_schema": messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        flat.update(dotted(value, path) if isinstance(value, Mapping) else {path: value})
    return flat


def dotted_fields(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The services' form-style keys ("milestones-0-due_date") as dotted paths."""
    return {key.replace("-", "."): messages for key, messages in errors.items()}


class ApiParser(FlaskParser):
    """Bodies that are not JSON, or nested past json's recursion limit, answer 400."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except RecursionError:  # thousands of nested brackets
            abort(400, message=_("The JSON body is nested too deeply."))

    def _handle_invalid_json_error(
        self, error: Exception, req: Request, *args: Any, **kwargs: Any
    ) -> NoReturn:
        abort(400, exc=error, message=_("The body is not valid JSON."))


class ApiBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ApiParser()


class DottedParser(ApiParser):
    """Input errors by dotted path, the same form as the services' field errors."""

    def handle_error(  # type: ignore[override]
        self, error: ValidationError, req: Request, schema: Schema, **kwargs: Any
    ) -> NoReturn:
        by_location = error.messages if isinstance(error.messages, dict) else {}
        error.messages = {location: dotted(found) for location, found in by_location.items()}
        super().handle_error(error, req, schema, **kwargs)


class DottedBlueprint(ApiBlueprint):
    ARGUMENTS_PARSER = DottedParser()


def rule_fields(call: Callable[..., T], *args: Any) -> T:
    """Run a service call; its RuleViolation's field keys become dotted paths."""
    try:
        return call(*args)
    except RuleViolation as error:
        raise RuleViolation(error.message, dotted_fields(error.fields)) from None


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError(_("The text contains a NUL character."))


def Text(**kwargs: Any) -> fields.String:  # noqa: N802  (reads like a field class)
    """A string the database can store (lengths are the services' to check)."""
    return fields.String(validate=_no_nul, **kwargs)


def DbId(strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802
    """An id a column can hold; `strict`: a JSON integer, not a numeric string (off in queries)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=ID_MAX), **kwargs)
