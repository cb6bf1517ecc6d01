"""Rule types. Each builds, once per compiled rule, a checker closure over typed parameters,
and describes what it compared as JSON-safe values (yen as int, dates as ISO text, ratios
as "1/3") only when a trace row is read.

Ratios compare exactly: for integers, `actual >= ceil(base * ratio)` is `actual >= base * ratio`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date
from fractions import Fraction
from functools import partial
from typing import Any

from grants.domain.money import floor_yen
from grants.domain.rules.facts import FACTS, Kind, VcCertification
from grants.domain.rules.params import (
    Checker,
    Facts,
    Param,
    ParamKind,
    Result,
    RuleType,
    Variant,
    fact,
)

Params = Mapping[str, Any]

_SCALAR = (Kind.TEXT, Kind.BOOL, Kind.YEN, Kind.COUNT, Kind.DATE)
_AMOUNT = Param(ParamKind.AMOUNT)
_RATIO = Param(ParamKind.RATIO)
_DATE = Param(ParamKind.DATE)


def _stored(name: str, value: Any) -> Any:
    return value.isoformat() if FACTS[name].kind is Kind.DATE else value


def _ratio_text(ratio: Fraction) -> str:
    """A ratio as "1/3" (str(Fraction) is several times slower)."""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    return f"{ratio.numerator}/{ratio.denominator}"


def _at_least_share(base: int, ratio: Fraction) -> int:
    """The least whole yen that is at least `base` x `ratio` (rounded up)."""
    return -floor_yen(-base, ratio)


def _absent(variant: Variant, facts: Facts, *names: str) -> Result:
    return None, tuple(name for name in names if facts.get(name) is None), variant


def _one_fact(p: Params, v: Variant, test: Callable[[Any], bool]) -> Checker:
    """A checker of one fact (the `fact` parameter); `raw` is its value."""
    name = p["fact"]

    def check(facts: Facts) -> Result:
        actual = facts.get(name)
        if actual is None:
            return None, (name,), v
        return test(actual), actual, v

    return check


def _one_of(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, frozenset(p["values"]).__contains__)


def _one_of_compared(p: Params, actual: Any) -> dict[str, Any]:
    allowed = ", ".join(str(_stored(p["fact"], value)) for value in p["values"])
    return {"fact": p["fact"], "actual": _stored(p["fact"], actual), "allowed": allowed}


def _equals(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, partial(operator.eq, p["value"]))


def _equals_compared(p: Params, actual: Any) -> dict[str, Any]:
    name = p["fact"]
    return {"fact": name, "actual": _stored(name, actual), "required": _stored(name, p["value"])}


def _min_amount(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, partial(operator.le, p["amount"]))  # amount <= actual


def _max_amount(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, partial(operator.ge, p["amount"]))  # amount >= actual


def _min_amount_compared(p: Params, actual: int) -> dict[str, Any]:
    return {"fact": p["fact"], "actual": actual, "required": p["amount"]}


def _max_amount_compared(p: Params, actual: int) -> dict[str, Any]:
    return {"fact": p["fact"], "actual": actual, "limit": p["amount"]}


def _pair(
    first: str, second: str, passes: Callable[[Any, Any], bool]
) -> Callable[[Params, Variant], Checker]:
    """A checker factory comparing two facts; `raw` is their pair of values."""

    def build(p: Params, v: Variant) -> Checker:
        def check(facts: Facts) -> Result:
            a, b = facts.get(first), facts.get(second)
            if a is None or b is None:
                return _absent(v, facts, first, second)
            return passes(a, b), (a, b), v

        return check

    return build


def _ratio(p: Params, v: Variant, at_least: bool) -> Checker:
    top, bottom = p["ratio"].numerator, p["ratio"].denominator
    if at_least:
        return _pair(p["numerator"], p["denominator"], lambda a, b: a * bottom >= b * top)(p, v)
    return _pair(p["numerator"], p["denominator"], lambda a, b: a * bottom <= b * top)(p, v)


def _ratio_compared(p: Params, raw: tuple[int, int], at_least: bool) -> dict[str, Any]:
    (actual, base), ratio = raw, p["ratio"]
    compared = {"fact": p["numerator"], "base_fact": p["denominator"], "actual": actual}
    compared |= {"base": base, "ratio": _ratio_text(ratio)}
    if at_least:
        compared["required"] = _at_least_share(base, ratio)
    else:
        compared["limit"] = floor_yen(base, ratio)
    return compared


def _date_before(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, partial(operator.ge, p["date"]))  # date >= actual


def _date_after(p: Params, v: Variant) -> Checker:
    return _one_fact(p, v, partial(operator.le, p["date"]))  # date <= actual


def _date_compared(p: Params, actual: date, key: str) -> dict[str, Any]:
    return {"fact": p["fact"], "actual": actual.isoformat(), key: p["date"].isoformat()}


def _certified_on(p: Params, v: Variant) -> Checker:
    date_fact, lead_only = p["date_fact"], p["who"] == "lead"

    def check(facts: Facts) -> Result:
        day, vcs = facts.get(date_fact), facts.get("investing_vcs")
        if day is None or vcs is None:
            return _absent(v, facts, date_fact, "investing_vcs")
        vcs = tuple(vc for vc in vcs if vc.is_lead) if lead_only else tuple(vcs)
        for vc in vcs:
            if not vc.certified_at(day):
                return False, (day, vcs), v
        return bool(vcs), (day, vcs), v

    return check


def _certified_on_compared(
    p: Params, raw: tuple[date, tuple[VcCertification, ...]]
) -> dict[str, Any]:
    day, vcs = raw
    lapsed = [vc.name for vc in vcs if not vc.certified_at(day)]
    return {
        "date": day.isoformat(),
        "who": p["who"],
        "total": len(vcs),
        "certified": len(vcs) - len(lapsed),
        "not_certified": ", ".join(lapsed),
    }


def _review_quorum(p: Params, v: Variant) -> Checker:
    required = p["min"]

    def check(facts: Facts) -> Result:
        approvals = facts.get("eligible_approvals")
        if approvals is None:
            return None, ("eligible_approvals",), v
        return approvals >= required, (approvals, facts.get("eligible_reviewers")), v

    return check


def _review_quorum_compared(p: Params, raw: tuple[int, int | None]) -> dict[str, Any]:
    approvals, reviewers = raw
    compared = {"approvals": approvals, "required": p["min"]}
    return compared if reviewers is None else compared | {"reviewers": reviewers}


def _pro_rata_paid_in(p: Params, v: Variant) -> Checker:
    top, bottom = p["ratio"].numerator, p["ratio"].denominator
    return _pair("paid_in_total", "cumulative_subsidy", lambda a, b: a * bottom >= b * top)(p, v)


def _pro_rata_compared(p: Params, raw: tuple[int, int]) -> dict[str, Any]:
    (paid, subsidy), ratio = raw, p["ratio"]
    required = _at_least_share(subsidy, ratio)
    return {"actual": paid, "base": subsidy, "ratio": _ratio_text(ratio), "required": required}


_FACT_AMOUNT = {"fact": fact(Kind.YEN), "amount": _AMOUNT}
_FRACTION = {"numerator": fact(Kind.YEN), "denominator": fact(Kind.YEN), "ratio": _RATIO}
_FACT_DATE = {"fact": fact(Kind.DATE), "date": _DATE}

RULE_TYPES: dict[str, RuleType] = {
    "one_of": RuleType(
        {"fact": fact(*_SCALAR), "values": Param(ParamKind.VALUES)}, _one_of, _one_of_compared
    ),
    "equals": RuleType(
        {"fact": fact(*_SCALAR), "value": Param(ParamKind.VALUE)}, _equals, _equals_compared
    ),
    "min_amount": RuleType(_FACT_AMOUNT, _min_amount, _min_amount_compared),
    "max_amount": RuleType(_FACT_AMOUNT, _max_amount, _max_amount_compared),
    "min_ratio": RuleType(
        _FRACTION,
        lambda p, v: _ratio(p, v, at_least=True),
        lambda p, raw: _ratio_compared(p, raw, at_least=True),
    ),
    "max_ratio": RuleType(
        _FRACTION,
        lambda p, v: _ratio(p, v, at_least=False),
        lambda p, raw: _ratio_compared(p, raw, at_least=False),
    ),
    "date_before": RuleType(
        _FACT_DATE, _date_before, lambda p, raw: _date_compared(p, raw, "latest")
    ),
    "date_after": RuleType(
        _FACT_DATE, _date_after, lambda p, raw: _date_compared(p, raw, "earliest")
    ),
    "certified_on": RuleType(
        {
            "date_fact": fact(Kind.DATE, default="release_date"),
            "who": Param(ParamKind.CHOICE, choices=("all", "lead"), default="all"),
        },
        _certified_on,
        _certified_on_compared,
    ),
    "prior_milestones_approved": RuleType(
        {},
        _pair("prior_milestones_approved", "prior_milestones_total", lambda a, t: a >= t),
        lambda p, raw: {"approved": raw[0], "total": raw[1]},
    ),
    "review_quorum": RuleType(
        {"min": Param(ParamKind.COUNT, minimum=1)}, _review_quorum, _review_quorum_compared
    ),
    "within_budget_pool": RuleType(
        {},
        _pair("tranche_amount", "pool_available", lambda amount, pool: amount <= pool),
        lambda p, raw: {"actual": raw[0], "limit": raw[1]},
    ),
    "pro_rata_paid_in": RuleType({"ratio": _RATIO}, _pro_rata_paid_in, _pro_rata_compared),
}


def _amount_bound(p: Params, raw: int) -> tuple[str, int]:
    return p["fact"], p["amount"]


def _ratio_bound(p: Params, raw: tuple[int, int]) -> tuple[str, int]:
    return p["numerator"], floor_yen(raw[1], p["ratio"])


# Rule types that put an upper bound on a fact: (fact, bound) from params and raw values.
UPPER_BOUNDS: dict[str, Callable[[Params, Any], tuple[str, int]]] = {
    "max_amount": _amount_bound,
    "max_ratio": _ratio_bound,
}
