"""Reviewer conflict of interest (利益相反) for assignment to a grant's milestone reviews
and to an application's merit review.

A candidate is excluded when they belong to the grantee (the applicant), belong to one of
its investing VCs, or have declared a conflict with the grant (the application) or with
one of those organisations. Quorum counts only the eligible reviewers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from grants.core.states import Label


class ConflictReason(StrEnum):
    same_organization = "same_organization"
    investing_vc = "investing_vc"
    declared = "declared"


_LABELS: Final[Mapping[ConflictReason, Label]] = {
    ConflictReason.same_organization: Label("同一組織", "Same organization"),
    ConflictReason.investing_vc: Label("出資VCの関係者", "Tied to an investing VC"),
    ConflictReason.declared: Label("自己申告の利益相反", "Declared conflict"),
}


def label(reason: ConflictReason, locale: str) -> str:
    """Display text of `reason` in `locale` ("ja" or "en")."""
    return _LABELS[reason].text(locale)


@dataclass(frozen=True)
class Candidate:
    user_id: int
    organization_id: int | None
    declared_conflict_org_ids: frozenset[int] = frozenset()
    declared_conflict_grant_ids: frozenset[int] = frozenset()
    declared_conflict_application_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class GrantParties:
    grant_id: int
    grantee_org_id: int
    investing_vc_org_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ApplicationParties:
    """An application under merit review: the applicant and the organisations investing."""

    application_id: int
    applicant_org_id: int
    investing_vc_org_ids: frozenset[int] = frozenset()


Parties = GrantParties | ApplicationParties


@dataclass(frozen=True)
class Excluded:
    candidate: Candidate
    reasons: tuple[ConflictReason, ...]


def _owner(parties: Parties) -> int:
    if isinstance(parties, GrantParties):
        return parties.grantee_org_id
    return parties.applicant_org_id


def _declared(candidate: Candidate, parties: Parties) -> bool:
    orgs = parties.investing_vc_org_ids | {_owner(parties)}
    if isinstance(parties, GrantParties):
        named = parties.grant_id in candidate.declared_conflict_grant_ids
    else:
        named = parties.application_id in candidate.declared_conflict_application_ids
    return named or bool(orgs & candidate.declared_conflict_org_ids)


def conflict_reasons(candidate: Candidate, parties: Parties) -> list[ConflictReason]:
    """Every reason `candidate` may not review the grant or application, in enum order;
    empty when eligible."""
    org = candidate.organization_id
    found = {
        ConflictReason.same_organization: org is not None and org == _owner(parties),
        ConflictReason.investing_vc: org in parties.investing_vc_org_ids,
        ConflictReason.declared: _declared(candidate, parties),
    }
    return [reason for reason, hit in found.items() if hit]


def eligible(
    candidates: Iterable[Candidate], parties: Parties
) -> tuple[list[Candidate], list[Excluded]]:
    """Split candidates into the eligible ones and the excluded ones with their reasons."""
    kept: list[Candidate] = []
    excluded: list[Excluded] = []
    for candidate in candidates:
        if reasons := conflict_reasons(candidate, parties):
            excluded.append(Excluded(candidate, tuple(reasons)))
        else:
            kept.append(candidate)
    return kept, excluded


@dataclass(frozen=True)
class Reasons:
    """Conflict reasons in a message: 同一組織、出資VC / same organisation, investing VC."""

    reasons: tuple[ConflictReason, ...]

    def localised(self, locale: str) -> str:
        separator = "、" if locale == "ja" else ", "
        return separator.join(label(reason, locale) for reason in self.reasons)
