"""Scheduled alerts: which tiers are due on a given day, and the e-mail retry schedule.

Pure date arithmetic over a rule set's `Schedule` (grants.rules.engine). The
set-based scan (alerts.scan.service) turns the same windows and cut-offs into SQL;
`due_tiers` answers the same question for one milestone, so tests can compare the two.

Definitions ("today" is a Tokyo date, always an argument):

- due_soon tier k (offsets sorted from the furthest, 30 then 7 by default) is due while
  today + next offset < due_date <= today + offset_k and today <= due_date. A later tier
  supersedes an earlier one: a milestone first seen 5 days before its due date gets the
  7-day reminder only, not a stale 30-day one as well.
- overdue: due_date + grace_days < today while the milestone awaits evidence (planned or
  changes_requested). It is overdue since due_date + grace_days + 1 day.
- escalation tier k: days overdue = today - (due_date + grace_days) >= escalation_days[k];
  every tier reached is due (tier 1 goes to the officers, later tiers to the admins).
- review_waiting: an assigned reviewer has not decided `review_waiting_days` days after the
  later of the assignment and the latest submission (tier 1, to the reviewer); after twice
  that many days the officers are told (tier 2).
- tranche_waiting: an approved milestone without a disbursement `tranche_waiting_days`
  days after its decision (tier 1, to the officers), caught up for ALERT_CATCH_UP_DAYS
  after that day only (approved milestones pile up for ever; the scan reads recent ones).

Exactly once: one alert per (recipient, subject, kind, tier). A subject that already had
an alert of a tier in an audience is skipped, so a user who joins later (a new officer)
receives the next tiers, not the backlog.

After a scan of day `since` made every alert due that day, a scan of a later day needs
only what reached a tier after `since` (`reached_after`, and the `not_before` of the
waiting cut-offs), besides whatever changed since; the scan finds the changes in the
audit log.

A number of days between an instant and `today` counts Tokyo calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final

from grants.core.alert_kinds import AlertKind
from grants.core.calendar import TOKYO
from grants.core.identity import Role
from grants.core.states import (
    AWAITING_EVIDENCE,
    RUNNING,
    AmendmentState,
    ApplicationState,
    MilestoneState,
)
from grants.rules.engine import Schedule
from grants.rules.schema import DAYS_MAX


class Audience(StrEnum):
    grantee = "grantee"  # active applicant users of the grantee organisation
    reviewer = "reviewer"  # the assigned reviewer concerned
    officers = "officers"  # every active programme officer
    admins = "admins"  # every active administrator


# The staff audiences: the active users with these roles.
STAFF_ROLES: Final[Mapping[Audience, Role]] = {
    Audience.reviewer: Role.reviewer,
    Audience.officers: Role.officer,
    Audience.admins: Role.admin,
}


# A milestone still open: shown in calendar feeds.
OPEN_STATES: Final = (
    MilestoneState.planned,
    MilestoneState.submitted,
    MilestoneState.changes_requested,
)


# --- schedules ------------------------------------------------------------------------


def schedule_from(raw: Any, defaults: Schedule) -> Schedule:
    """A rule set document's "schedule" section, completed and tidied with `defaults`.

    Offsets are de-duplicated; due_soon offsets sorted from the furthest, escalation
    days from the nearest. A missing or malformed value (also one beyond DAYS_MAX, which a
    document stored before that bound may hold) falls back to its default.
    """
    section: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    return Schedule(
        due_soon_days=tuple(
            sorted(set(_days(section.get("due_soon_days"), defaults.due_soon_days)), reverse=True)
        ),
        grace_days=_day(section.get("grace_days"), defaults.grace_days),
        escalation_days=tuple(
            sorted(set(_days(section.get("escalation_days"), defaults.escalation_days)))
        ),
        review_waiting_days=_day(section.get("review_waiting_days"), defaults.review_waiting_days),
        tranche_waiting_days=_day(
            section.get("tranche_waiting_days"), defaults.tranche_waiting_days
        ),
    )


def _day(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DAYS_MAX:
        return value
    return default


def _days(value: Any, default: tuple[int, ...]) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        return default
    return tuple(_day(item, -1) for item in value if _day(item, -1) >= 0)


# --- windows the scan turns into SQL --------------------------------------------------


@dataclass(frozen=True)
class DueWindow:
    """due_soon tier `tier` is due for milestones with first_due <= due_date <= last_due."""

    tier: int
    offset: int
    first_due: date
    last_due: date


@dataclass(frozen=True)
class Cutoff:
    """Tier `tier` is due for milestones due on or before `last_due`."""

    tier: int
    days: int
    last_due: date
    audience: Audience


@dataclass(frozen=True)
class DueDateTier:
    """(kind, tier) is due to `audience` for a milestone awaiting evidence with
    first_due <= due_date <= last_due; last_due is where the tier is reached."""

    kind: AlertKind
    tier: int
    audience: Audience
    first_due: date
    last_due: date


@dataclass(frozen=True)
class WaitingCutoff:
    """Tier `tier` is due when the waiting started strictly before `before` (UTC); with
    `not_before`, only for a waiting that started at or after it (the rest was due before)."""

    tier: int
    days: int
    before: datetime
    audience: Audience
    not_before: datetime | None = None


def due_soon_windows(schedule: Schedule, today: date) -> list[DueWindow]:
    offsets = sorted(set(schedule.due_soon_days), reverse=True)
    windows = []
    for index, offset in enumerate(offsets):
        nearer = offsets[index + 1] if index + 1 < len(offsets) else None
        first = today if nearer is None else today + timedelta(days=nearer + 1)
        windows.append(DueWindow(index + 1, offset, first, today + timedelta(days=offset)))
    return windows


def overdue_last_due(schedule: Schedule, today: date) -> date:
    """The latest due date that is overdue today: due_date + grace_days < today."""
    return today - timedelta(days=schedule.grace_days + 1)


def overdue_since(due_date: date, grace_days: int) -> date:
    """The first day a milestone counts as overdue."""
    return due_date + timedelta(days=grace_days + 1)


def escalation_cutoffs(schedule: Schedule, today: date) -> list[Cutoff]:
    days = sorted(set(schedule.escalation_days))
    return [
        Cutoff(
            tier=index + 1,
            days=day,
            last_due=today - timedelta(days=schedule.grace_days + day),
            audience=Audience.officers if index == 0 else Audience.admins,
        )
        for index, day in enumerate(days)
    ]


def due_date_tiers(schedule: Schedule, today: date) -> list[DueDateTier]:
    """Every tier set by the due date, in the order their alerts are numbered: the
    reminders and the overdue alert to the grantee, the overdue alert to the officers,
    then the escalation tiers (the first to the officers, later ones to the admins)."""
    overdue = overdue_last_due(schedule, today)
    grantee = [
        DueDateTier(AlertKind.due_soon, w.tier, Audience.grantee, w.first_due, w.last_due)
        for w in due_soon_windows(schedule, today)
    ]
    grantee.append(DueDateTier(AlertKind.overdue, 1, Audience.grantee, date.min, overdue))
    officers = [DueDateTier(AlertKind.overdue, 1, Audience.officers, date.min, overdue)]
    escalations = [
        DueDateTier(AlertKind.escalation, c.tier, c.audience, date.min, c.last_due)
        for c in escalation_cutoffs(schedule, today)
    ]
    return grantee + officers + escalations


def reached_after(schedule: Schedule, since: date, today: date) -> list[DueDateTier]:
    """The tiers of `today` narrowed to the due dates that reached them after `since`
    (empty tiers left out). A due date that had reached a tier by `since` either had
    its alert then or had passed the tier's window, which only moves forward."""
    then = {(t.kind, t.tier, t.audience): t.last_due for t in due_date_tiers(schedule, since)}
    narrowed = []
    for tier in due_date_tiers(schedule, today):
        first = max(tier.first_due, then[(tier.kind, tier.tier, tier.audience)] + timedelta(1))
        if first <= tier.last_due:
            narrowed.append(replace(tier, first_due=first))
    return narrowed


