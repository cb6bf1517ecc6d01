"""Trace messages show a text fact's values by their labels, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grants.core.vocabulary import VALUE_LABELS, value_label
from grants.rules import FACTS, CompiledRuleSet, Kind, TraceRow, evaluate

EvaluateOne = Callable[..., TraceRow]
STAGES = {"fact": "stage", "values": ["non_clinical", "phase1", "phase2", "exploratory"]}
CODES = ("non_clinical", "phase1", "phase2", "exploratory", "discovery")


def test_the_japanese_stage_message_shows_labels_not_codes(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("one_of", STAGES, {"stage": "phase1"})
    assert row.message["ja"] == (
        "開発段階: 第I相試験(対象: 非臨床、第I相試験、第II相試験、探索的臨床試験)"
    )
    assert not any(code in row.message["ja"] for code in CODES)


def test_the_english_stage_message_shows_labels_not_codes(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("one_of", STAGES, {"stage": "discovery"})
    assert row.message["en"] == (
        "Development stage: Discovery"
        " (allowed: Non-clinical, Phase 1, Phase 2, Exploratory clinical trial)"
    )


def test_the_amed_stage_rule_names_the_stages(
    amed: CompiledRuleSet, amed_application: dict[str, Any]
) -> None:
    amed_application["stage"] = "discovery"
    trace = evaluate(amed, "eligibility", amed_application)
    [row] = [r for r in trace.rows if r.rule_type == "one_of" and r.compared["fact"] == "stage"]
    assert row.outcome == "fail"
    assert row.message["ja"].startswith("開発段階: 探索研究(対象: 非臨床、第I相試験")
    assert not any(code in row.message["ja"] for code in CODES)


def test_an_equals_message_shows_labels(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("equals", {"fact": "modality", "value": "drug"}, {"modality": "samd"})
    assert row.message == {
        "ja": "モダリティ: プログラム医療機器（SaMD）(要件: 医薬品)",
        "en": "Modality: Software as a medical device (SaMD) (required: Drugs)",
    }


@pytest.mark.parametrize(
    ("params", "facts", "ja", "en"),
    [
        (
            {"fact": "vc_count", "values": [2, 3]},
            {"vc_count": 1},
            "(対象: 2、3)",
            "(allowed: 2, 3)",
        ),
        (
            {"fact": "listed", "values": [False]},
            {"listed": True},
            "(対象: いいえ)",
            "(allowed: no)",
        ),
        (
            {"fact": "requested_subsidy", "values": [1_000_000]},
            {"requested_subsidy": 1},
            "(対象: 100万円)",
            "(allowed: ¥1,000,000)",
        ),
    ],
)
def test_allowed_values_of_other_kinds_are_shown_as_their_kind(
    evaluate_one: EvaluateOne, params: dict[str, Any], facts: dict[str, Any], ja: str, en: str
) -> None:
    row = evaluate_one("one_of", params, facts)
    assert row.message["ja"].endswith(ja) and row.message["en"].endswith(en)


def test_a_value_without_a_label_is_shown_as_it_is() -> None:
    assert value_label("theme", "unheard_of", "ja") == "unheard_of"
    assert value_label("theme", 5, "en") == "5"
    assert value_label("eligible_cost", "x", "ja") == "x"


def test_every_choice_of_a_text_fact_has_a_label() -> None:
    with_choices = {
        name: set(spec.choices)
        for name, spec in FACTS.items()
        if spec.kind is Kind.TEXT and spec.choices
    }
    assert {name: set(labels) for name, labels in VALUE_LABELS.items()} == with_choices
