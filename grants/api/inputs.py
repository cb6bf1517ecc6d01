"""Input conventions of the API: storable text, ids; dotted error paths for applications.

Every string of every request (body, form, query, headers) is refused, with a field error,
when it holds NUL or another control character: tab and line breaks are allowed only in a
multi-line `Text(multiline=True)` field and inside a free-form document (a rule set).
A body that is not JSON, or is nested too deeply to read, answers 400 in the client's language.

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
from grants.domain.text import control_problem
from grants.routing import ID_MAX
from grants.web.i18n import localise

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
    """Refuses control characters in any string of the request (see the module docstring);
    bodies that are not JSON, or nested past json's recursion limit, answer 400."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except RecursionError:  # thousands of nested brackets
            _too_deep()

    def _handle_invalid_json_error(
        self, error: Exception, req: Request, *args: Any, **kwargs: Any
    ) -> NoReturn:
        abort(400, exc=error, message=_("The body is not valid JSON."))

    def pre_load(self, location_data: Any, *, schema: Schema, req: Request, location: str) -> Any:
        if not isinstance(location_data, Mapping):
            return location_data
        try:
            errors = _schema_errors(location_data, schema)
        except RecursionError:  # parsed, but too deep to walk
            _too_deep()
        if errors:
            raise ValidationError(errors)
        return location_data


def _too_deep() -> NoReturn:
    abort(400, message=_("The JSON body is nested too deeply."))


def _schema_errors(data: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    errors = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in data and (found := _text_errors(data[key], field)):
            errors[key] = found
    return errors


def _text_errors(value: Any, field: fields.Field | None) -> Any:
    """The messages for `value` nested as marshmallow nests them, or None."""
    if isinstance(value, str):
        single_line = isinstance(field, fields.String) and not getattr(field, "multiline", False)
        problem = control_problem(value, multiline=not single_line)
        return [localise(problem)] if problem is not None else None
    if isinstance(value, Mapping):
        if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            return _schema_errors(value, field.schema) or None
        found = {
            key: _text_errors(key, None) or _text_errors(item, None) for key, item in value.items()
        }
        return {key: messages for key, messages in found.items() if messages} or None
    if isinstance(value, list | tuple):
        inner = field.inner if isinstance(field, fields.List) else field
        found = {index: _text_errors(item, inner) for index, item in enumerate(value)}
        return {index: messages for index, messages in found.items() if messages} or None
    return None


class ApiBlueprint(Blueprint):  # type: ignore[misc]
    """The blueprint of every API resource."""

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


class Text(fields.String):
    """Free text; `multiline` allows tab and line breaks (lengths are the services' to check,
    control characters the parser's)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline


def DbId(strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802
    """An id a column can hold; `strict`: a JSON integer, not a numeric string (off in queries)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=ID_MAX), **kwargs)
