"""Marshmallow fields for rule documents. Each loads to the normalised, JSON-safe form.

Every message is a Problem (marshmallow's own defaults too), so that the edges can show it
in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields

from grants.core.money import YEN_MAX, parse_ratio
from grants.core.problems import N_, Problem, problem_of, shown
from grants.core.text import figure
from grants.rules.conditions import normalise_test
from grants.rules.facts import FACTS, KIND_NAMES, Kind, either, iso_date

_FIELD = {
    "required": N_("Missing data for required field."),
    "null": N_("Field may not be null."),
    "validator_failed": N_("Invalid value."),
}


class DocumentSchema(Schema):
    """A section of a rule document: its schema-level messages as Problems."""

    error_messages = {"type": N_("Expected an object."), "unknown": N_("Unknown field.")}


class Raw(fields.Raw):
    default_error_messages = _FIELD


class String(fields.String):
    default_error_messages = {**_FIELD, "invalid": N_("Not a valid string.")}


class List(fields.List):
    default_error_messages = {**_FIELD, "invalid": N_("Not a valid list.")}


class Dict(fields.Dict):
    default_error_messages = {**_FIELD, "invalid": N_("Not a valid mapping type.")}


class Nested(fields.Nested):
    default_error_messages = {**_FIELD, "type": N_("Expected an object.")}


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Yen(Raw):
    """Integer yen from 0 to YEN_MAX (floats and booleans are rejected)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not _is_whole(value) or value < 0:
            raise ValidationError(N_("Must be a whole number of yen, 0 or more."))
        if value > YEN_MAX:
            raise ValidationError(N_("This amount is too large."))
        return int(value)


class Count(Raw):
    """A whole number from `minimum` to `maximum`: a count, or a number of days."""

    def __init__(self, *, maximum: int, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not _is_whole(value) or not self.minimum <= value <= self.maximum:
            raise ValidationError(count_problem(self.minimum, self.maximum))
        return int(value)


def count_problem(minimum: int, maximum: int) -> Problem:
    return N_(
        "Must be a whole number from %(minimum)d to %(maximum)d.", minimum=minimum, maximum=maximum
    )


class Ratio(Raw):
    """Ratio text such as "1/3", "0.25" or "25%", kept as written in plain characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            parse_ratio(value)
        except ValueError as error:
            raise ValidationError(problem_of(error)) from None
        return figure(value)


class IsoDate(Raw):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return iso_date(value)
        except ValueError as error:
            raise ValidationError(problem_of(error)) from None


class FactName(Raw):
    """The name of a known fact of one of `kinds`."""

    def __init__(self, *, kinds: tuple[Kind, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = kinds

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        spec = FACTS.get(value) if isinstance(value, str) else None
        if spec is None:
            raise ValidationError(N_("Unknown fact '%(fact)s'.", fact=shown(value)))
        if spec.kind not in self.kinds:
            raise ValidationError(
                N_(
                    "Fact '%(fact)s' is %(kind)s fact; this rule needs %(wanted)s fact.",
                    fact=value,
                    kind=KIND_NAMES[spec.kind],
                    wanted=either([KIND_NAMES[kind] for kind in self.kinds]),
                )
            )
        return value


class Condition(Raw):
    """fact -> test; errors are keyed by the offending fact."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValidationError(N_("A condition maps fact names to tests."))
        normalised: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, test in value.items():
            try:
                normalised[name] = normalise_test(name, test)
            except ValueError as error:
                errors[str(name)] = [problem_of(error)]
        if errors:
            raise ValidationError(errors)
        return normalised
