from __future__ import annotations

import pytest
from flask import Flask

from grants.core.errors import Conflict, NotAllowed
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, require

OWNER = {"is_owner_org": True}
ASSIGNED = {"is_assigned_reviewer": True}


def test_an_allowed_action_passes_silently(app: Flask) -> None:
    require(Action.create_application, Subject(Role.applicant))


@pytest.mark.parametrize(
    ("action", "subject", "expected"),
    [
        (Action.view_audit, Subject(Role.reviewer), "この操作はあなたの役割では行えません。"),
        (Action.release_tranche, Subject(Role.admin, state="approved"),
         "管理者は資金を扱いません。プログラムオフィサーが行います。"),
        (Action.withdraw_application, Subject(Role.applicant, state="draft"),
         "これは他の組織のものです。"),
        (Action.review_milestone, Subject(Role.reviewer, state="submitted"),
         "この助成案件の評価者に割り当てられていません。"),
        (Action.review_milestone,
         Subject(Role.reviewer, state="submitted", is_conflicted=True, **ASSIGNED),
         "この助成案件との利益相反があります。"),
    ],
)  # fmt: skip
def test_a_refusal_says_why_in_the_users_words(
    app: Flask, action: Action, subject: Subject, expected: str
) -> None:
    with pytest.raises(NotAllowed) as refused:
        require(action, subject)
    assert translate(refused.value.message, "ja") == expected


@pytest.mark.parametrize(
    ("action", "subject", "expected"),
    [
        (Action.edit_application, Subject(Role.applicant, state="screened_ineligible", **OWNER),
         "This cannot be done while it is “Screened: ineligible”."),
        (Action.submit_evidence, Subject(Role.applicant, state="approved", **OWNER),
         "This cannot be done while it is “Approved”."),
        (Action.submit_evidence,
         Subject(Role.applicant, state="planned", awaits_earlier_milestone=True, **OWNER),
         "Evidence is accepted only for the grant's current milestone."),
    ],
)  # fmt: skip
def test_a_state_refusal_names_the_state(
    app: Flask, action: Action, subject: Subject, expected: str
) -> None:
    with pytest.raises(Conflict) as refused:
        require(action, subject)
    assert translate(refused.value.message, "en") == expected


def test_a_state_refusal_without_a_known_state_still_answers_in_words(app: Flask) -> None:
    with pytest.raises(Conflict) as refused:
        require(Action.edit_application, Subject(Role.applicant, **OWNER))  # no state given
    assert translate(refused.value.message, "en") == "This cannot be done in its present state."
