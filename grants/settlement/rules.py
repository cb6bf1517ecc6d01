"""A results report's states, and a grant's settlement periods: which milestones each holds,
when it ends and when its report is due."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

from grants.core.calendar import fiscal_year_bounds, fiscal_year_label
from grants.core.errors import Conflict
from grants.core.problems import N_, Problem
from grants.core.states import Label
from grants.rules.settlement import ExcessMethod, PaymentMode, PeriodKind, period_key


class ReportState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"  # returned to the grantee for correction
    inspected = "inspected"  # every line accepted or adjusted; awaits the second officer
    confirmed = "confirmed"  # the final amount is confirmed (awards.models.Settlement)


_R = ReportState
REPORT_TRANSITIONS: Final[Mapping[ReportState, frozenset[ReportState]]] = {
    _R.draft: frozenset({_R.submitted}),
    _R.submitted: frozenset({_R.returned, _R.inspected}),
    _R.returned: frozenset({_R.submitted}),
    _R.inspected: frozenset({_R.inspected, _R.returned, _R.confirmed}),
    _R.confirmed: frozenset(),
}
# The grantee edits the report in these states.
EDITABLE: Final = frozenset({_R.draft, _R.returned})

# By enum first: members of different enums with the same value are equal (StrEnum).
LABELS: Final[Mapping[type[StrEnum], Mapping[Any, Label]]] = {
    ReportState: {
        _R.draft: Label("下書き", "Draft"),
        _R.submitted: Label("提出済み", "Submitted"),
        _R.returned: Label("差し戻し(修正依頼)", "Returned for correction"),
        _R.inspected: Label("確定検査済み(確認待ち)", "Inspected (awaiting confirmation)"),
        _R.confirmed: Label("額の確定済み", "Final amount confirmed"),
    },
    PaymentMode: {
        PaymentMode.after_settlement: Label("精算払", "Payment after settlement"),
        PaymentMode.advance: Label("概算払", "Advance payment"),
    },
    ExcessMethod: {
        ExcessMethod.returned: Label("返還", "Returned"),
        ExcessMethod.set_off: Label("次回交付額と相殺", "Set off against the next tranche"),
    },
}


def label(member: StrEnum, locale: str) -> str:
    return LABELS[type(member)][member].text(locale)


@dataclass(frozen=True)
class Said:
    """A report state, payment mode or excess method in a message, in the reader's language."""

    member: StrEnum

    def localised(self, locale: str) -> str:
        return label(self.member, locale)


def report_transition(current: ReportState, target: ReportState) -> ReportState:
    if target in REPORT_TRANSITIONS[current]:
        return target
    raise Conflict(
        N_(
            "This results report is “%(state)s” and cannot become “%(target)s”.",
            state=Said(current),
            target=Said(target),
        )
    )


@dataclass(frozen=True)
class PeriodMilestone:
    id: int
    sequence: int
    fiscal_year: int
    due_date: date
    tranche: int
    approved: bool


@dataclass(frozen=True)
class Period:
    """A settlement period of a grant: a fiscal year ("fy2026") or a milestone ("m2")."""

    key: str
    kind: PeriodKind
    fiscal_year: int
    end: date
    milestones: tuple[PeriodMilestone, ...]

    @property
    def milestone_id(self) -> int | None:
        if self.kind is PeriodKind.milestone and self.milestones:
            return self.milestones[0].id
        return None

    @property
    def decided(self) -> int:
        """The period's decided tranches: those of its approved milestones (a milestone not
        cleared releases nothing)."""
        return sum(m.tranche for m in self.milestones if m.approved)

    def due_on(self, report_due_days: int) -> date:
        return self.end + timedelta(days=report_due_days)

    def ended(self, today: date) -> bool:
        """A fiscal year ends on 31 March; a milestone at its due date, or once approved."""
        if self.kind is PeriodKind.milestone and any(m.approved for m in self.milestones):
            return True
        return today > self.end

    def name(self, locale: str) -> str:
        if self.kind is PeriodKind.fiscal_year:
            return fiscal_year_label(self.fiscal_year, locale)
        sequence = self.key.removeprefix("m")  # also for a period whose milestone was cancelled
        return f"マイルストーン{sequence}" if locale.startswith("ja") else f"Milestone {sequence}"


@dataclass(frozen=True)
class PeriodName:
    period: Period

    def localised(self, locale: str) -> str:
        return self.period.name(locale)


def periods(kind: PeriodKind, milestones: Iterable[PeriodMilestone]) -> list[Period]:
    """A grant's settlement periods in order, from its milestones (cancelled ones left out
    by the caller)."""
    ordered = sorted(milestones, key=lambda m: m.sequence)
    if kind is PeriodKind.milestone:
        return [
            Period(
                period_key(kind, m.sequence, m.fiscal_year), kind, m.fiscal_year, m.due_date, (m,)
            )
            for m in ordered
        ]
    years = sorted({m.fiscal_year for m in ordered})
    return [
        Period(
            period_key(kind, 0, year),
            kind,
            year,
            fiscal_year_bounds(year)[1],
            tuple(m for m in ordered if m.fiscal_year == year),
        )
        for year in years
    ]


def find_period(found: list[Period], key: str) -> Period | None:
    return next((period for period in found if period.key == key), None)


def not_ended(period: Period) -> Problem:
    return N_(
        "%(period)s has not ended yet: its results report can be filed from the day after it ends.",
        period=PeriodName(period),
    )
