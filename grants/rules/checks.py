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

from grants.core.money import floor_yen
from grants.rules.facts import FACTS, Kind, VcCertification
from grants.rules.params import (
    Checker,
    Facts,
    Param,
    ParamKind,
    Result,
    RuleType,
    UpperBound,
    Variant,
    fact,
)

Params = Mapping[str, Any]
Comparison = Callable[[Any, Any], bool]

_SCALAR = (Kind.TEXT, Kind.BOOL, Kind.YEN, Kind.COUNT, Kind.DATE)
_AMOUNT = Param(ParamKind.AMOUNT)
_RATIO = Param(ParamKind.RATIO)
_DATE = Param(ParamKind.DATE)
_WHOLE = Fraction(1)


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


def absent(variant: Variant, facts: Facts, *names: str) -> Result:
    """The result of a check that lacks facts: which of `names` are missing."""
    return None, tuple(name for name in names if facts.get(name) is None), variant


def _one_fact(p: Params, v: Variant, test: Callable[[Any], bool]) -> Checker:
    """A checker of one fact (the `fact` parameter); `raw` is its value."""
    name, failed = p["fact"], v.failed

    def check(facts: Facts) -> Result:
        actual = facts.get(name)
        if actual is None:
            return None, (name,), v
        return test(actual) or failed, actual, v

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


def _two_facts(
    v: Variant, first: str, second: str, compare: Comparison, ratio: Fraction = _WHOLE
) -> Checker:
    """A checker of compare(first, second x ratio), kept exact for integers by comparing
    first x denominator with second x numerator. `raw` is the pair of values."""
    top, bottom, failed = ratio.numerator, ratio.denominator, v.failed

    def check(facts: Facts) -> Result:
        a, b = facts.get(first), facts.get(second)
        if a is None or b is None:
            return absent(v, facts, first, second)
        return compare(a * bottom, b * top) or failed, (a, b), v

    return check


def _pair(first: str, second: str, compare: Comparison) -> Callable[[Params, Variant], Checker]:
    """A checker factory comparing two fixed facts."""
    return lambda p, v: _two_facts(v, first, second, compare)


def _ratio(p: Params, v: Variant, compare: Comparison) -> Checker:
    return _two_facts(v, p["numerator"], p["denominator"], compare, p["ratio"])


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
    date_fact, lead_only, failed = p["date_fact"], p["who"] == "lead", v.failed

    def check(facts: Facts) -> Result:
        day, investors = facts.get(date_fact), facts.get("investing_vcs")
        if day is None or investors is None:
            return absent(v, facts, date_fact, "investing_vcs")
        investors = tuple(investors)
        vcs = tuple([vc for vc in investors if vc.is_lead]) if lead_only else investors
        for vc in vcs:
            if not vc.certified_at(day):
                return failed, (day, vcs, investors), v
        return bool(vcs) or failed, (day, vcs, investors), v

    return check


def _certified_on_compared(
    p: Params, raw: tuple[date, tuple[VcCertification, ...], tuple[VcCertification, ...]]
) -> dict[str, Any]:
    day, vcs, investors = raw
    lapsed = [vc.name for vc in vcs if not vc.certified_at(day)]
    return {
        "date": day.isoformat(),
        "who": p["who"],
        "total": len(vcs),
        "certified": len(vcs) - len(lapsed),
        "not_certified": ", ".join(lapsed),
        "investors": [_investor(vc, day) for vc in investors],
    }


def _investor(vc: VcCertification, day: date) -> dict[str, Any]:
    """One investor as the trace shows it: whether its money counts on `day`, and why."""
    standing = vc.standing(day)
    since = {"certified": vc.certified_on, "not_yet": vc.certified_on}.get(standing)
    since = since or {"revoked": vc.revoked_on, "expired": vc.expires_on}.get(standing)
    return {
        "name": vc.name,
        "amount": vc.amount,
        "lead": vc.is_lead,
        "standing": standing,
        "since": since.isoformat() if since else None,
    }


def _review_quorum(p: Params, v: Variant) -> Checker:
    required, failed = p["min"], v.failed

    def check(facts: Facts) -> Result:
        approvals = facts.get("eligible_approvals")
        if approvals is None:
            return None, ("eligible_approvals",), v
        return approvals >= required or failed, (approvals, facts.get("eligible_reviewers")), v

    return check


def _review_quorum_compared(p: Params, raw: tuple[int, int | None]) -> dict[str, Any]:
    approvals, reviewers = raw
    compared = {"approvals": approvals, "required": p["min"]}
    return compared if reviewers is None else compared | {"reviewers": reviewers}


def _pro_rata_paid_in(p: Params, v: Variant) -> Checker:
    return _two_facts(v, "paid_in_total", "cumulative_subsidy", operator.ge, p["ratio"])


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
        lambda p, v: _ratio(p, v, operator.ge),
        lambda p, raw: _ratio_compared(p, raw, at_least=True),
    ),
    "max_ratio": RuleType(
        _FRACTION,
        lambda p, v: _ratio(p, v, operator.le),
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
        _pair("prior_milestones_approved", "prior_milestones_total", operator.ge),
        lambda p, raw: {"approved": raw[0], "total": raw[1]},
    ),
    "review_quorum": RuleType(
        {"min": Param(ParamKind.COUNT, minimum=1)}, _review_quorum, _review_quorum_compared
    ),
    "within_budget_pool": RuleType(
        {},
        _pair("tranche_amount", "pool_available", operator.le),  # amount <= pool
        lambda p, raw: {"actual": raw[0], "limit": raw[1]},
    ),
    "pro_rata_paid_in": RuleType({"ratio": _RATIO}, _pro_rata_paid_in, _pro_rata_compared),
}


def _amount_bound(p: Params) -> UpperBound:
    bound = p["fact"], p["amount"]
    return lambda raw: bound


def _ratio_bound(p: Params) -> UpperBound:
    """The numerator fact, capped at floor_yen(base, ratio)."""
    fact, ratio = p["numerator"], p["ratio"]
    top, bottom = ratio.numerator, ratio.denominator

    def bound(raw: tuple[int, int]) -> tuple[str, int]:
        base = raw[1]
        if type(base) is int:  # floor_yen's arithmetic, skipping its checks and Fraction reads
            return fact, base * top // bottom
        return fact, floor_yen(base, ratio)  # which refuses what is not whole yen

    return bound


# Rule types that put an upper bound on a fact: from the params, (raw -> (fact, bound)).
UPPER_BOUNDS: dict[str, Callable[[Params], UpperBound]] = {
    "max_amount": _amount_bound,
    "max_ratio": _ratio_bound,
}
