"""Bilingual trace messages rendered from a row's compared values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from grants.core.calendar import format_date
from grants.core.money import format_yen
from grants.core.vocabulary import value_label
from grants.rules.facts import FACTS, Kind, fact_label

if TYPE_CHECKING:
    from grants.rules.trace import TraceRow

LOCALES = ("ja", "en")

# Per rule type: (ja template, en template, how to display each compared key).
_AMOUNT = {"fact": "fact", "actual": "yen", "required": "yen", "limit": "yen"}
_RATIO = {**_AMOUNT, "base_fact": "fact", "base": "yen", "ratio": "text"}
_DATES = {"fact": "fact", "actual": "date", "latest": "date", "earliest": "date"}
_COUNTS = {"approved": "text", "total": "text", "approvals": "text", "required": "text"}
_TEMPLATES: dict[str, tuple[str, str, Mapping[str, str]]] = {
    "one_of": (
        "{fact}: {actual}(対象: {allowed})",
        "{fact}: {actual} (allowed: {allowed})",
        {"fact": "fact", "actual": "value", "allowed": "values"},
    ),
    "equals": (
        "{fact}: {actual}(要件: {required})",
        "{fact}: {actual} (required: {required})",
        {"fact": "fact", "actual": "value", "required": "value"},
    ),
    "min_amount": (
        "{fact}: {actual}(下限 {required})",
        "{fact}: {actual} (minimum {required})",
        _AMOUNT,
    ),
    "max_amount": ("{fact}: {actual}(上限 {limit})", "{fact}: {actual} (maximum {limit})", _AMOUNT),
    "min_ratio": (
        "{fact}: {actual}({base_fact} {base} の {ratio} 以上 = {required})",
        "{fact}: {actual} (at least {ratio} × {base_fact} {base} = {required})",
        _RATIO,
    ),
    "max_ratio": (
        "{fact}: {actual}({base_fact} {base} の {ratio} 以下 = {limit})",
        "{fact}: {actual} (at most {ratio} × {base_fact} {base} = {limit})",
        _RATIO,
    ),
    "date_before": ("{fact}: {actual}(期限 {latest})", "{fact}: {actual} (by {latest})", _DATES),
    "date_after": (
        "{fact}: {actual}({earliest} 以降)",
        "{fact}: {actual} (from {earliest})",
        _DATES,
    ),
    "certified_on": (
        "{date}時点で認定が有効な{who}: {total}社中{certified}社",
        "{who} certified on {date}: {certified} of {total}",
        {"date": "date", "who": "who", "total": "text", "certified": "text"},
    ),
    "prior_milestones_approved": (
        "承認済みの先行マイルストーン: {total}件中{approved}件",
        "Prior milestones approved: {approved} of {total}",
        _COUNTS,
    ),
    "review_quorum": (
        "利益相反のない評価者の承認: {approvals}名(定足数 {required}名)",
        "Approvals by eligible reviewers: {approvals} (quorum {required})",
        _COUNTS,
    ),
    "within_budget_pool": (
        "トランシェ額: {actual}(このトランシェに充当できる予算 {limit}。自らの引当分を含む)",
        "Tranche: {actual} (available for this tranche, including its own reservation: {limit})",
        _AMOUNT,
    ),
    "pro_rata_paid_in": (
        "払込済み出資額: {actual}(累計補助額 {base} の {ratio} 以上 = {required})",
        "Paid-in co-investment: {actual} (at least {ratio} × cumulative subsidy {base}"
        " = {required})",
        _RATIO,
    ),
}
# Optional compared keys, appended when present and non-empty.
_EXTRAS = {
    "not_certified": ("(認定なし: {})", "; not certified: {}"),
    "reviewers": ("(有効な評価者 {}名)", "; {} eligible reviewers"),
}
_WHO = {"all": ("出資VC", "Investing VCs"), "lead": ("リードVC", "Lead VCs")}
# Every investor of a certified_on row: whether its money counts, and why.
_INVESTORS = ("。出資者: {}", ". Investors: {}")
_INVESTOR = ("{}（{}）", "{} ({})")
_INVESTOR_JOINERS = ("、", "; ")
_LEAD = ("リードVC", "lead VC")
_STANDINGS = {
    "certified": ("算入: {}から認定VC", "counted: certified from {}"),
    "never": ("算入しない: 認定VCではない", "not counted: not a certified VC"),
    "not_yet": ("算入しない: 認定は{}から", "not counted: certified only from {}"),
    "revoked": ("算入しない: {}に認定取消", "not counted: certification revoked on {}"),
    "expired": ("算入しない: {}に認定期間満了", "not counted: certification expired on {}"),
}
_BOOL = {True: ("はい", "yes"), False: ("いいえ", "no")}
_SKIPPED = ("適用条件に該当しないため対象外", "Not applicable: its conditions are not met")
_MISSING = ("判定に必要な情報がありません: {}", "Missing fact: {}")
_RELAXED = ("[緩和: {}]", " [relaxation: {}]")
_JOINERS = ("、", ", ")
# How one_of's rule compares its values: joined with ", " (checks._one_of_compared).
_STORED_JOINER = ", "


def shown_as(rule_type: str, key: str) -> str:
    """How `rule_type`'s message shows compared value `key`: "yen", "date", "text", ..."""
    template = _TEMPLATES.get(rule_type)
    return template[2].get(key, "text") if template else "text"


