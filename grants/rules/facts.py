"""The fact vocabulary: every name a rule may read, its kind, its labels and its allowed values.

Services build `facts` mappings with these names; the schema rejects any other name.
A fact that is absent or None is "missing".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from grants.core.money import YEN_MAX
from grants.core.problems import N_, Problem, shown

THEMES = ("rare_disease", "amr", "infectious_crisis", "unmet_device", "other")
MODALITIES = ("drug", "regenerative", "device", "samd")
STAGES = ("discovery", "non_clinical", "phase1", "phase2", "exploratory", "pivotal")
ORG_KINDS = ("startup", "university", "company", "vc", "other")


class Kind(StrEnum):
    TEXT = "text"
    BOOL = "bool"
    YEN = "yen"
    COUNT = "count"
    DATE = "date"
    VCS = "vcs"


KIND_NAMES = {
    Kind.TEXT: N_("a text"),
    Kind.BOOL: N_("a true/false"),
    Kind.YEN: N_("a yen amount"),
    Kind.COUNT: N_("a count"),
    Kind.DATE: N_("a date"),
    Kind.VCS: N_("a list of certified VCs"),
}
# The largest count a rule compares with (reviewers, milestones, VCs: far fewer).
COUNT_MAX = 10_000
_LIMITS = {Kind.YEN: YEN_MAX, Kind.COUNT: COUNT_MAX}


def either(names: list[Problem]) -> Problem:
    """ "a, b or c" of translatable names."""
    if len(names) == 1:
        return names[0]
    return N_("%(first)s or %(second)s", first=either(names[:-1]), second=names[-1])


@dataclass(frozen=True, slots=True)
class FactSpec:
    kind: Kind
    ja: str
    en: str
    choices: tuple[str, ...] | None = None


# An investor never certified as a VC: a certification start no date reaches.
NEVER_CERTIFIED = date.max


@dataclass(frozen=True, slots=True)
class VcCertification:
    """One investor of an application (a VC or any other organisation), its committed amount,
    and the 認定VC certification period that covers the day in question, if any."""

    name: str
    certified_on: date
    revoked_on: date | None = None
    expires_on: date | None = None
    is_lead: bool = False
    amount: int = 0

    def certified_at(self, day: date) -> bool:
        """Certified on `day`: already certified, not revoked on or before it, not yet expired."""
        return (
            self.certified_on <= day
            and (self.revoked_on is None or self.revoked_on > day)
            and (self.expires_on is None or self.expires_on >= day)
        )

    def standing(self, day: date) -> str:
        """Why its money counts on `day` or not: certified, never (no certification at
        all), not_yet (certified from a later day), revoked or expired (by `day`)."""
        if self.certified_on == NEVER_CERTIFIED:
            return "never"
        if self.certified_on > day:
            return "not_yet"
        if self.revoked_on is not None and self.revoked_on <= day:
            return "revoked"
        if self.expires_on is not None and self.expires_on < day:
            return "expired"
        return "certified"


APPLICATION_FACTS = {
    "theme": FactSpec(Kind.TEXT, "対象領域", "Theme", THEMES),
    "modality": FactSpec(Kind.TEXT, "モダリティ", "Modality", MODALITIES),
    "stage": FactSpec(Kind.TEXT, "開発段階", "Development stage", STAGES),
    "org_kind": FactSpec(Kind.TEXT, "法人種別", "Organisation type", ORG_KINDS),
    "listed": FactSpec(Kind.BOOL, "上場", "Listed"),
    "rd_base_in_japan": FactSpec(Kind.BOOL, "国内研究開発拠点", "R&D base in Japan"),
    "milestones_all_measurable": FactSpec(
        Kind.BOOL, "全マイルストーンの測定可能性", "All milestones measurable"
    ),
    "eligible_cost": FactSpec(Kind.YEN, "補助対象経費", "Eligible cost"),
    "indirect_cost": FactSpec(Kind.YEN, "間接経費", "Indirect cost"),
    "direct_cost": FactSpec(Kind.YEN, "直接経費", "Direct cost"),
    "requested_subsidy": FactSpec(Kind.YEN, "申請補助額", "Requested subsidy"),
    "vc_committed_total": FactSpec(Kind.YEN, "認定VC出資額合計", "Certified VC commitments"),
    "lead_vc_committed": FactSpec(Kind.YEN, "リードVC出資額", "Lead VC commitment"),
    "tranche_total": FactSpec(Kind.YEN, "トランシェ合計", "Tranche total"),
    "upfront_tranche": FactSpec(Kind.YEN, "初回トランシェ", "Upfront tranche"),
    "award_amount": FactSpec(Kind.YEN, "交付額", "Award amount"),
    "vc_count": FactSpec(Kind.COUNT, "出資VC数", "Investing VCs"),
    "milestone_count": FactSpec(Kind.COUNT, "マイルストーン数", "Milestones"),
    "project_start": FactSpec(Kind.DATE, "事業開始日", "Project start"),
    "project_end": FactSpec(Kind.DATE, "事業終了日", "Project end"),
    "submitted_on": FactSpec(Kind.DATE, "応募日", "Submission date"),
    "investing_vcs": FactSpec(Kind.VCS, "出資者", "Investors"),
}

TRANCHE_FACTS = {
    "release_date": FactSpec(Kind.DATE, "支払日", "Release date"),
    "tranche_amount": FactSpec(Kind.YEN, "トランシェ額", "Tranche amount"),
    "cumulative_subsidy": FactSpec(Kind.YEN, "累計補助額", "Cumulative subsidy"),
    "paid_in_total": FactSpec(Kind.YEN, "払込済み出資額", "Paid-in co-investment"),
    # The pool's remaining budget plus the tranche's own reservation (counted as committed).
    "pool_available": FactSpec(
        Kind.YEN,
        "充当可能な予算(自らの引当分を含む)",
        "Available for the tranche (incl. its own reservation)",
    ),
    "prior_milestones_total": FactSpec(Kind.COUNT, "先行マイルストーン数", "Prior milestones"),
    "prior_milestones_approved": FactSpec(
        Kind.COUNT, "承認済み先行マイルストーン数", "Prior milestones approved"
    ),
    "eligible_approvals": FactSpec(Kind.COUNT, "有効な承認数", "Eligible approvals"),
    "eligible_reviewers": FactSpec(Kind.COUNT, "有効な評価者数", "Eligible reviewers"),
}

FACTS: dict[str, FactSpec] = {**APPLICATION_FACTS, **TRANCHE_FACTS}


def fact_label(name: str, locale: str) -> str:
    spec = FACTS.get(name)
    if spec is None:
        return name
    return spec.ja if locale.startswith("ja") else spec.en


def normalise_value(name: str, value: Any) -> Any:
    """`value` as stored in a rule document for fact `name` (dates as ISO text).

    Raises ValueError naming what is wrong.
    """
    spec = FACTS[name]
    kind = spec.kind
    if kind is Kind.DATE:
        return iso_date(value)
    if kind is Kind.BOOL and isinstance(value, bool):
        return value
    if kind in _LIMITS and _is_whole(value) and value >= 0:
        if value > _LIMITS[kind]:
            raise ValueError(
                N_("%(value)s is too large for '%(fact)s'.", value=shown(value), fact=name)
            )
        return value
    if kind is Kind.TEXT and isinstance(value, str):
        if spec.choices is not None and value not in spec.choices:
            raise ValueError(
                N_(
                    "'%(value)s' is not a %(fact)s; use one of: %(choices)s.",
                    value=shown(value),
                    fact=name,
                    choices=", ".join(spec.choices),
                )
            )
        return value
    raise ValueError(
        N_(
            "%(value)s is not %(kind)s value for '%(fact)s'.",
            value=shown(value) if not isinstance(value, str) else repr(shown(value)),
            kind=KIND_NAMES[kind],
            fact=name,
        )
    )


def python_value(name: str, stored: Any) -> Any:
    """The in-memory value that facts carry for a value stored by `normalise_value`."""
    return date.fromisoformat(stored) if FACTS[name].kind is Kind.DATE else stored


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def iso_date(value: Any) -> str:
    """A date or ISO date text as "YYYY-MM-DD"; raises ValueError for anything else."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    shown_value = repr(shown(value)) if isinstance(value, str) else shown(value)
    raise ValueError(N_("%(value)s is not a date (use YYYY-MM-DD).", value=shown_value))
