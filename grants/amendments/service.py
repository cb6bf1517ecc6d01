"""Amendments: the grantee asks to move a due date or re-split open tranches; an officer decides.

Approval re-checks every limit against the current data (the programme end date, the
pinned rule set's maximum extension, the budget pools) and then changes the milestones
and the pools' commitments in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from grants.accounts.queries import active_officers, organisation_applicants
from grants.amendments.queries import open_milestones
from grants.awards.models import Amendment, Grant, Milestone
from grants.awards.queries import get_grant, pending_for_grant, released_ids, require_on_grant
from grants.awards.rules import grant_allows
from grants.awards.service import lock_grant, lock_milestones
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import Day, FiscalYear, fiscal_year, tokyo_today
from grants.core.db import use_case
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import YEN_MAX, Amount
from grants.core.permissions import Action
from grants.core.problems import N_, Problem
from grants.core.states import AWAITING_EVIDENCE, AmendmentKind, AmendmentState, transition
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.programs.service import lock_pools
from grants.rulesets import service as rulesets

REASON_MAX = 2000
SPLIT = "new_split"
Split = Mapping[int, int]
Errors = dict[str, list[Problem]]


@use_case
def request_amendment(
    actor: Actor,
    grant_id: int,
    kind: AmendmentKind | str,
    milestone_id: int | None,
    new_due_date: date | None,
    new_split: Split | None,
    reason: str,
    today: date,
) -> Amendment:
    """The grantee asks for a new due date for one open milestone, or a re-split of tranches.

    A milestone has at most one pending request: one touching a milestone that another
    request still waiting for a decision touches is refused (the grant's row lock keeps two
    requests sent at the same moment from both getting through).
    """
    grant = get_grant(grant_id)
    require_on_grant(Action.request_amendment, actor, grant)
    grant = lock_grant(grant_id)
    if not grant_allows(Action.request_amendment, grant.state):
        raise Conflict(N_("Amendments can be requested only for active grants."))
    kind = _kind(kind)
    reason = (reason or "").strip()
    errors: Errors = {}
    _check_reason(reason, errors)
    amendment = Amendment(grant_id=grant.id, kind=kind, state=AmendmentState.requested)
    if kind == AmendmentKind.due_date:
        milestone = _check_due_date(grant, milestone_id, new_due_date, today, errors)
        amendment.milestone_id = milestone.id if milestone else None
        amendment.new_due_date = new_due_date
    else:
        split = _check_split(grant, new_split, errors)
        amendment.new_split = {str(mid): amount for mid, amount in split.items()}
    _check_pending(grant, amendment, errors)
    if errors:
        raise RuleViolation(N_("The amendment could not be requested."), errors)
    amendment.reason = reason
    amendment.requested_by_id = actor.id
    amendment.requested_at = utcnow()
    db.session.add(amendment)
    audit.record(actor, "amendment.request", amendment, after=request_snapshot(amendment))
    notify.record(
        actor,
        active_officers(),
        AlertKind.amendment_requested,
        SubjectType.amendment,
        amendment.id,
        today=today,
        grant_id=grant.id,
        milestone_id=amendment.milestone_id,
    )
    db.session.commit()
    return amendment


@use_case
def withdraw_amendment(actor: Actor, amendment_id: int) -> Amendment:
    """The person who asked takes the request back before it is decided."""
    amendment = get_amendment(amendment_id)
    require_on_grant(Action.request_amendment, actor, get_grant(amendment.grant_id))
    if actor.id is None or amendment.requested_by_id != actor.id:
        raise NotAllowed(N_("Only the person who requested an amendment can withdraw it."))
    amendment = _lock(amendment_id)
    amendment.state = transition(amendment.state, AmendmentState.withdrawn)
    audit.record(
        actor, "amendment.withdraw", amendment, {"state": "requested"}, {"state": "withdrawn"}
    )
    db.session.commit()
    return amendment


@use_case
def decide_amendment(
    actor: Actor, amendment_id: int, approve: bool, note: str, today: date
) -> Amendment:
    """Approve (changing the milestones and the pools) or decline (with a note) a request."""
    amendment = get_amendment(amendment_id)
    require_on_grant(Action.decide_amendment, actor, get_grant(amendment.grant_id))
    note = (note or "").strip()
    if not approve and not note:
        message = N_("Say why the amendment is declined.")
        raise RuleViolation(message, {"note": [message]})
    grant = lock_grant(amendment.grant_id)
    amendment = _lock(amendment_id)
    target = transition(
        amendment.state, AmendmentState.approved if approve else AmendmentState.declined
    )
    before: dict[str, Any] = {"state": "requested"}
    after: dict[str, Any] = {"state": str(target), "note": note}
    if approve:
        snapshot = _apply(grant, amendment, today)
        amendment.snapshot = snapshot
        before |= {"milestones": snapshot["before"], "pools": snapshot["pools_before"]}
        after |= {"milestones": snapshot["after"], "pools": snapshot["pools_after"]}
    amendment.state = target
    amendment.decided_by_id = actor.id
    amendment.decided_at = utcnow()
    amendment.decision_note = note or None
    audit.record(
        actor, f"amendment.{'approve' if approve else 'decline'}", amendment, before, after
    )
    notify.record(
        actor,
        organisation_applicants(grant.organization_id),
        AlertKind.amendment_decided,
        SubjectType.amendment,
        amendment.id,
        today=today,
        grant_id=grant.id,
        milestone_id=amendment.milestone_id,
    )
    db.session.commit()
    return amendment


def split_key(milestone_id: int) -> str:
    """Where a problem with one milestone's new tranche is reported: `new_split.<its id>`."""
    return f"{SPLIT}.{milestone_id}"