def render(row: TraceRow) -> dict[str, str]:
    return {locale: _render(row, locale) for locale in LOCALES}


def _render(row: TraceRow, locale: str) -> str:
    at = LOCALES.index(locale)
    if row.outcome == "skipped":
        return _SKIPPED[at]
    if row.missing:
        joiner = "、" if locale == "ja" else ", "
        return _MISSING[at].format(joiner.join(fact_label(name, locale) for name in row.missing))
    text = _body(row.rule_type, row.compared, locale, at)
    relaxation = row.relaxation
    if relaxation is not None:
        label = relaxation.label[locale] if relaxation.label else f"#{relaxation.index + 1}"
        text += _RELAXED[at].format(label)
    return text


def _body(rule_type: str, compared: Mapping[str, Any], locale: str, at: int) -> str:
    *templates, displays = _TEMPLATES[rule_type]
    values = {
        key: _DISPLAYS[displays.get(key, "text")](value, compared, locale)
        for key, value in compared.items()
    }
    text = templates[at].format(**values)
    for key, extra in _EXTRAS.items():
        if compared.get(key) not in (None, ""):
            text += extra[at].format(values[key])
    if compared.get("investors"):
        shown = [_investor(investor, locale, at) for investor in compared["investors"]]
        text += _INVESTORS[at].format(_INVESTOR_JOINERS[at].join(shown))
    return text


def _investor(investor: Mapping[str, Any], locale: str, at: int) -> str:
    """One investor of a certified_on row: its amount, and whether and why it counts."""
    since = investor.get("since")
    day = format_date(date.fromisoformat(since), locale) if since else ""
    parts = [_LEAD[at]] if investor.get("lead") else []
    parts += [format_yen(int(investor.get("amount") or 0), locale)]
    parts += [_STANDINGS[investor.get("standing", "never")][at].format(day)]
    return _INVESTOR[at].format(investor.get("name", ""), _JOINERS[at].join(parts))


def _value(value: Any, compared: Mapping[str, Any], locale: str) -> str:
    """One value of the compared fact: yen, a date, yes / no, or a value's label."""
    fact = compared["fact"]
    kind = FACTS[fact].kind
    if kind is Kind.BOOL:
        return _BOOL[bool(value)][LOCALES.index(locale)]
    if kind is Kind.TEXT:
        return value_label(fact, value, locale)
    how = {Kind.YEN: "yen", Kind.DATE: "date"}.get(kind, "text")
    return _DISPLAYS[how](value, compared, locale)


def _values(joined: Any, compared: Mapping[str, Any], locale: str) -> str:
    """A list of the compared fact's values, stored joined as text, each shown as `_value`."""
    shown = []
    for part in str(joined).split(_STORED_JOINER):
        try:
            shown.append(_value(_parse(part, FACTS[compared["fact"]].kind), compared, locale))
        except ValueError:  # not what the fact's kind stores: shown as it is
            shown.append(part)
    return _JOINERS[LOCALES.index(locale)].join(shown)


def _parse(text: str, kind: Kind) -> Any:
    """A value of `kind` back from its str() (a date stays ISO text); ValueError if not one."""
    if kind is Kind.BOOL:
        if text not in ("True", "False"):
            raise ValueError(text)
        return text == "True"
    if kind in (Kind.YEN, Kind.COUNT):
        return int(text)
    if kind is Kind.DATE:
        return date.fromisoformat(text).isoformat()
    return text


_DISPLAYS: dict[str, Callable[[Any, Mapping[str, Any], str], str]] = {
    "text": lambda value, _c, _locale: str(value),
    "yen": lambda value, _c, locale: format_yen(value, locale),
    "date": lambda value, _c, locale: format_date(date.fromisoformat(value), locale),
    "fact": lambda value, _c, locale: fact_label(value, locale),
    "who": lambda value, _c, locale: _WHO[value][LOCALES.index(locale)],
    "value": _value,
    "values": _values,
}
