"""Compile a RuleSet document once, then evaluate phases over `facts` mappings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grants.rules.checks import RULE_TYPES, UPPER_BOUNDS
from grants.rules.codegen import PhaseFunction, RulePlan, phase_function
from grants.rules.conditions import Facts, compile_condition
from grants.rules.params import Checker, Variant, typed_params
from grants.rules.schema import validate_ruleset
from grants.rules.trace import (
    AppliedRelaxation,
    Outcome,
    Phase,
    RuleInfo,
    Severity,
    Trace,
)

# Enum members, looked up once: reading Outcome.WARN costs an attribute lookup on the class.
_WARN, _SKIPPED, _AWARD = Outcome.WARN, Outcome.SKIPPED, Phase.AWARD


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
    run: PhaseFunction  # facts -> the phase's Trace
    source: str  # run's source, for reading (codegen.py)
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
    infos = tuple(
        RuleInfo(rule["id"], rule["type"], Severity(rule["severity"]), rule["label"])
        for rule in rules
    )
    run, source = phase_function(phase, infos, [rule_plan(rule) for rule in rules])
    return CompiledPhase(
        phase=phase,
        rules=infos,
        run=run,
        source=source,
        caps=tuple(
            index
            for index, rule in enumerate(rules)
            if rule["type"] in UPPER_BOUNDS and rule["severity"] == Severity.BLOCK
        ),
    )


def rule_plan(rule: Mapping[str, Any]) -> RulePlan:
    """A rule's variants (base and relaxed), each with its checker, and its conditions."""
    failed = _WARN if rule["severity"] == Severity.WARN else False
    base = rule["params"]
    relaxations = tuple(
        (
            compile_condition(relaxation["when"]),
            *_variant(
                rule["type"],
                {**base, **relaxation["params"]},
                failed,
                AppliedRelaxation(index, relaxation["label"]),
            ),
        )
        for index, relaxation in enumerate(rule["relaxations"])
    )
    condition = rule["applies_when"]
    return RulePlan(
        rule_type=rule["type"],
        applies=compile_condition(condition) if condition else None,
        base=_variant(rule["type"], base, failed, None),
        relaxations=relaxations,
    )


def _variant(
    rule_type: str, stored: Mapping[str, Any], failed: Any, relaxation: AppliedRelaxation | None
) -> tuple[Variant, Checker]:
    kind = RULE_TYPES[rule_type]
    params = typed_params(kind.params, stored)
    bound = UPPER_BOUNDS.get(rule_type)
    upper_bound = None if bound is None else bound(params)
    variant = Variant(kind.describe, params, relaxation, failed, upper_bound)
    return variant, kind.build(params, variant)


def evaluate(ruleset: CompiledRuleSet, phase: Phase | str, facts: Facts) -> Trace:
    """One row per rule of `phase`, in document order."""
    compiled = ruleset.phases.get(phase)
    if compiled is None:
        raise _unknown_phase(phase)
    return compiled.run(facts)


def award_amount(ruleset: CompiledRuleSet, facts: Facts) -> tuple[int, Trace]:
    """The subsidy: the request, capped by every applicable block-severity upper bound on it.

    A bound is a max_amount or max_ratio rule on `requested_subsidy` (with its relaxation);
    warn-severity bounds only warn. If a bound lacks a fact, the amount is 0: it cannot be
    computed safely.
    """
    compiled = ruleset.phases[_AWARD]
    trace = compiled.run(facts)
    results = trace._results  # noqa: SLF001  (the raw results, before any row is built)
    amount = facts.get("requested_subsidy")
    if amount is None:
        return 0, trace
    for index in compiled.caps:
        passed, raw, variant = results[index]
        if passed is None:
            return 0, trace
        if passed is not _SKIPPED:
            bounded, limit = variant.upper_bound(raw)
            if limit < amount and bounded == "requested_subsidy":
                amount = limit
    return (amount if amount > 0 else 0), trace


def _unknown_phase(phase: object) -> ValueError:
    return ValueError(f"Unknown phase {phase!r}; use one of: {', '.join(Phase)}.")
