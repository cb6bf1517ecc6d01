"""The rule set's `rubric` section: validated with the document, a message per field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from grants.rules import RuleSetInvalid, validate_ruleset
from grants.rules.presets import amed_rubric, milestone_programme
from grants.rules.rubric import rubric_of


def _document(rubric: Any) -> dict[str, Any]:
    return {**milestone_programme(), "rubric": rubric}


def _errors(rubric: Any) -> Any:
    with pytest.raises(RuleSetInvalid) as refused:
        validate_ruleset(_document(rubric))
    return refused.value.fields["rubric"]


def test_the_amed_rubric_is_valid_and_read_back() -> None:
    document = validate_ruleset(_document(amed_rubric()))
    rubric = rubric_of(document)
    assert rubric is not None and rubric.hearing is not None and rubric.shortlist == 10
    assert [c.weight for c in rubric.written.criteria] == [20, 25, 25, 15, 15]
    assert rubric.written.criteria[0].name.text("ja") == "事業趣旨との整合性"
    assert (rubric.written.low, rubric.written.high, rubric.written.comment_required) == (
        1,
        5,
        True,
    )


def test_a_document_without_a_rubric_has_none() -> None:
    assert "rubric" not in validate_ruleset(milestone_programme())
    assert rubric_of(validate_ruleset(milestone_programme())) is None
    assert rubric_of(validate_ruleset(_document(None))) is None


def test_defaults_fill_the_scale_total_and_guidance() -> None:
    section = {"criteria": [{"id": "only", "weight": 100, "name": {"ja": "唯一", "en": "Only"}}]}
    loaded = validate_ruleset(_document(section))["rubric"]
    assert loaded["scale"] == {"min": 1, "max": 5} and loaded["weight_total"] == 100
    assert loaded["criteria"][0]["guidance"] == {"ja": "", "en": ""}
    assert loaded["hearing"] is None


def test_weights_that_do_not_add_up_are_refused_with_their_sum() -> None:
    rubric = amed_rubric()
    rubric["criteria"][0]["weight"] = 10
    assert _errors(rubric) == {
        "weight_total": ["The weights add up to 90; they must add up to 100."]
    }


def test_weights_must_be_positive_whole_numbers() -> None:
    rubric = amed_rubric()
    rubric["criteria"][1]["weight"] = 0
    rubric["criteria"][2]["weight"] = 2.5
    errors = _errors(rubric)["criteria"]
    assert errors["1"] == {"weight": ["Must be a whole number from 1 to 10000."]}
    assert errors["2"] == {"weight": ["Must be a whole number from 1 to 10000."]}


def test_every_criterion_field_is_named_in_its_error() -> None:
    rubric = amed_rubric()
    rubric["criteria"][1]["id"] = rubric["criteria"][0]["id"]
    rubric["criteria"][3]["name"] = {"ja": " ", "en": "Team\x1b"}
    rubric["criteria"][4]["id"] = "Budget!"
    errors = _errors(rubric)
    assert errors["criteria"]["3"]["name"]["ja"] == ["Give the name."]
    assert "control character" in errors["criteria"]["3"]["name"]["en"][0]
    assert "lowercase" in errors["criteria"]["4"]["id"][0]
    duplicate = copy.deepcopy(amed_rubric())
    duplicate["criteria"][1]["id"] = duplicate["criteria"][0]["id"]
    assert _errors(duplicate)["criteria"]["1"]["id"] == ["Duplicate criterion id 'fit'."]


def test_a_scale_runs_upwards_and_a_stage_has_criteria() -> None:
    rubric = amed_rubric()
    rubric["scale"] = {"min": 5, "max": 5}
    assert _errors(rubric)["scale"] == {"max": ["The highest score must be above the lowest."]}
    assert _errors({"criteria": []})["criteria"] == ["Give at least one criterion."]


def test_the_hearing_needs_its_shortlist_and_its_own_sums() -> None:
    rubric = amed_rubric()
    del rubric["hearing"]["shortlist"]
    rubric["hearing"]["criteria"][0]["weight"] = 40
    errors = _errors(rubric)["hearing"]
    assert errors["shortlist"] == ["Missing data for required field."]
    rubric = amed_rubric()
    rubric["hearing"]["criteria"][0]["weight"] = 40
    assert _errors(rubric)["hearing"]["weight_total"] == [
        "The weights add up to 90; they must add up to 100."
    ]


def test_unknown_keys_are_refused() -> None:
    rubric = {**amed_rubric(), "colour": "blue"}
    assert _errors(rubric) == {"colour": ["Unknown field."]}
