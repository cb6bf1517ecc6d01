"""Rule sets in words: translated names of rule types, phases and operators, and
parameters and conditions rendered for people (fact labels, yen, dates, value labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.core.calendar import format_date
from grants.core.http.labels import modality_labels, org_kind_labels, stage_labels, theme_labels
from grants.core.money import format_yen
from grants.rules.checks import RULE_TYPES
from grants.rules.facts import FACTS, Kind, fact_label
from grants.rules.params import Param, ParamKind

AND = " · "

# The settings of a rule set's "schedule" and "amendments" sections, by key.
SETTING_LABELS = {
    "due_soon_days": _l("Reminders before a due date (days)"),
    "grace_days": _l("Grace period after a due date (days)"),
    "escalation_days": _l("Escalation to the officer after (days overdue)"),
    "review_waiting_days": _l("Reviews left waiting after (days)"),
    "tranche_waiting_days": _l("Tranches left waiting after (days)"),
    "max_extension_days": _l("Longest extension by amendment (days)"),
}


def locale() -> str:
    return str(get_locale() or "ja")


def rule_type_labels() -> dict[str, str]:
    return {
        "one_of": _("One of listed values"),
        "equals": _("Equals a value"),
        "min_amount": _("Minimum amount"),
        "max_amount": _("Maximum amount"),
        "min_ratio": _("Minimum ratio"),
        "max_ratio": _("Maximum ratio"),
        "date_before": _("On or before a date"),
        "date_after": _("On or after a date"),
        "certified_on": _("VCs certified on a date"),
        "prior_milestones_approved": _("Earlier milestones approved"),
        "review_quorum": _("Review quorum"),
        "within_budget_pool": _("Within the budget pool"),
        "pro_rata_paid_in": _("Paid-in co-investment pro rata"),
    }


def rule_type_label(rule_type: str) -> str:
    return rule_type_labels().get(rule_type, rule_type)


def phase_labels() -> dict[str, str]:
    return {
        "eligibility": _("Eligibility"),
        "award": _("Award"),
        "tranche_gates": _("Tranche gates"),
    }


def severity_labels() -> dict[str, str]:
    return {"block": _("Blocks"), "warn": _("Warns only")}


def operator_labels() -> dict[str, str]:
    return {
        "eq": _("equals"),
        "in": _("is one of"),
        "not_in": _("is not one of"),
        "gte": _("is at least"),
        "lte": _("is at most"),
    }


def param_labels() -> dict[str, str]:
    return {
        "fact": _("Fact"),
        "values": _("Allowed values"),
        "value": _("Required value"),
        "amount": _("Amount"),
        "numerator": _("Amount compared"),
        "denominator": _("Compared with"),
        "ratio": _("Ratio"),
        "date": _("Date"),
        "date_fact": _("Date to check"),
        "who": _("Which VCs"),
        "min": _("Minimum"),
    }


def param_label(name: str) -> str:
    return param_labels().get(name, name)


def document_part_labels() -> dict[str, str]:
    """The keys of a rule set document, as a path to an error names them."""
    return {
        "rules": _("Rules"),
        "id": _("Identifier"),
        "phase": _("Phase"),
        "type": _("Rule type"),
        "severity": _("Severity"),
        "params": _("Parameters"),
        "applies_when": _("Applies when"),
        "relaxations": _("Relaxations"),
        "when": _("Applies when"),
        "label": _("Label"),
        "ja": _("Japanese"),
        "en": _("English"),
        "schedule": _("Milestone schedule"),
        "amendments": _("Amendments"),
        **{key: str(label) for key, label in SETTING_LABELS.items()},
    }


def choice_labels(param_name: str) -> dict[str, str]:
    if param_name == "who":
        return {"all": _("All investing VCs"), "lead": _("The lead VC")}
    return {}


def value_labels(fact: str) -> dict[str, str] | None:
    """Labels of the values a fact can take, when it has a fixed set (None otherwise)."""
    spec = FACTS.get(fact)
    if spec is None:
        return None
    if spec.kind is Kind.BOOL:
        return {"true": _("Yes"), "false": _("No")}
    if spec.choices is None:
        return None
    known = {
        "theme": theme_labels,
        "modality": modality_labels,
        "stage": stage_labels,
        "org_kind": org_kind_labels,
    }
    labels = known[fact]() if fact in known else {}
    return {choice: str(labels.get(choice, choice)) for choice in spec.choices}


def value_text(fact: str, value: Any) -> str:
    """One stored value of `fact` as people read it."""
    spec = FACTS.get(fact)
    if spec is None:
        return str(value)
    if spec.kind is Kind.BOOL:
        return _("Yes") if value else _("No")
    if spec.kind is Kind.YEN and isinstance(value, int):
        return format_yen(value, locale())
    if spec.kind is Kind.DATE:
        return _date_text(value)
    labels = value_labels(fact) or {}
    return labels.get(str(value), str(value))


def _date_text(value: Any) -> str:
    try:
        return format_date(date.fromisoformat(str(value)), locale())
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class ParamText:
    label: str
    text: str


def describe_params(rule: Mapping[str, Any], params: Mapping[str, Any]) -> list[ParamText]:
    """`params` (a rule's, or a relaxation's replacements) as label / text pairs."""
    spec = RULE_TYPES[rule["type"]].params if rule.get("type") in RULE_TYPES else {}
    fact = rule.get("params", {}).get("fact", "")
    rows = []
    for name, value in params.items():
        param = spec.get(name)
        text = str(value) if param is None else _param_text(name, param, value, fact)
        rows.append(ParamText(param_label(name), text))
    return rows


def _param_text(name: str, param: Param, value: Any, fact: str) -> str:
    kind = param.kind
    if kind is ParamKind.FACT:
        return fact_label(value, locale())
    if kind is ParamKind.AMOUNT:
        return format_yen(value, locale())
    if kind is ParamKind.DATE:
        return _date_text(value)
    if kind is ParamKind.CHOICE:
        return choice_labels(name).get(value, str(value))
    if kind is ParamKind.VALUE:
        return value_text(fact, value)
    if kind is ParamKind.VALUES:
        return ", ".join(value_text(fact, item) for item in value)
    return str(value)


def describe_condition(condition: Mapping[str, Any]) -> str:
    """A condition in words, e.g. "Development stage is one of Non-clinical, Discovery"."""
    parts = []
    operators = operator_labels()
    for fact, test in condition.items():
        tests = test.items() if isinstance(test, dict) else [("eq", test)]
        for op, operand in tests:
            values = operand if isinstance(operand, list) else [operand]
            shown = ", ".join(value_text(fact, value) for value in values)
            parts.append(f"{fact_label(fact, locale())} {operators.get(op, op)} {shown}")
    return AND.join(parts)


def rule_label(rule: Mapping[str, Any]) -> str:
    label = rule.get("label") or {}
    return label.get("ja" if locale().startswith("ja") else "en") or rule.get("id", "")


def relaxation_label(relaxation: Mapping[str, Any], index: int) -> str:
    label = relaxation.get("label") or {}
    return label.get("ja" if locale().startswith("ja") else "en") or f"#{index + 1}"


@dataclass(frozen=True)
class RelaxationView:
    label: str
    when: str
    params: list[ParamText]


@dataclass(frozen=True)
class RuleView:
    """A rule as the version page shows it."""

    id: str
    label: str
    type_label: str
    severity: str
    severity_label: str
    params: list[ParamText]
    applies_when: str
    relaxations: list[RelaxationView]


def rule_view(rule: Mapping[str, Any]) -> RuleView:
    relaxations = [
        RelaxationView(
            relaxation_label(relaxation, index),
            describe_condition(relaxation["when"]),
            describe_params(rule, relaxation["params"]),
        )
        for index, relaxation in enumerate(rule.get("relaxations") or [])
    ]
    severity = rule.get("severity", "block")
    return RuleView(
        id=rule["id"],
        label=rule_label(rule),
        type_label=rule_type_label(rule["type"]),
        severity=severity,
        severity_label=severity_labels().get(severity, severity),
        params=describe_params(rule, rule.get("params") or {}),
        applies_when=describe_condition(rule.get("applies_when") or {}),
        relaxations=relaxations,
    )


def phase_groups(document: Mapping[str, Any]) -> list[tuple[str, str, list[RuleView]]]:
    """(phase, its label, its rules in document order), for every phase."""
    return [
        (phase, label, [rule_view(r) for r in document["rules"] if r["phase"] == phase])
        for phase, label in phase_labels().items()
    ]
