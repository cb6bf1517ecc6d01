"""Marshmallow fields for rule documents. Each loads to the normalised, JSON-safe form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

from grants.domain.money import parse_ratio
from grants.domain.rules.conditions import normalise_test
from grants.domain.rules.facts import FACTS, KIND_NAMES, Kind, iso_date


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Yen(fields.Field):
    """Integer yen, 0 or more (floats and booleans are rejected)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not _is_whole(value) or value < 0:
            raise ValidationError("Must be a whole number of yen, 0 or more.")
        return int(value)


class Count(fields.Field):
    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not _is_whole(value) or value < self.minimum:
            raise ValidationError(f"Must be a whole number, {self.minimum} or more.")
        return int(value)


class Ratio(fields.Field):
    """Ratio text such as "1/3", "0.25" or "25%", kept as written."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            parse_ratio(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return str(value).strip()


class IsoDate(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return iso_date(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class FactName(fields.Field):
    """The name of a known fact of one of `kinds`."""

    def __init__(self, *, kinds: tuple[Kind, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = kinds

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        spec = FACTS.get(value) if isinstance(value, str) else None
        if spec is None:
            raise ValidationError(f"Unknown fact {value!r}.")
        if spec.kind not in self.kinds:
            wanted = " or ".join(KIND_NAMES[kind] for kind in self.kinds)
            raise ValidationError(
                f"Fact '{value}' is {KIND_NAMES[spec.kind]} fact; this rule needs {wanted} fact."
            )
        return value


class Condition(fields.Field):
    """fact -> test; errors are keyed by the offending fact."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValidationError("A condition maps fact names to tests.")
        normalised: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, test in value.items():
            try:
                normalised[name] = normalise_test(name, test)
            except ValueError as error:
                errors[str(name)] = [str(error)]
        if errors:
            raise ValidationError(errors)
        return normalised
