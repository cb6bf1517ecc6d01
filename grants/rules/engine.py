"""Compile a RuleSet document once, then evaluate phases over `facts` mappings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grants.rules.checks import RULE_TYPES, UPPER_BOUNDS
from grants.rules.conditions import Facts, Predicate, compile_condition
from grants.rules.params import Checker, Result, Variant, typed_params
from grants.rules.schema import validate_ruleset
from grants.rules.trace import (
    AppliedRelaxation,
    Outcome,
    Phase,
    RuleInfo,
    Severity,
    Trace,
    trace_from_results,
)

# Enum members, looked up once: reading Outcome.WARN costs an attribute lookup on the class.
_WARN, _SKIPPED, _AWARD = Outcome.WARN, Outcome.SKIPPED, Phase.AWARD
_SKIP: Result = (_SKIPPED, None, None)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A rule set's alert offsets, completed with the configured defaults (alerts.rules)."""

    due_soon_days: tuple[int, ...]
    grace_days: int
    escalation_days: tuple[int, ...]
    review_waiting_days: int
    tranche_waiting_days: int


def default_schedule(settings: Mapping[str, Any]) -> Schedule:
    """The schedule of a rule set whose document has no (or a partial) schedule section:
    the installation's ALERT_* settings."""
    return Schedule(
        due_soon_days=tuple(settings["ALERT_DUE_SOON_DAYS"]),
        grace_days=int(settings["ALERT_GRACE_DAYS"]),
        escalation_days=tuple(settings["ALERT_ESCALATION_DAYS"]),
        review_waiting_days=int(settings["ALERT_REVIEW_WAITING_DAYS"]),
        tranche_waiting_days=int(settings["ALERT_TRANCHE_WAITING_DAYS"]),
    )


@dataclass(frozen=True, slots=True)
class CompiledPhase:
    phase: Phase
    rules: tuple[RuleInfo, ...]
    runners: tuple[Checker, ...]
    caps: tuple[int, ...]  # indices of the block-severity upper-bound rules


@dataclass(frozen=True)
class CompiledRuleSet:
    document: dict[str, Any]  # the normalised document
    phases: Mapping[str, CompiledPhase]
    max_extension_days: int


def compile_ruleset(document: Mapping[str, Any]) -> CompiledRuleSet:
    """Validate (raising RuleSetInvalid) and compile a RuleSet document."""
    normalised = validate_ruleset(document)
    return CompiledRuleSet(
        document=normalised,
        phases={phase: _compile_phase(phase, normalised["rules"]) for phase in Phase},
        max_extension_days=normalised["amendments"]["max_extension_days"],
    )


def _compile_phase(phase: Phase, documents: list[dict[str, Any]]) -> CompiledPhase:
    rules = [rule for rule in documents if rule["phase"] == phase]
    return CompiledPhase(
        phase=phase,
        rules=tuple(
            RuleInfo(rule["id"], rule["type"], Severity(rule["severity"]), rule["label"])
            for rule in rules
        ),
        runners=tuple(_runner(rule) for rule in rules),
        caps=tuple(
            index
            for index, rule in enumerate(rules)
            if rule["type"] in UPPER_BOUNDS and rule["severity"] == Severity.BLOCK
        ),
    )


def _runner(rule: Mapping[str, Any]) -> Checker:
    """One closure per rule: its checker, wrapped only for relaxations and conditions."""
    failed = _WARN if rule["severity"] == Severity.WARN else False
    base = rule["params"]
    run = _checker(rule["type"], base, failed, None)
    relaxations = tuple(
        (
            compile_condition(relaxation["when"]),
            _checker(
                rule["type"],
                {**base, **relaxation["params"]},
                failed,
                AppliedRelaxation(index, relaxation["label"]),
            ),
        )
        for index, relaxation in enumerate(rule["relaxations"])
    )
    if relaxations:
        run = _relaxed(run, relaxations)
    condition = rule["applies_when"]
    return _gated(compile_condition(condition), run) if condition else run


def _checker(
    rule_type: str, stored: Mapping[str, Any], failed: Any, relaxation: AppliedRelaxation | None
) -> Checker:
    kind = RULE_TYPES[rule_type]
    params = typed_params(kind.params, stored)
    bound = UPPER_BOUNDS.get(rule_type)
    upper_bound = None if bound is None else bound(params)
    return kind.build(params, Variant(kind.describe, params, relaxation, failed, upper_bound))


def _relaxed(check: Checker, relaxations: tuple[tuple[Predicate, Checker], ...]) -> Checker:
    """`check`, or the checker of the first relaxation whose condition matches."""

    def run(facts: Facts) -> Result:
        for matches, relaxed in relaxations:
            if matches(facts):
                return relaxed(facts)
        return check(facts)

    return run


def _gated(applies: Predicate, run: Checker) -> Checker:
    """`run` where the rule applies; a skipped result elsewhere."""

    def gated(facts: Facts) -> Result:
        return run(facts) if applies(facts) else _SKIP

    return gated


def evaluate(ruleset: CompiledRuleSet, phase: Phase | str, facts: Facts) -> Trace:
    """One row per rule of `phase`, in document order."""
    compiled = ruleset.phases.get(phase)
    if compiled is None:
        raise _unknown_phase(phase)
    results = [run(facts) for run in compiled.runners]
    return trace_from_results(compiled.phase, compiled.rules, results)


def award_amount(ruleset: CompiledRuleSet, facts: Facts) -> tuple[int, Trace]:
    """The subsidy: the request, capped by every applicable block-severity upper bound on it.

    A bound is a max_amount or max_ratio rule on `requested_subsidy` (with its relaxation);
    warn-severity bounds only warn. If a bound lacks a fact, the amount is 0: it cannot be
    computed safely.
    """
    compiled = ruleset.phases[_AWARD]
    results = [run(facts) for run in compiled.runners]
    trace = trace_from_results(_AWARD, compiled.rules, results)
    amount = facts.get("requested_subsidy")
    if amount is None:
        return 0, trace
    for index in compiled.caps:
        passed, raw, variant = results[index]
        if passed is None:
            return 0, trace
        if passed is not _SKIPPED:
            bounded, limit = variant.upper_bound(raw)
            if bounded == "requested_subsidy" and limit < amount:
                amount = limit
    return max(amount, 0), trace


def _unknown_phase(phase: object) -> ValueError:
    return ValueError(f"Unknown phase {phase!r}; use one of: {', '.join(Phase)}.")
