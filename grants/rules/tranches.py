"""How an award is spread over the plan's tranches, and what it commits per fiscal year.

An award below the plan's total cuts the tranches from the last one backwards; each
tranche is committed to the budget pool of the fiscal year of its milestone's due date.
The award use case commits them so (awards.service); the merit review's funding line
counts them so before anything is awarded (merit_review.rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from grants.core.calendar import fiscal_year


def reduced_tranches(tranches: Sequence[int], award: int) -> list[int]:
    """Cut the tranches from the last one backwards until they add up to `award` (never < 0)."""
    result = list(tranches)
    excess = sum(result) - award
    for index in range(len(result) - 1, -1, -1):
        if excess <= 0:
            break
        cut = min(excess, result[index])
        result[index] -= cut
        excess -= cut
    return result


def by_fiscal_year(due_dates: Sequence[date], tranches: Sequence[int]) -> dict[int, int]:
    """The yen each fiscal year's pool takes: the tranches by their due date's fiscal year
    (April to March); tranches of 0 yen take nothing."""
    needed: dict[int, int] = defaultdict(int)
    for due, amount in zip(due_dates, tranches, strict=True):
        if amount > 0:
            needed[fiscal_year(due)] += amount
    return dict(sorted(needed.items()))
