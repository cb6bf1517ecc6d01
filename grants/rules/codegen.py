"""A compiled phase as one generated Python function.

Why: a phase used to run one closure per rule (and one more per condition and relaxation),
and those calls cost several times the comparisons they made. The function written here
reads each fact once and compares inline, for the rule types that compare facts with
constants; the others (certified_on, review_quorum) call their checker. Its Trace holds
the same raw results, in document order, as the checkers would return (see
params.Result): a test compares the two on random facts.

Only generated names appear in the source (r0, N0_1, V2_0 ...): fact names, parameters and
variants are values in the function's namespace, never text pasted into code. They are
the arguments of a function that makes it, so that it reads them from its closure (a
global is a dictionary lookup, and a phase reads dozens per application).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from grants.rules.checks import absent
from grants.rules.conditions import Facts, Predicate
from grants.rules.params import Checker, Result, Variant
from grants.rules.trace import Outcome, Phase, RuleInfo, Trace

PhaseFunction = Callable[[Facts], Trace]

_SKIP: Result = (Outcome.SKIPPED, None, None)

# Rule types that test one fact against a constant: the test, with `a` the fact's value and
# `x` the constant, and the constant from the rule's typed parameters.
_ONE_FACT: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {
    "one_of": ("a in {x}", lambda p: frozenset(p["values"])),
    "equals": ("{x} == a", lambda p: p["value"]),
    "min_amount": ("{x} <= a", lambda p: p["amount"]),
    "max_amount": ("{x} >= a", lambda p: p["amount"]),
    "date_before": ("{x} >= a", lambda p: p["date"]),
    "date_after": ("{x} <= a", lambda p: p["date"]),
}
_WHOLE = Fraction(1)
# Rule types that compare two facts, the second times a ratio: the operator, and (first
# fact, second fact, ratio) from the typed parameters. Exact for integers: first x
# denominator is compared with second x numerator.
_TWO_FACTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[str, str, Fraction]]]] = {
    "min_ratio": (">=", lambda p: (p["numerator"], p["denominator"], p["ratio"])),
    "max_ratio": ("<=", lambda p: (p["numerator"], p["denominator"], p["ratio"])),
    "prior_milestones_approved": (
        ">=",
        lambda p: ("prior_milestones_approved", "prior_milestones_total", _WHOLE),
    ),
    "within_budget_pool": ("<=", lambda p: ("tranche_amount", "pool_available", _WHOLE)),
    "pro_rata_paid_in": (">=", lambda p: ("paid_in_total", "cumulative_subsidy", p["ratio"])),
}


@dataclass(frozen=True)
class RulePlan:
    """A rule as the generated function runs it: where it applies, its base variant and
    checker, and its relaxations (the first whose condition matches replaces the base)."""

    rule_type: str
    applies: Predicate | None
    base: tuple[Variant, Checker]
    relaxations: tuple[tuple[Predicate, Variant, Checker], ...]


def phase_function(
    phase: Phase, rules: tuple[RuleInfo, ...], plans: list[RulePlan]
) -> tuple[PhaseFunction, str]:
    """The function evaluating `plans` over facts into a Trace, and its source. The Trace
    is built here, with whether it blocks, rather than by a call to trace_from_results:
    at thousands of applications a second, the calls are what costs."""
    namespace: dict[str, Any] = {"SKIP": _SKIP, "absent": absent, "new": object.__new__}
    namespace |= {"Trace": Trace, "PHASE": phase, "RULES": rules}
    body: list[str] = []
    for index, plan in enumerate(plans):
        body += _rule_lines(index, plan, namespace)
    results = ", ".join(f"r{index}" for index in range(len(plans)))
    passed = " and ".join([f"r{index}[0]" for index in range(len(plans))] + ["True"])
    lines = (
        ["def evaluate_phase(facts):", "    get = facts.get"]
        + _indented(body)
        + [
            "    trace = new(Trace)",
            "    trace.phase, trace._rules, trace._rows = PHASE, RULES, None",
            f"    trace._results = [{results}]",
            f"    trace._ok = bool({passed})",
            "    return trace",
        ]
    )
    source = "\n".join(
        [f"def make({', '.join(namespace)}):", *_indented(lines), "    return evaluate_phase"]
    )
    scope: dict[str, Any] = {}
    exec(compile(source, "<rule set phase>", "exec"), scope)  # noqa: S102 (see docstring)
    return scope["make"](**namespace), source


def _rule_lines(index: int, plan: RulePlan, namespace: dict[str, Any]) -> list[str]:
    lines = _variant_lines(index, 0, plan.rule_type, *plan.base, namespace)
    if plan.relaxations:
        branches: list[str] = []
        for number, (matches, variant, checker) in enumerate(plan.relaxations, start=1):
            name = f"P{index}_{number}"
            namespace[name] = matches
            branches.append(f"{'if' if number == 1 else 'elif'} {name}(facts):")
            branches += _indented(
                _variant_lines(index, number, plan.rule_type, variant, checker, namespace)
            )
        lines = [*branches, "else:", *_indented(lines)]
    if plan.applies is not None:
        namespace[f"G{index}"] = plan.applies
        lines = [f"if not G{index}(facts):", f"    r{index} = SKIP", "else:", *_indented(lines)]
    return lines


def _variant_lines(
    index: int,
    number: int,
    rule_type: str,
    variant: Variant,
    checker: Checker,
    namespace: dict[str, Any],
) -> list[str]:
    """Statements assigning r<index> under one variant of the rule."""
    key = f"{index}_{number}"
    namespace[f"V{key}"] = variant
    namespace[f"F{key}"] = variant.failed
    if rule_type in _ONE_FACT:
        test, constant = _ONE_FACT[rule_type]
        namespace[f"N{key}"] = variant.params["fact"]
        namespace[f"M{key}"] = (variant.params["fact"],)
        namespace[f"X{key}"] = constant(variant.params)
        passed = _passed(test.format(x=f"X{key}"), variant, key)
        return [
            f"a = get(N{key})",
            f"r{index} = (None, M{key}, V{key}) if a is None else ({passed}, a, V{key})",
        ]
    if rule_type in _TWO_FACTS:
        operator, facts = _TWO_FACTS[rule_type]
        first, second, ratio = facts(variant.params)
        namespace |= {f"A{key}": first, f"B{key}": second}
        namespace |= {f"T{key}": ratio.numerator, f"D{key}": ratio.denominator}
        return [
            f"a = get(A{key})",
            f"b = get(B{key})",
            "if a is None or b is None:",
            f"    r{index} = absent(V{key}, facts, A{key}, B{key})",
            "else:",
            f"    r{index} = ({_passed(f'a * D{key} {operator} b * T{key}', variant, key)}, "
            f"(a, b), V{key})",
        ]
    namespace[f"C{key}"] = checker
    return [f"r{index} = C{key}(facts)"]


def _passed(test: str, variant: Variant, key: str) -> str:
    """`passed` of a comparison (a bool): the comparison itself, or for a warn rule the
    warning when it fails."""
    return f"({test}) or F{key}" if variant.failed is not False else test


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]