def scan_window(schedule: Schedule, today: date) -> tuple[date | None, date]:
    """Due dates of the milestones awaiting evidence that the scan reads: (None, last).

    None: no lower bound, since a milestone overdue for long is still overdue (its alerts
    exist already, which the scan checks; it creates nothing twice).
    """
    last = today + timedelta(days=max(schedule.due_soon_days, default=0))
    return None, max(last, overdue_last_due(schedule, today))


def day_start(day: date) -> datetime:
    """The UTC instant at which `day` begins in Tokyo."""
    return datetime.combine(day, time.min, tzinfo=TOKYO).astimezone(UTC)


def waited_before(today: date, days: int) -> datetime:
    """Something that started strictly before this instant has waited >= `days` Tokyo days."""
    return day_start(today - timedelta(days=days - 1))


def review_waiting_cutoffs(
    schedule: Schedule, today: date, since: date | None = None
) -> list[WaitingCutoff]:
    """Tier 1 to the waiting reviewer, tier 2 to the officers after twice as long; with
    `since`, only for waits that reached the tier after that day."""
    days = schedule.review_waiting_days
    return [
        _waiting(1, days, today, since, Audience.reviewer),
        _waiting(2, 2 * days, today, since, Audience.officers),
    ]


def tranche_waiting_cutoff(
    schedule: Schedule, today: date, since: date | None = None
) -> WaitingCutoff:
    return _waiting(1, schedule.tranche_waiting_days, today, since, Audience.officers)


