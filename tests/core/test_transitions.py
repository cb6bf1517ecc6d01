from __future__ import annotations

import pytest
from flask import Flask

from grants.core.errors import Conflict
from grants.core.i18n import translate
from grants.core.states import (
    AmendmentState,
    ApplicationState,
    GrantState,
    MilestoneState,
    transition,
)


def test_an_allowed_change_returns_its_target(app: Flask) -> None:
    assert transition(MilestoneState.planned, MilestoneState.submitted) is MilestoneState.submitted


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "This application is already “Awarded”."), ("ja", "この応募はすでに「採択」です。")],
)
def test_a_repeated_change_says_it_is_done_already(app: Flask, locale: str, expected: str) -> None:
    with pytest.raises(Conflict) as refused:
        transition(ApplicationState.awarded, ApplicationState.awarded)
    assert translate(refused.value.message, locale) == expected


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (GrantState.terminated, GrantState.completed,
         "この助成案件は「中止」のため「完了」にはできません。"),
        (MilestoneState.approved, MilestoneState.submitted,
         "このマイルストーンは「承認」のため「提出済み」にはできません。"),
        (AmendmentState.declined, AmendmentState.approved,
         "この変更申請は「却下」のため「承認」にはできません。"),
    ],
)  # fmt: skip
def test_a_refused_change_names_both_states_in_words(
    app: Flask, current: GrantState, target: GrantState, expected: str
) -> None:
    with pytest.raises(Conflict) as refused:
        transition(current, target)
    assert translate(refused.value.message, "ja") == expected
