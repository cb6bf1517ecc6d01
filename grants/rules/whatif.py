"""What-if: how a draft RuleSet changes outcomes compared with the one in force."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from grants.core.problems import N_
from grants.rules.trace import Trace, TraceRow


class Change(StrEnum):
    NEWLY_ELIGIBLE = "newly_eligible"
    NEWLY_BLOCKED = "newly_blocked"
    CHANGED_BLOCKERS = "changed_blockers"  # blocked before and after, by different rules
    CHANGED_WARNINGS = "changed_warnings"
    UNCHANGED = "unchanged"


CHANGE_LABELS = {
    Change.NEWLY_ELIGIBLE: N_("Newly eligible"),
    Change.NEWLY_BLOCKED: N_("Newly blocked"),
    Change.CHANGED_BLOCKERS: N_("Blocked by other rules"),
    Change.CHANGED_WARNINGS: N_("Different warnings"),
    Change.UNCHANGED: N_("Unchanged"),
}


def compare_traces(before: Trace | None, after: Trace) -> Change:
    """`before` is None when there was nothing to compare with (e.g. no published rules)."""
    if before is None:
        return Change.NEWLY_ELIGIBLE if after.ok else Change.NEWLY_BLOCKED
    if before.ok != after.ok:
        return Change.NEWLY_ELIGIBLE if after.ok else Change.NEWLY_BLOCKED
    if _ids(before.blocking) != _ids(after.blocking):
        return Change.CHANGED_BLOCKERS
    if _ids(before.warnings) != _ids(after.warnings):
        return Change.CHANGED_WARNINGS
    return Change.UNCHANGED


def summarise(pairs: Iterable[tuple[Trace | None, Trace]]) -> dict[Change, int]:
    """How many of each change, every kind present (0 when none)."""
    counts = dict.fromkeys(Change, 0)
    for before, after in pairs:
        counts[compare_traces(before, after)] += 1
    return counts


def _ids(rows: list[TraceRow]) -> set[str]:
    return {row.rule_id for row in rows}
