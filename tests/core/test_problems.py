"""Problems: the domain's messages keep their msgid and parameters for the edges to translate;
and what text can be stored."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from marshmallow import validate

from grants.core.problems import N_, Problem, problem_of, shown
from grants.core.text import control_problem, figure, without_controls


def test_a_problem_reads_as_its_english_text() -> None:
    problem = N_("Ratio '%(text)s' divides by zero.", text="1/0")
    assert problem == "Ratio '1/0' divides by zero."
    assert (problem.template, problem.params) == (
        "Ratio '%(text)s' divides by zero.",
        {"text": "1/0"},
    )
    assert json.dumps({"x": [problem]}) == '{"x": ["Ratio \'1/0\' divides by zero."]}'


def test_a_problem_without_parameters_is_its_template() -> None:
    problem = N_("A ratio is required (for example '1/3', '0.25' or '25%').")
    assert problem == problem.template and problem.params == {}


def test_a_problem_survives_copies_and_exceptions() -> None:
    problem = N_("Unknown fact '%(fact)s'.", fact="colour")
    for copied in (copy.deepcopy(problem), pickle.loads(pickle.dumps(problem))):
        assert isinstance(copied, Problem)
        assert (copied, copied.template, copied.params) == (
            problem,
            problem.template,
            problem.params,
        )
    assert problem_of(ValueError(problem)) is problem
    assert not isinstance(str(ValueError(problem)), Problem)  # why problem_of exists
    assert problem_of(ValueError()) == ""


def test_marshmallow_fills_a_problem_as_parameters() -> None:
    one_of = validate.OneOf(["a", "b"], error=N_("Unknown phase '%(input)s'."))
    with pytest.raises(Exception) as caught:
        one_of("z")
    [message] = caught.value.messages  # type: ignore[attr-defined]
    assert isinstance(message, Problem)
    assert message == "Unknown phase 'z'." and message.params["input"] == "z"


def test_values_are_shown_short_and_never_too_long_for_str() -> None:
    assert shown("abc") == "abc" and shown(1.5) == "1.5"
    assert shown("x" * 500).endswith("…") and len(shown("x" * 500)) == 60
    assert shown(10**5000) == "~1e5000"


@pytest.mark.parametrize("text", ["", "株式会社テスト", "Tab-free text", "emoji ✓", "\u3000"])
def test_plain_text_can_be_stored(text: str) -> None:
    assert control_problem(text) is None
    assert control_problem(text, multiline=True) is None


@pytest.mark.parametrize("text", ["a\tb", "a\nb", "a\r\nb"])
def test_line_breaks_and_tabs_belong_in_multi_line_text(text: str) -> None:
    assert control_problem(text, multiline=True) is None
    assert control_problem(text) == "Line breaks and tabs are not allowed here."


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a\x00b", "0000"),
        ("a\x07", "0007"),
        ("\x1b[31m", "001B"),
        ("del\x7f", "007F"),
        ("\x0b", "000B"),
    ],
)
def test_control_characters_are_refused_everywhere(text: str, code: str) -> None:
    for multiline in (False, True):
        problem = control_problem(text, multiline=multiline)
        assert problem is not None and problem.params == {"code": code}


def test_figures_are_read_in_plain_characters() -> None:
    assert figure(" ０ ") == "0"
    assert figure("１０ ｍｇ") == "10 mg"
    assert figure("≦１０") == "≦10"


def test_a_search_term_loses_its_control_characters() -> None:
    assert without_controls("find\x00me\x1b\n") == "findme"
