"""Conditions (`applies_when`, relaxation `when`): fact -> test, all ANDed.

A test is a plain value (equality) or a mapping of operators (ANDed): {"in": [...]},
{"not_in": [...]}, {"gte": x}, {"lte": x}. A missing fact never matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from grants.core.problems import N_, shown
from grants.rules.facts import FACTS, KIND_NAMES, Kind, normalise_value, python_value

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]
ValueTest = Callable[[Any], bool]

OPERATORS = ("in", "not_in", "gte", "lte")
_ORDERED = (Kind.YEN, Kind.COUNT, Kind.DATE)


def normalise_test(fact: str, test: Any) -> Any:
    """The stored form of one condition test; raises ValueError naming the problem."""
    spec = FACTS.get(fact)
    if spec is None:
        raise ValueError(N_("Unknown fact '%(fact)s'.", fact=shown(fact)))
    if spec.kind is Kind.VCS:
        raise ValueError(N_("Fact '%(fact)s' cannot be used in a condition.", fact=fact))
    if not isinstance(test, dict):
        return normalise_value(fact, test)
    if not test:
        raise ValueError(
            N_("Empty test; use a value or one of: %(operators)s.", operators=", ".join(OPERATORS))
        )
    return {op: _normalise_operand(fact, spec.kind, op, operand) for op, operand in test.items()}


def _normalise_operand(fact: str, kind: Kind, op: str, operand: Any) -> Any:
    if op in ("in", "not_in"):
        if not isinstance(operand, list) or not operand:
            raise ValueError(N_("'%(op)s' needs a non-empty list of values.", op=op))
        return [normalise_value(fact, value) for value in operand]
    if op in ("gte", "lte"):
        if kind not in _ORDERED:
            raise ValueError(
                N_(
                    "'%(op)s' needs an amount, count or date; '%(fact)s' is %(kind)s fact.",
                    op=op,
                    fact=fact,
                    kind=KIND_NAMES[kind],
                )
            )
        return normalise_value(fact, operand)
    raise ValueError(
        N_(
            "Unknown test '%(op)s'; use a value or one of: %(operators)s.",
            op=shown(op),
            operators=", ".join(OPERATORS),
        )
    )


def compile_condition(condition: Mapping[str, Any]) -> Predicate:
    """A predicate over facts for a normalised condition (an empty one always matches)."""
    if len(condition) == 1:
        [(fact, test)] = condition.items()
        if _is_membership(test):
            # A missing fact (None) is never among the values, so no separate check is needed.
            values = _compile_values(fact, test)
            return lambda facts: facts.get(fact) in values
    tests = [(fact, _compile_test(fact, test)) for fact, test in condition.items()]

    def matches(facts: Facts) -> bool:
        for fact, test in tests:
            value = facts.get(fact)
            if value is None or not test(value):
                return False
        return True

    return matches


def _is_membership(test: Any) -> bool:
    return not isinstance(test, dict) or list(test) == ["in"]


def _compile_values(fact: str, test: Any) -> frozenset[Any]:
    """The set of values an equality or `in` test accepts."""
    items = test["in"] if isinstance(test, dict) else [test]
    return frozenset(python_value(fact, item) for item in items)


def _compile_test(fact: str, test: Any) -> ValueTest:
    if not isinstance(test, dict):
        return partial(operator.eq, python_value(fact, test))
    checks = [_compile_operator(fact, op, operand) for op, operand in test.items()]
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _compile_operator(fact: str, op: str, operand: Any) -> ValueTest:
    if op in ("in", "not_in"):
        values = frozenset(python_value(fact, item) for item in operand)
        return values.__contains__ if op == "in" else lambda value: value not in values
    bound = python_value(fact, operand)
    # partial(le, bound)(value) is `bound <= value`, i.e. value >= bound.
    return partial(operator.le if op == "gte" else operator.ge, bound)
