"""Parameter specifications of rule types, and their conversion from the stored document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from grants.core.money import parse_ratio
from grants.rules.facts import Kind, python_value

Facts = Mapping[str, Any]
# A checker returns (passed, raw, variant): `passed` is True or the variant's `failed`; `raw`
# is what it read, turned into the JSON-safe `compared` dict only when a trace row is read.
# On a missing fact: (None, names, variant).
Result = tuple[Any, Any, "Variant | None"]
Checker = Callable[[Facts], Result]
Describe = Callable[[Mapping[str, Any], Any], dict[str, Any]]
# For a rule that caps a fact: from a checker's `raw`, (the capped fact, its upper bound).
UpperBound = Callable[[Any], tuple[str, int]]


class ParamKind(StrEnum):
    FACT = "fact"  # a fact name of one of `fact_kinds`
    AMOUNT = "amount"  # integer yen >= 0
    RATIO = "ratio"  # text parsed by money.parse_ratio
    DATE = "date"  # ISO date text
    COUNT = "count"  # integer >= `minimum`
    CHOICE = "choice"  # one of `choices`
    VALUE = "value"  # a value of the rule's "fact"
    VALUES = "values"  # a non-empty list of values of the rule's "fact"


@dataclass(frozen=True)
class Param:
    kind: ParamKind
    fact_kinds: tuple[Kind, ...] = ()
    choices: tuple[str, ...] = ()
    default: Any = None  # None: the parameter is required
    minimum: int = 0


@dataclass(frozen=True, slots=True)
class Variant:
    """A rule under one set of parameters: the base ones or a relaxation's merged ones."""

    describe: Describe
    params: Mapping[str, Any]
    relaxation: Any = None  # the AppliedRelaxation, if any
    failed: Any = False  # `passed` for a failed check: Outcome.WARN for a warn-severity rule
    upper_bound: UpperBound | None = None  # for rule types in checks.UPPER_BOUNDS

    def compared(self, raw: Any) -> dict[str, Any]:
        return self.describe(self.params, raw)


@dataclass(frozen=True)
class RuleType:
    """A rule type: its parameters, its checker factory and how it reports what it compared."""

    params: Mapping[str, Param]
    build: Callable[[Mapping[str, Any], Variant], Checker]
    describe: Describe


def fact(*kinds: Kind, default: str | None = None) -> Param:
    return Param(ParamKind.FACT, fact_kinds=kinds, default=default)


def typed_params(spec: Mapping[str, Param], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (JSON) parameters as the Python values checkers compare with."""
    return {name: _typed(param.kind, stored, stored[name]) for name, param in spec.items()}


def _typed(kind: ParamKind, stored: Mapping[str, Any], value: Any) -> Any:
    if kind is ParamKind.RATIO:
        return parse_ratio(value)
    if kind is ParamKind.DATE:
        return date.fromisoformat(value)
    if kind is ParamKind.VALUE:
        return python_value(stored["fact"], value)
    if kind is ParamKind.VALUES:
        return tuple(python_value(stored["fact"], item) for item in value)
    return value