def touched_milestones(amendment: Amendment, tranches: Mapping[int, int]) -> set[int]:
    """The ids of the milestones a request would change: the one it moves, or those whose
    tranche it sets to another amount than now (`tranches`: milestone id -> amount)."""
    if amendment.kind == AmendmentKind.due_date:
        return {amendment.milestone_id} if amendment.milestone_id is not None else set()
    split = amendment.new_split or {}
    return {int(mid) for mid, amount in split.items() if tranches.get(int(mid)) != amount}


def get_amendment(amendment_id: int) -> Amendment:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound(N_("Not found."))
    return amendment


def request_snapshot(amendment: Amendment) -> dict[str, Any]:
    return {
        "kind": str(amendment.kind),
        "milestone_id": amendment.milestone_id,
        "new_due_date": amendment.new_due_date.isoformat() if amendment.new_due_date else None,
        "new_split": amendment.new_split,
        "reason": amendment.reason,
    }


# --- request checks ---------------------------------------------------------------------


def _kind(kind: AmendmentKind | str) -> AmendmentKind:
    try:
        return AmendmentKind(kind)
    except ValueError:
        message = N_("Choose what to change.")
        raise RuleViolation(message, {"kind": [message]}) from None


def _check_reason(reason: str, errors: Errors) -> None:
    if not reason:
        errors["reason"] = [N_("Explain why the change is needed.")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [N_("At most %(count)d characters.", count=REASON_MAX)]


def _check_due_date(
    grant: Grant,
    milestone_id: int | None,
    new_due_date: date | None,
    today: date,
    errors: Errors,
) -> Milestone | None:
    milestone = next((m for m in open_milestones(grant) if m.id == milestone_id), None)
    if milestone is None:
        errors["milestone_id"] = [N_("Choose an open milestone of this grant.")]
    if new_due_date is None:
        errors["new_due_date"] = [N_("Enter the new due date.")]
    elif milestone is not None and new_due_date == milestone.due_date:
        errors["new_due_date"] = [N_("This is already the due date.")]
    elif message := _date_problem(grant, milestone, new_due_date, today):
        errors["new_due_date"] = [message]
    return milestone


def _check_split(grant: Grant, new_split: Split | None, errors: Errors) -> dict[int, int]:
    split = dict(new_split or {})
    open_ones = {m.id: m for m in open_milestones(grant)}
    if not split:
        errors["new_split"] = [N_("Enter the new tranche amounts.")]
        return split
    if not set(split) <= set(open_ones):
        errors["new_split"] = [N_("Only open milestones whose tranche is not released can change.")]
        return split
    for mid, amount in split.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors[split_key(mid)] = [N_("Enter a whole number of yen, zero or more.")]
        elif amount > YEN_MAX:
            errors[split_key(mid)] = [N_("This amount is too large.")]
    if any(key.startswith(f"{SPLIT}.") for key in errors):
        return split
    old_total = sum(open_ones[mid].tranche_amount for mid in split)
    if sum(split.values()) != old_total:
        errors["new_split"] = [
            N_(
                "The new amounts must add up to the current total of %(total)s.",
                total=Amount(old_total),
            )
        ]
    elif all(open_ones[mid].tranche_amount == amount for mid, amount in split.items()):
        errors["new_split"] = [N_("The new amounts are the same as the current ones.")]
    return split


def _check_pending(grant: Grant, amendment: Amendment, errors: Errors) -> None:
    """Refuse a request for a milestone another pending request already covers: each
    decision is taken on the milestone as the grantee saw it when asking."""
    tranches = {m.id: m.tranche_amount for m in grant.milestones}
    sequences = {m.id: m.sequence for m in grant.milestones}
    wanted = touched_milestones(amendment, tranches)
    for pending in pending_for_grant(grant.id):
        overlap = wanted & touched_milestones(pending, tranches)
        for mid in sorted(overlap, key=lambda mid: sequences.get(mid, 0)):
            key = "milestone_id" if amendment.kind == AmendmentKind.due_date else split_key(mid)
            errors.setdefault(key, []).append(
                N_(
                    "Milestone %(sequence)d already has an amendment request waiting for a "
                    "decision (requested on %(day)s). Wait for the decision, or withdraw that "
                    "request first.",
                    sequence=sequences.get(mid, 0),
                    day=Day(tokyo_today(pending.requested_at)),
                )
            )


# --- approval ---------------------------------------------------------------------------


def _apply(grant: Grant, amendment: Amendment, today: date) -> dict[str, Any]:
    """Re-check the limits, move the commitments between pools, change the milestones."""
    if not grant_allows(Action.request_amendment, grant.state):  # as when it was asked
        raise Conflict(N_("Amendments can be approved only for active grants."))
    milestones = {m.id: m for m in lock_milestones(grant.id)}
    released = released_ids(grant.id)
    changes = _planned_changes(grant, amendment, milestones, released, today)
    before = {str(m.id): _milestone_numbers(m) for m in changes}
    pools = _move_commitments(grant, changes)
    pools_before = {str(year): numbers for year, numbers in pools[0].items()}
    for milestone, (due, amount) in changes.items():
        milestone.due_date = due
        milestone.fiscal_year = fiscal_year(due)
        milestone.tranche_amount = amount
        if milestone.overdue_since is not None and due > today:
            milestone.overdue_since = None
    return {
        "before": before,
        "after": {str(m.id): _milestone_numbers(m) for m in changes},
        "pools_before": pools_before,
        "pools_after": {str(year): numbers for year, numbers in pools[1].items()},
    }


def _planned_changes(
    grant: Grant,
    amendment: Amendment,
    milestones: dict[int, Milestone],
    released: set[int],
    today: date,
) -> dict[Milestone, tuple[date, int]]:
    """Each affected milestone with its new (due date, tranche amount)."""

    def still_open(mid: int | None) -> Milestone:
        milestone = milestones.get(mid) if mid is not None else None
        if milestone is None or milestone.state not in AWAITING_EVIDENCE or mid in released:
            raise Conflict(N_("The milestone is no longer open; this amendment cannot apply."))
        return milestone

    if amendment.kind == AmendmentKind.due_date:
        milestone = still_open(amendment.milestone_id)
        new_due = amendment.new_due_date
        assert new_due is not None
        _check_new_date(grant, milestone, new_due, today)
        return {milestone: (new_due, milestone.tranche_amount)}
    split = {int(mid): amount for mid, amount in (amendment.new_split or {}).items()}
    changes = {still_open(mid): amount for mid, amount in split.items()}
    if sum(changes.values()) != sum(m.tranche_amount for m in changes):
        raise Conflict(N_("The tranches changed since the request; their total no longer matches."))
    return {m: (m.due_date, amount) for m, amount in changes.items()}


def _check_new_date(grant: Grant, milestone: Milestone, new_due: date, today: date) -> None:
    if message := _date_problem(grant, milestone, new_due, today):
        raise RuleViolation(message, {"new_due_date": [message]})


def _date_problem(
    grant: Grant, milestone: Milestone | None, new_due: date, today: date
) -> Problem | None:
    """Why `new_due` is not allowed: not after today, past the programme, out of the
    milestones' order, too long an extension."""
    end = grant.program.end_date
    if new_due <= today:
        return N_("The new due date must be after today.")
    if new_due > end:
        return N_(
            "The new due date is after the programme's end date (%(day)s).",
            day=Day(end),
        )
    if milestone is not None and (message := _order_problem(grant, milestone, new_due)):
        return message
    limit = rulesets.compiled(grant.ruleset).max_extension_days
    if milestone is not None and (new_due - milestone.due_date).days > limit:
        return N_(
            "The new due date extends the milestone by %(days)d days; at most %(limit)d are "
            "allowed.",
            days=(new_due - milestone.due_date).days,
            limit=limit,
        )
    return None


def _order_problem(grant: Grant, milestone: Milestone, new_due: date) -> Problem | None:
    """Milestones stay in their order: a new due date falls strictly after the previous
    milestone's due date and strictly before the next one's (as they stand now: at approval
    the milestones are locked and re-read, since other amendments may have moved them)."""
    others = [m for m in grant.milestones if m.id != milestone.id]
    before = max(
        (m for m in others if m.sequence < milestone.sequence), key=_sequence, default=None
    )
    after = min((m for m in others if m.sequence > milestone.sequence), key=_sequence, default=None)
    if before is not None and new_due <= before.due_date:
        return N_(
            "The new due date must be after the due date of milestone %(sequence)d "
            "(%(day)s): milestones stay in their order.",
            sequence=before.sequence,
            day=Day(before.due_date),
        )
    if after is not None and new_due >= after.due_date:
        return N_(
            "The new due date must be before the due date of milestone %(sequence)d "
            "(%(day)s): milestones stay in their order.",
            sequence=after.sequence,
            day=Day(after.due_date),
        )
    return None


def _sequence(milestone: Milestone) -> int:
    return milestone.sequence


def _move_commitments(
    grant: Grant, changes: dict[Milestone, tuple[date, int]]
) -> tuple[dict[int, dict[str, int]], dict[int, dict[str, int]]]:
    """Adjust `committed` per fiscal year; a pool that must take more needs the room."""
    delta: dict[int, int] = defaultdict(int)
    for milestone, (due, amount) in changes.items():
        delta[milestone.fiscal_year] -= milestone.tranche_amount
        delta[fiscal_year(due)] += amount
    moved = {year: change for year, change in delta.items() if change}
    pools = lock_pools(grant.program_id, moved)
    before = {year: _pool_numbers(pool) for year, pool in pools.items()}
    errors = [message for year, change in moved.items() if (message := _room(pools, year, change))]
    if errors:
        raise RuleViolation(N_("The budget pools cannot absorb this change."), {"pools": errors})
    for year, change in sorted(moved.items()):
        pools[year].committed = max(pools[year].committed + change, 0)
    return before, {year: _pool_numbers(pool) for year, pool in pools.items()}


def _room(pools: dict[int, BudgetPool], year: int, change: int) -> Problem | None:
    pool = pools.get(year)
    if pool is None:
        return N_(
            "There is no budget pool for %(year)s in this programme.",
            year=FiscalYear(year),
        )
    if change > pool.available:
        return N_(
            "The %(year)s budget pool has %(available)s available but needs %(needed)s more.",
            year=FiscalYear(year),
            available=Amount(pool.available),
            needed=Amount(change),
        )
    return None


def _milestone_numbers(milestone: Milestone) -> dict[str, Any]:
    return {
        "due_date": milestone.due_date.isoformat(),
        "fiscal_year": milestone.fiscal_year,
        "tranche_amount": milestone.tranche_amount,
    }


def _pool_numbers(pool: BudgetPool) -> dict[str, int]:
    return {"appropriation": pool.appropriation, "committed": pool.committed}


def _lock(amendment_id: int) -> Amendment:
    amendment = db.session.scalar(
        select(Amendment)
        .where(Amendment.id == amendment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if amendment is None:
        raise NotFound(N_("Not found."))
    return amendment
