"""Settlement (精算): the final amount of a period (額の確定) from its results report, with a
trace that explains every figure.

A rule set's "settlement" section holds the subsidy rate, the indirect-cost cap per
organisation type (a share of the accepted direct cost), the cost categories, the period
(each fiscal year or each milestone), the payment mode (精算払: paid after the final
amount; 概算払: the tranche is paid in advance and settled later), the fund type (単年度:
unspent money lapses at the fiscal year end; 基金: carried over) and the days allowed to
file a report and to return an excess.

final amount = min(the period's decided tranches,
                   floor(rate x (accepted direct cost + min(indirect claimed, cap))))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from grants.core.money import floor_yen, format_yen, parse_ratio
from grants.core.vocabulary import value_label
from grants.rules.facts import ORG_KINDS


class PeriodKind(StrEnum):
    fiscal_year = "fiscal_year"
    milestone = "milestone"


class PaymentMode(StrEnum):
    after_settlement = "after_settlement"  # 精算払
    advance = "advance"  # 概算払


class FundType(StrEnum):
    single_year = "single_year"  # 単年度
    fund = "fund"  # 基金


class ExcessMethod(StrEnum):
    """How an advance above the final amount comes back (概算払)."""

    returned = "returned"  # 返還: the grantee pays it back by a due date
    set_off = "set_off"  # 相殺: the next tranche pays that much less


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    ja: str
    en: str

    def label(self, locale: str) -> str:
        return self.ja if locale.startswith("ja") else self.en


DEFAULT_CATEGORIES = (
    Category("equipment", "物品費", "Equipment and supplies"),
    Category("travel", "旅費", "Travel"),
    Category("personnel", "人件費・謝金", "Personnel and honoraria"),
    Category("other", "その他", "Other"),
)
DEFAULT_REPORT_DUE_DAYS = 61  # about two months after the period, as Japanese funders ask
DEFAULT_RETURN_DUE_DAYS = 30
# How the organisation types map to the caps' classes (AMED device programmes: universities
# 30%, SMEs 20%, others 10%). A startup is the SME; a company, a VC and any other
# organisation are "others". A rule set states a cap for every organisation type.
AMED_INDIRECT_CAPS = {
    "university": "30%",
    "startup": "20%",
    "company": "10%",
    "vc": "10%",
    "other": "10%",
}


@dataclass(frozen=True)
class SettlementRules:
    rate: Fraction
    indirect_caps: Mapping[str, Fraction]
    categories: tuple[Category, ...]
    period: PeriodKind
    payment: PaymentMode
    fund: FundType
    report_due_days: int
    return_due_days: int

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def cap_for(self, org_kind: str) -> Fraction:
        return self.indirect_caps.get(org_kind, self.indirect_caps["other"])


def default_section() -> dict[str, Any]:
    """The settlement section of a rule set that states none (a document from before
    settlement): the tranche is paid at release as an advance, settled per milestone at the
    full cost, indirect cost up to 10%."""
    return {
        "subsidy_rate": "1",
        "indirect_caps": dict.fromkeys(ORG_KINDS, "10%"),
        "categories": [{"code": c.code, "ja": c.ja, "en": c.en} for c in DEFAULT_CATEGORIES],
        "period": PeriodKind.milestone.value,
        "payment": PaymentMode.advance.value,
        "fund": FundType.single_year.value,
        "report_due_days": DEFAULT_REPORT_DUE_DAYS,
        "return_due_days": DEFAULT_RETURN_DUE_DAYS,
    }


def settlement_rules(document: Mapping[str, Any]) -> SettlementRules:
    """The settlement rules of a normalised rule-set document."""
    section = {**default_section(), **(document.get("settlement") or {})}
    return SettlementRules(
        rate=parse_ratio(section["subsidy_rate"]),
        indirect_caps={kind: parse_ratio(cap) for kind, cap in section["indirect_caps"].items()},
        categories=tuple(
            Category(item["code"], item["ja"], item["en"]) for item in section["categories"]
        ),
        period=PeriodKind(section["period"]),
        payment=PaymentMode(section["payment"]),
        fund=FundType(section["fund"]),
        report_due_days=int(section["report_due_days"]),
        return_due_days=int(section["return_due_days"]),
    )


def period_key(kind: PeriodKind, sequence: int, fiscal_year: int) -> str:
    """The settlement period a milestone belongs to: "fy2026", or "m2" for milestone 2."""
    return f"m{sequence}" if kind is PeriodKind.milestone else f"fy{fiscal_year}"


@dataclass(frozen=True, slots=True)
class Line:
    """A cost line of a results report: what was claimed and, once inspected, accepted."""

    category: str
    claimed: int
    accepted: int | None = None  # None: not inspected yet (counts as claimed)
    reason: str = ""  # the officer's reason for an adjustment, as written

    @property
    def counted(self) -> int:
        return self.claimed if self.accepted is None else self.accepted


@dataclass(frozen=True)
class SettlementFacts:
    org_kind: str
    lines: Sequence[Line]
    indirect_claimed: int
    decided: int  # the period's decided tranches
    advance_paid: int | None = None  # 概算払: what was paid for the period already


@dataclass(frozen=True)
class Figure:
    """One figure of the settlement and how it came about, in both languages."""

    key: str
    amount: int
    message: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "amount": self.amount, "message": dict(self.message)}


@dataclass(frozen=True)
class Settled:
    direct: int
    indirect_cap: int
    indirect: int
    eligible: int
    subsidy: int
    final_amount: int
    excess: int  # advance paid above the final amount (0 under 精算払)
    figures: tuple[Figure, ...] = field(default=())

    def trace(self) -> dict[str, Any]:
        return {"final_amount": self.final_amount, "figures": [f.to_dict() for f in self.figures]}


def settle(rules: SettlementRules, facts: SettlementFacts) -> Settled:
    """The final amount of a period, each figure explained (see the module's formula)."""
    figures = [_line_figure(rules, line) for line in facts.lines]
    direct = sum(line.counted for line in facts.lines)
    cap_ratio = rules.cap_for(facts.org_kind)
    cap = floor_yen(direct, cap_ratio)
    indirect = min(facts.indirect_claimed, cap)
    eligible = direct + indirect
    subsidy = floor_yen(eligible, rules.rate)
    final = min(facts.decided, subsidy)
    advance = facts.advance_paid
    excess = max(advance - final, 0) if advance is not None else 0
    rate, share = ratio_text(rules.rate), ratio_text(cap_ratio)
    kind_ja, kind_en = (value_label("org_kind", facts.org_kind, loc) for loc in ("ja", "en"))
    figures += [
        _figure("direct", direct, "直接経費(確定): {0}", "Direct cost accepted: {0}", direct),
        _figure(
            "indirect_cap",
            cap,
            "間接経費の上限: 直接経費 {1} の {2}({3}) = {0}",
            "Indirect cost cap: {2} of direct cost {1} ({3}) = {0}",
            cap,
            direct,
            share,
            (kind_ja, kind_en),
        ),
        _figure(
            "indirect",
            indirect,
            "間接経費: 申請 {1}、上限 {2} → {0}",
            "Indirect cost: claimed {1}, cap {2} → {0}",
            indirect,
            facts.indirect_claimed,
            cap,
        ),
        _figure(
            "eligible",
            eligible,
            "補助対象経費: {1} + {2} = {0}",
            "Eligible cost: {1} + {2} = {0}",
            eligible,
            direct,
            indirect,
        ),
        _figure(
            "subsidy",
            subsidy,
            "補助率 {2} × 補助対象経費 {1} = {0}(円未満切り捨て)",
            "Subsidy rate {2} × eligible cost {1} = {0} (rounded down to the yen)",
            subsidy,
            eligible,
            rate,
        ),
        _figure(
            "decided",
            facts.decided,
            "交付決定額(期間分): {0}",
            "Decided for the period: {0}",
            facts.decided,
        ),
        _figure(
            "final_amount",
            final,
            "確定額: {1} と {2} の少ない方 = {0}",
            "Final amount: the lower of {1} and {2} = {0}",
            final,
            facts.decided,
            subsidy,
        ),
    ]
    if advance is not None:
        figures.append(
            _figure(
                "excess",
                excess,
                "概算払済み {1} − 確定額 {2} → 返還または相殺 {0}",
                "Advance paid {1} − final amount {2} → to return or set off {0}",
                excess,
                advance,
                final,
            )
        )
    return Settled(direct, cap, indirect, eligible, subsidy, final, excess, tuple(figures))


def _line_figure(rules: SettlementRules, line: Line) -> Figure:
    category = rules.category(line.category)
    names = (category.ja, category.en) if category else (line.category, line.category)
    if line.accepted is None or line.accepted == line.claimed:
        return _figure(
            f"line.{line.category}",
            line.counted,
            "{1}: 申請 {0}",
            "{1}: claimed {0}",
            line.counted,
            names,
        )
    reason = (f"(理由: {line.reason})", f" (reason: {line.reason})") if line.reason else ("", "")
    return _figure(
        f"line.{line.category}",
        line.counted,
        "{1}: 申請 {2} → 確定 {0}{3}",
        "{1}: claimed {2} → accepted {0}{3}",
        line.counted,
        names,
        line.claimed,
        reason,
    )


def ratio_text(ratio: Fraction) -> str:
    """A rate as people write it: "30%" when a whole percentage, else "2/3"."""
    percent = ratio * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{ratio.numerator}/{ratio.denominator}"


def _figure(key: str, amount: int, ja: str, en: str, *values: Any) -> Figure:
    """A figure whose message fills {0}, {1}... with yen amounts (int), pairs (ja, en) of
    text, or text."""

    def shown(value: Any, locale: str, at: int) -> str:
        if isinstance(value, tuple):
            return value[at]
        if isinstance(value, int) and not isinstance(value, bool):
            return format_yen(value, locale)
        return str(value)

    message = {
        locale: template.format(*(shown(value, locale, at) for value in values))
        for at, (locale, template) in enumerate((("ja", ja), ("en", en)))
    }
    return Figure(key, amount, message)


def allocate(final_amount: int, tranches: Sequence[tuple[int, int]]) -> dict[int, int]:
    """The final amount of a period paid after settlement, split over the period's
    milestones in order: each (milestone id, tranche) takes up to its tranche."""
    left, shares = final_amount, {}
    for milestone_id, tranche in tranches:
        shares[milestone_id] = min(tranche, left)
        left -= shares[milestone_id]
    return shares
