"""A pass of the milestone scan: which grants and milestones it reads, and its parameters.

The scan's statements (alerts.scan.statements) depend only on a pass's `Shape`: the
due-date tiers of its schedule, which staff audiences have anyone in them, and what it
reads. Everything that moves from day to day (the dates, the staff, the rule sets, the
changed milestones) goes in as bound parameters, `Pass.parameters()`, so that each
shape's statements are built once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from grants.alerts import rules
from grants.alerts.rules import Audience
from grants.core.alert_kinds import AlertKind
from grants.rules import Schedule

# "No lower bound" / "no upper bound" for a due date, in a form both databases compare.
EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)


class Reads(Enum):
    everything = "every candidate"
    since = "what reached a tier after the last scan's day"
    changed = "the milestones changed since the last scan"


@dataclass(frozen=True)
class Shape:
    """What the SQL of a pass depends on."""

    tiers: tuple[tuple[AlertKind, int, Audience], ...]  # the due-date tiers, in order
    staffed: frozenset[Audience]  # staff audiences with at least one active user
    reads: Reads


@dataclass(frozen=True)
class Pass:
    """One schedule's pass: the grants that use it, the day, the creation time, the staff.

    A pass reads every candidate; with `since`, only what reached a tier after the scan
    of that day; with `milestone_ids`, only those milestones (changed since the last scan).
    """

    schedule: Schedule
    ruleset_ids: tuple[int, ...]
    today: date
    now: datetime
    staff: Mapping[Audience, tuple[int, ...]]  # active officers, admins and reviewers
    catch_up_days: int
    since: date | None = None
    milestone_ids: tuple[int, ...] | None = None

    @property
    def reads(self) -> Reads:
        if self.milestone_ids is not None:
            return Reads.changed
        return Reads.everything if self.since is None else Reads.since

    def tiers(self) -> list[rules.DueDateTier]:
        if self.since is None:
            return rules.due_date_tiers(self.schedule, self.today)
        return rules.reached_after(self.schedule, self.since, self.today)

    def shape(self) -> Shape:
        return Shape(
            tiers=tuple((t.kind, t.tier, t.audience) for t in self.tiers()),
            staffed=frozenset(audience for audience, ids in self.staff.items() if ids),
            reads=self.reads,
        )

    def parameters(self) -> dict[str, Any]:
        """Every bound parameter of the pass's statements, by name."""
        found: dict[str, Any] = {
            "today": self.today,
            "now": self.now,
            "ruleset_ids": list(self.ruleset_ids),
            "milestone_ids": list(self.milestone_ids or ()),
            "officers": list(self.staff[Audience.officers]),
            "admins": list(self.staff[Audience.admins]),
            "reviewers": list(self.staff[Audience.reviewer]),
        }
        for position, tier in enumerate(self.tiers()):
            found[f"first_due_{position}"] = tier.first_due
            found[f"last_due_{position}"] = tier.last_due
        for cutoff in rules.review_waiting_cutoffs(self.schedule, self.today, self.since):
            found[f"review_before_{cutoff.tier}"] = cutoff.before
            found[f"review_not_before_{cutoff.tier}"] = cutoff.not_before
        return found | self._tranche_parameters() | self._overdue_parameters()

    def _tranche_parameters(self) -> dict[str, Any]:
        """Approved, unreleased: decisions within the catch-up period only, as approved
        milestones pile up for ever (one approved long ago was flagged back then)."""
        cutoff = rules.tranche_waiting_cutoff(self.schedule, self.today, self.since)
        since = rules.waited_before(self.today, cutoff.days + self.catch_up_days + 1)
        if cutoff.not_before is not None:
            since = max(since, cutoff.not_before)
        return {"tranche_before": cutoff.before, "tranche_since": since}

    def _overdue_parameters(self) -> dict[str, Any]:
        """The due dates that are overdue today; with `since`, those that became so after."""
        first = EARLIEST
        if self.since is not None:
            first = rules.overdue_last_due(self.schedule, self.since) + timedelta(days=1)
        return {
            "overdue_first": first,
            "overdue_last": rules.overdue_last_due(self.schedule, self.today),
        }