def _waiting(
    tier: int, days: int, today: date, since: date | None, audience: Audience
) -> WaitingCutoff:
    not_before = None if since is None else waited_before(since, days)
    return WaitingCutoff(tier, days, waited_before(today, days), audience, not_before)


# --- the same rules for one milestone ---------------------------------------------------


def due_tiers(
    schedule: Schedule, today: date, due_date: date, state: MilestoneState
) -> list[tuple[AlertKind, int]]:
    """The (kind, tier) pairs due today for a milestone of an active grant (dates only)."""
    if MilestoneState(state) not in AWAITING_EVIDENCE:
        return []
    found: list[tuple[AlertKind, int]] = []
    for tier in due_date_tiers(schedule, today):
        if tier.first_due <= due_date <= tier.last_due and (tier.kind, tier.tier) not in found:
            found.append((tier.kind, tier.tier))
    return found


@dataclass(frozen=True)
class Since:
    """Where an alert's subject stands now, as far as its follow-up goes (the inbox reads it;
    what does not apply to a kind is left at its default)."""

    milestone_state: str | None = None
    released: bool = False  # the milestone's tranche is out
    current_round: bool = True  # the alert's evidence round is still the milestone's latest
    reviewed: bool = False  # the recipient has decided on that round
    grant_state: str | None = None
    application_state: str | None = None
    amendment_state: str | None = None
    verified: bool = False  # the investment was verified


# Kinds that only inform: nothing is asked of their recipients, so they never settle.
_INFORMING: Final = frozenset(
    {
        AlertKind.application_screened,
        AlertKind.application_awarded,
        AlertKind.application_rejected,
        AlertKind.reviewer_assigned,
        AlertKind.milestone_approved,
        AlertKind.tranche_released,
        AlertKind.amendment_decided,
        AlertKind.grant_terminated,
    }
)


def settled(kind: AlertKind, since: Since) -> bool:
    """What the alert asked for has happened, or can no longer happen: the evidence came
    (or the milestone was cancelled); the review round was decided, reviewed by this
    recipient or superseded by a new round; the tranche went out; the application was
    screened; the changes were resubmitted; an officer decided after a no-go (the grant no
    longer runs); the amendment was decided or withdrawn; the investment was verified."""
    if kind in _INFORMING:
        return False
    if kind is AlertKind.application_submitted:
        return since.application_state != ApplicationState.submitted
    if kind is AlertKind.amendment_requested:
        return since.amendment_state != AmendmentState.requested
    if kind is AlertKind.investment_recorded:
        return since.verified
    if kind is AlertKind.milestone_rejected:
        return since.grant_state not in RUNNING
    if since.milestone_state is None:
        return False
    state = MilestoneState(since.milestone_state)
    if kind in (AlertKind.review_waiting, AlertKind.evidence_submitted):
        return state != MilestoneState.submitted or not since.current_round or since.reviewed
    if kind in (AlertKind.tranche_waiting, AlertKind.tranche_ready):
        return since.released or state != MilestoneState.approved
    if kind is AlertKind.changes_requested:
        return state != MilestoneState.changes_requested or not since.current_round
    return state not in AWAITING_EVIDENCE


def days_waiting(since: datetime, today: date) -> int:
    """Tokyo calendar days from the instant `since` to `today`."""
    return (today - since.astimezone(TOKYO).date()).days


# --- e-mail retries -------------------------------------------------------------------


def retry_delay(attempts: int, base_seconds: int, cap_seconds: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base ... up to cap."""
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    exponent = min(attempts - 1, 32)  # 2**32 x base is past any cap
    return timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


def retry_schedule(failures: int, base_seconds: int, cap_seconds: int) -> list[timedelta]:
    """The delays after each of `failures` consecutive failures, for display and tests."""
    return [retry_delay(n, base_seconds, cap_seconds) for n in range(1, failures + 1)]
