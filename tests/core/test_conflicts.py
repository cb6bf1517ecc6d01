from dataclasses import replace
from typing import Any

import pytest

from grants.core.conflicts import (
    Candidate,
    ConflictReason,
    Excluded,
    GrantParties,
    conflict_reasons,
    eligible,
    label,
)

GRANTEE, VC_A, VC_B, UNIVERSITY, OTHER = 10, 20, 21, 30, 40
PARTIES = GrantParties(
    grant_id=7, grantee_org_id=GRANTEE, investing_vc_org_ids=frozenset({VC_A, VC_B})
)
REVIEWER = Candidate(user_id=1, organization_id=UNIVERSITY)


def _reasons(**fields: Any) -> list[ConflictReason]:
    return conflict_reasons(replace(REVIEWER, **fields), PARTIES)


def test_no_conflict() -> None:
    assert _reasons() == []
    assert _reasons(declared_conflict_org_ids=frozenset({OTHER})) == []
    assert _reasons(declared_conflict_grant_ids=frozenset({8})) == []


def test_reviewer_without_organization_has_no_organizational_conflict() -> None:
    assert _reasons(organization_id=None) == []


def test_same_organization() -> None:
    assert _reasons(organization_id=GRANTEE) == [ConflictReason.same_organization]


@pytest.mark.parametrize("vc", [VC_A, VC_B])
def test_investing_vc(vc: int) -> None:
    assert _reasons(organization_id=vc) == [ConflictReason.investing_vc]


@pytest.mark.parametrize("org", [GRANTEE, VC_A])
def test_declared_organization(org: int) -> None:
    assert _reasons(declared_conflict_org_ids=frozenset({OTHER, org})) == [ConflictReason.declared]


def test_declared_grant() -> None:
    assert _reasons(declared_conflict_grant_ids=frozenset({7})) == [ConflictReason.declared]


def test_multiple_reasons_are_all_listed_once_in_order() -> None:
    reasons = _reasons(
        organization_id=GRANTEE,
        declared_conflict_org_ids=frozenset({GRANTEE, VC_A}),
        declared_conflict_grant_ids=frozenset({7}),
    )
    assert reasons == [ConflictReason.same_organization, ConflictReason.declared]
    vc_reasons = _reasons(organization_id=VC_B, declared_conflict_grant_ids=frozenset({7}))
    assert vc_reasons == [ConflictReason.investing_vc, ConflictReason.declared]


def test_eligible_splits_and_keeps_order() -> None:
    clean_1 = Candidate(1, UNIVERSITY)
    same_org = Candidate(2, GRANTEE)
    clean_2 = Candidate(3, OTHER)
    vc_and_declared = Candidate(4, VC_A, declared_conflict_grant_ids=frozenset({7}))
    kept, excluded = eligible(iter([clean_1, same_org, clean_2, vc_and_declared]), PARTIES)
    assert kept == [clean_1, clean_2]
    assert excluded == [
        Excluded(same_org, (ConflictReason.same_organization,)),
        Excluded(vc_and_declared, (ConflictReason.investing_vc, ConflictReason.declared)),
    ]


def test_eligible_with_no_candidates() -> None:
    assert eligible([], PARTIES) == ([], [])


@pytest.mark.parametrize("reason", list(ConflictReason))
def test_every_reason_has_both_labels(reason: ConflictReason) -> None:
    ja, en = label(reason, "ja"), label(reason, "en")
    assert ja and en and ja != en
    assert not ja.isascii()


def test_label_example() -> None:
    assert label(ConflictReason.same_organization, "ja") == "同一組織"
    assert label(ConflictReason.same_organization, "en") == "Same organization"
