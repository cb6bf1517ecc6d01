"""The RuleSet schema: errors name the field path; presets validate; output is normalised."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from grants.core.errors import RuleViolation
from grants.core.money import YEN_MAX
from grants.core.problems import Problem
from grants.rules import (
    FACTS,
    RuleSetInvalid,
    amed_certified_vc,
    compile_ruleset,
    milestone_programme,
    validate_ruleset,
)
from grants.rules.facts import APPLICATION_FACTS, COUNT_MAX, TRANCHE_FACTS
from grants.rules.schema import DAYS_MAX
from grants.rules.settlement import default_section


def _errors(document: Any) -> Any:
    with pytest.raises(RuleSetInvalid) as caught:
        validate_ruleset(document)
    return caught.value.fields


def _with_rule(index: int, **changes: Any) -> dict[str, Any]:
    document = amed_certified_vc()
    document["rules"][index].update(changes)
    return document


def _with_params(index: int, **params: Any) -> dict[str, Any]:
    document = amed_certified_vc()
    document["rules"][index]["params"].update(params)
    return document


@pytest.mark.parametrize("preset", [amed_certified_vc, milestone_programme])
def test_presets_validate_and_compile(preset: Any) -> None:
    document = preset()
    assert validate_ruleset(document) == document  # presets are already normalised
    compile_ruleset(document)
    assert all(rule["label"]["ja"] and rule["label"]["en"] for rule in document["rules"])


def test_presets_are_fresh_copies() -> None:
    first = amed_certified_vc()
    first["rules"][0]["params"]["values"].append("pivotal")
    assert "pivotal" not in amed_certified_vc()["rules"][0]["params"]["values"]


def test_amed_preset_has_the_programme_figures() -> None:
    compiled = compile_ruleset(amed_certified_vc())
    rules = {rule["id"]: rule for rule in compiled.document["rules"]}
    assert rules["lead_vc_min"]["params"]["amount"] == 1_000_000_000
    assert rules["lead_vc_min"]["relaxations"][0]["params"] == {"amount": 100_000_000}
    assert rules["vc_share_min"]["params"]["ratio"] == "1/3"
    assert rules["subsidy_rate_max"]["params"]["ratio"] == "2/3"
    assert rules["project_size"]["severity"] == "warn"
    assert compiled.document["schedule"] == {}  # every offset from the configuration
    assert compiled.max_extension_days == 180


def test_schedule_keys_are_optional_overrides() -> None:
    document = milestone_programme()
    del document["schedule"]
    assert validate_ruleset(document)["schedule"] == {}
    explicit = {"due_soon_days": [45], "grace_days": 0, "tranche_waiting_days": 3}
    document["schedule"] = explicit
    assert validate_ruleset(document)["schedule"] == explicit
    assert compile_ruleset(document).document["schedule"] == explicit


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("due_soon_days", None),
        ("due_soon_days", 30),
        ("escalation_days", ["14"]),
        ("grace_days", None),
        ("review_waiting_days", 1.5),
        ("tranche_waiting_days", True),
    ],
)
def test_a_schedule_override_is_still_validated(key: str, value: Any) -> None:
    document = milestone_programme()
    document["schedule"] = {key: value}
    assert set(_errors(document)["schedule"]) == {key}


def test_defaults_are_filled_in() -> None:
    rule = {"id": "r", "phase": "award", "type": "within_budget_pool"}
    normalised = validate_ruleset({"rules": [rule]})
    assert normalised == {
        "rules": [
            {
                **rule,
                "severity": "block",
                "params": {},
                "applies_when": {},
                "relaxations": [],
                "label": None,
            }
        ],
        "schedule": {},
        "amendments": {"max_extension_days": 180},
        "settlement": default_section(),
    }


def test_certified_on_defaults_to_all_vcs_on_the_release_date() -> None:
    rule = {"id": "r", "phase": "tranche_gates", "type": "certified_on"}
    [normalised] = validate_ruleset({"rules": [rule]})["rules"]
    assert normalised["params"] == {"date_fact": "release_date", "who": "all"}


def test_dates_are_normalised_to_iso_text() -> None:
    document = _with_params(6, date=date(2031, 9, 30))
    document["rules"][6]["applies_when"] = {"submitted_on": {"gte": date(2026, 4, 1)}}
    normalised = validate_ruleset(document)
    assert normalised["rules"][6]["params"]["date"] == "2031-09-30"
    assert normalised["rules"][6]["applies_when"] == {"submitted_on": {"gte": "2026-04-01"}}
    json.dumps(normalised)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (_with_rule(2, type="foo"), {"rules": {"2": {"type": ["Unknown rule type 'foo'."]}}}),
        (_with_rule(0, phase="payment"), {"rules": {"0": {"phase": ["Unknown phase 'payment'."]}}}),
        (
            _with_rule(0, severity="fatal"),
            {"rules": {"0": {"severity": ["Unknown severity 'fatal'."]}}},
        ),
        (
            _with_params(3, ratio="1/0"),
            {"rules": {"3": {"params": {"ratio": ["Ratio '1/0' divides by zero."]}}}},
        ),
        (
            _with_rule(5, id="stage_eligible"),
            {"rules": {"5": {"id": ["Duplicate rule id 'stage_eligible'."]}}},
        ),
        (
            _with_params(6, date="2031-09-31"),
            {
                "rules": {
                    "6": {"params": {"date": ["'2031-09-31' is not a date (use YYYY-MM-DD)."]}}
                }
            },
        ),
        (
            _with_rule(4, params={"fact": "lead_vc_committed"}),
            {"rules": {"4": {"params": {"amount": ["Missing data for required field."]}}}},
        ),
        (
            _with_params(4, fact="stage"),
            {
                "rules": {
                    "4": {
                        "params": {
                            "fact": [
                                "Fact 'stage' is a text fact; this rule needs a yen amount fact."
                            ]
                        }
                    }
                }
            },
        ),
        (_with_params(4, minimum=5), {"rules": {"4": {"params": {"minimum": ["Unknown field."]}}}}),
        (
            _with_rule(4, applies_when={"colour": "red"}),
            {"rules": {"4": {"applies_when": {"colour": ["Unknown fact 'colour'."]}}}},
        ),
    ],
)
def test_errors_name_the_field(document: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _errors(document) == expected


@pytest.mark.parametrize("amount", [1.5, 100.0, True, False, -1, "100", None])
def test_amounts_are_non_negative_integers(amount: Any) -> None:
    errors = _errors(_with_params(4, amount=amount))
    assert list(errors["rules"]["4"]["params"]) == ["amount"]


@pytest.mark.parametrize("ratio", ["abc", "", "-1/3", 0.5, None])
def test_ratios_must_parse(ratio: Any) -> None:
    errors = _errors(_with_params(3, ratio=ratio))
    assert list(errors["rules"]["3"]["params"]) == ["ratio"]


def test_relaxation_errors_name_the_relaxation() -> None:
    document = amed_certified_vc()
    document["rules"][4]["relaxations"].append(
        {"when": {"phase": "phase1", "stage": "phase9"}, "params": {"amount": -1}}
    )
    assert _errors(document) == {
        "rules": {
            "4": {
                "relaxations": {
                    "1": {
                        "when": {
                            "phase": ["Unknown fact 'phase'."],
                            "stage": [
                                "'phase9' is not a stage; use one of: discovery, non_clinical, "
                                "phase1, phase2, exploratory, pivotal."
                            ],
                        },
                        "params": {"amount": ["Must be a whole number of yen, 0 or more."]},
                    }
                }
            }
        }
    }


@pytest.mark.parametrize(
    ("condition", "fact", "message"),
    [
        ({"stage": {"between": [1, 2]}}, "stage", "Unknown test 'between'"),
        ({"stage": {"gte": "phase1"}}, "stage", "'gte' needs an amount, count or date"),
        ({"stage": {"in": []}}, "stage", "'in' needs a non-empty list"),
        ({"stage": {}}, "stage", "Empty test"),
        ({"listed": "no"}, "listed", "not a true/false value"),
        ({"eligible_cost": {"gte": 1.5}}, "eligible_cost", "not a yen amount value"),
        ({"investing_vcs": []}, "investing_vcs", "cannot be used in a condition"),
        ({"submitted_on": {"lte": "soon"}}, "submitted_on", "not a date"),
    ],
)
def test_condition_errors(condition: dict[str, Any], fact: str, message: str) -> None:
    errors = _errors(_with_rule(4, applies_when=condition))
    [text] = errors["rules"]["4"]["applies_when"][fact]
    assert message in text


def test_values_must_fit_the_fact() -> None:
    errors = _errors(_with_params(0, values=["phase1", "phase7"]))
    assert list(errors["rules"]["0"]["params"]["values"]) == ["1"]
    errors = _errors(_with_params(1, value="no"))
    assert list(errors["rules"]["1"]["params"]) == ["value"]


def test_schedule_and_top_level_errors() -> None:
    document = amed_certified_vc()
    document["schedule"]["grace_days"] = -1
    document["schedule"]["due_soon_days"] = [30, 7.5]
    document["extra"] = True
    errors = _errors(document)
    assert set(errors) == {"schedule", "extra"}
    assert set(errors["schedule"]) == {"grace_days", "due_soon_days"}
    assert _errors({}) == {"rules": ["Missing data for required field."]}
    assert _errors([]) == {"_schema": ["Expected an object."]}


def test_invalid_rule_sets_are_rule_violations() -> None:
    with pytest.raises(RuleViolation):
        compile_ruleset(_with_rule(2, type="foo"))


def test_validation_does_not_modify_its_input() -> None:
    document = amed_certified_vc()
    del document["schedule"]
    before = copy.deepcopy(document)
    validate_ruleset(document)
    assert document == before


def test_fact_vocabulary() -> None:
    assert set(FACTS) == set(APPLICATION_FACTS) | set(TRANCHE_FACTS)
    assert not set(APPLICATION_FACTS) & set(TRANCHE_FACTS)
    assert all(spec.ja and spec.en for spec in FACTS.values())


# ---- bounds, full width and translatable messages --------------------------------------------


@pytest.mark.parametrize("key", ["grace_days", "review_waiting_days", "tranche_waiting_days"])
@pytest.mark.parametrize("days", [DAYS_MAX + 1, 2**63, 99999999999999999999999, -1, 1.0, "7"])
def test_schedule_counts_are_bounded(key: str, days: Any) -> None:
    document = amed_certified_vc()
    document["schedule"][key] = days
    assert _errors(document) == {
        "schedule": {key: [f"Must be a whole number from 0 to {DAYS_MAX}."]}
    }


@pytest.mark.parametrize("key", ["due_soon_days", "escalation_days"])
def test_schedule_day_lists_are_bounded_and_distinct(key: str) -> None:
    document = amed_certified_vc()
    document["schedule"][key] = [30, DAYS_MAX + 1]
    assert _errors(document) == {
        "schedule": {key: {"1": [f"Must be a whole number from 0 to {DAYS_MAX}."]}}
    }
    document["schedule"][key] = [30, 7, 7]
    assert _errors(document) == {"schedule": {key: ["Give each number of days once."]}}


def test_the_longest_schedule_is_accepted() -> None:
    document = amed_certified_vc()
    document["schedule"] = {"grace_days": DAYS_MAX, "due_soon_days": [DAYS_MAX, 0]}
    document["amendments"] = {"max_extension_days": DAYS_MAX}
    assert validate_ruleset(document)["schedule"]["grace_days"] == DAYS_MAX


def test_amendment_extensions_are_bounded() -> None:
    document = amed_certified_vc()
    document["amendments"] = {"max_extension_days": DAYS_MAX + 1}
    assert list(_errors(document)["amendments"]) == ["max_extension_days"]


def test_amounts_and_counts_in_rules_are_bounded() -> None:
    too_much = _with_params(4, amount=YEN_MAX + 1)
    assert _errors(too_much) == {
        "rules": {"4": {"params": {"amount": ["This amount is too large."]}}}
    }
    assert (
        validate_ruleset(_with_params(4, amount=YEN_MAX))["rules"][4]["params"]["amount"] == YEN_MAX
    )
    quorum = _with_params(10, min=COUNT_MAX + 1)
    assert _errors(quorum) == {
        "rules": {"10": {"params": {"min": [f"Must be a whole number from 1 to {COUNT_MAX}."]}}}
    }


@pytest.mark.parametrize(
    ("condition", "fact"),
    [
        ({"eligible_cost": {"gte": 10**24}}, "eligible_cost"),
        ({"vc_count": {"lte": COUNT_MAX + 1}}, "vc_count"),
        ({"milestone_count": 10**5000}, "milestone_count"),
    ],
)
def test_condition_values_are_bounded(condition: dict[str, Any], fact: str) -> None:
    [message] = _errors(_with_rule(4, applies_when=condition))["rules"]["4"]["applies_when"][fact]
    assert f"is too large for '{fact}'" in message and len(message) < 100


def test_ratios_are_kept_in_plain_characters() -> None:
    normalised = validate_ruleset(_with_params(3, ratio=" ２５％ "))
    assert normalised["rules"][3]["params"]["ratio"] == "25%"
    assert list(_errors(_with_params(3, ratio="1e3"))["rules"]["3"]["params"]) == ["ratio"]


@pytest.mark.parametrize("label", ["a\x00b", "\x1b[31m", "line\nbreak", ""])
def test_labels_are_storable_single_lines(label: str) -> None:
    document = _with_rule(4, label={"ja": label, "en": "Lead VC"})
    assert list(_errors(document)["rules"]["4"]["label"]) == ["ja"]


def _leaves(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [leaf for value in messages.values() for leaf in _leaves(value)]
    if isinstance(messages, list):
        return [leaf for value in messages for leaf in _leaves(value)]
    return [messages]


@pytest.mark.parametrize(
    "document",
    [
        [1, 2],
        {},
        {"rules": "none", "schedule": [], "amendments": 3, "extra": 1},
        {"rules": [1, {"id": None, "phase": 3, "type": "nope", "label": "x"}]},
        {"rules": [{"id": "r", "phase": "eligibility", "type": "min_ratio", "params": []}]},
        _with_rule(0, params={"fact": "stage", "values": []}, relaxations={"a": 1}),
        _with_rule(7, params={"who": "some", "date_fact": "listed"}),
        _with_rule(4, applies_when={"stage": {"between": 1}, "listed": "no", "nope": 1}),
        _with_rule(4, relaxations=[{"when": 1, "params": 2, "label": {"ja": None}}]),
        _with_rule(5, id="stage_eligible"),
    ],
)
def test_every_message_is_translatable(document: Any) -> None:
    leaves = _leaves(_errors(document))
    assert leaves and all(isinstance(leaf, Problem) for leaf in leaves), leaves
    with pytest.raises(RuleSetInvalid) as caught:
        validate_ruleset(document)
    assert isinstance(caught.value.message, Problem)
