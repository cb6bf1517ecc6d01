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

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from grants.awards.models import Amendment, Disbursement, Grant, Milestone
from grants.awards.queries import get_grant, pending_for_grant, require_on_grant
from grants.awards.service import lock_grant, lock_milestones
from grants.core import audit
from grants.core.actors import Actor
from grants.core.calendar import fiscal_year, fiscal_year_label, format_date, tokyo_today
from grants.core.db import use_case
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import YEN_MAX, format_yen
from grants.core.permissions import Action
from grants.core.states import (
    AWAITING_EVIDENCE,
    AmendmentKind,
    AmendmentState,
    GrantState,
    transition,
)
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.programs.service import lock_pools
from grants.rulesets import service as rulesets

REASON_MAX = 2000
Split = Mapping[int, int]


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
    if grant.state != GrantState.active:
        raise Conflict(_("Amendments can be requested only for active grants."))
    kind = _kind(kind)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
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
        raise RuleViolation(_("The amendment could not be requested."), errors)
    amendment.reason = reason
    amendment.requested_by_id = actor.id
    amendment.requested_at = utcnow()
    db.session.add(amendment)
    audit.record(actor, "amendment.request", amendment, after=request_snapshot(amendment))
    db.session.commit()
    return amendment


@use_case
def withdraw_amendment(actor: Actor, amendment_id: int) -> Amendment:
    """The person who asked takes the request back before it is decided."""
    amendment = get_amendment(amendment_id)
    require_on_grant(Action.request_amendment, actor, get_grant(amendment.grant_id))
    if actor.id is None or amendment.requested_by_id != actor.id:
        raise NotAllowed(_("Only the person who requested an amendment can withdraw it."))
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
        message = _("Say why the amendment is declined.")
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
    db.session.commit()
    return amendment


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
        raise NotFound(_("Not found."))
    return amendment


def for_grant(grant_id: int) -> list[Amendment]:
    query = select(Amendment).where(Amendment.grant_id == grant_id)
    return list(db.session.scalars(query.order_by(Amendment.requested_at.desc(), Amendment.id)))


def open_milestones(grant: Grant) -> list[Milestone]:
    """Milestones whose date or tranche may still change: open and not released."""
    released = _released_ids(grant.id)
    return [m for m in grant.milestones if m.state in AWAITING_EVIDENCE and m.id not in released]


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
        message = _("Choose what to change.")
        raise RuleViolation(message, {"kind": [message]}) from None


def _check_reason(reason: str, errors: dict[str, list[str]]) -> None:
    if not reason:
        errors["reason"] = [_("Explain why the change is needed.")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(count)d characters.", count=REASON_MAX)]


def _check_due_date(
    grant: Grant,
    milestone_id: int | None,
    new_due_date: date | None,
    today: date,
    errors: dict[str, list[str]],
) -> Milestone | None:
    milestone = next((m for m in open_milestones(grant) if m.id == milestone_id), None)
    if milestone is None:
        errors["milestone_id"] = [_("Choose an open milestone of this grant.")]
    if new_due_date is None:
        errors["new_due_date"] = [_("Enter the new due date.")]
    elif milestone is not None and new_due_date == milestone.due_date:
        errors["new_due_date"] = [_("This is already the due date.")]
    elif message := _date_problem(grant, milestone, new_due_date, today):
        errors["new_due_date"] = [message]
    return milestone


def _check_split(
    grant: Grant, new_split: Split | None, errors: dict[str, list[str]]
) -> dict[int, int]:
    split = dict(new_split or {})
    open_ones = {m.id: m for m in open_milestones(grant)}
    if not split:
        errors["new_split"] = [_("Enter the new tranche amounts.")]
        return split
    if not set(split) <= set(open_ones):
        errors["new_split"] = [_("Only open milestones whose tranche is not released can change.")]
        return split
    for mid, amount in split.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors[f"new_split_{mid}"] = [_("Enter a whole number of yen, zero or more.")]
        elif amount > YEN_MAX:
            errors[f"new_split_{mid}"] = [_("This amount is too large.")]
    if any(key.startswith("new_split_") for key in errors):
        return split
    old_total = sum(open_ones[mid].tranche_amount for mid in split)
    if sum(split.values()) != old_total:
        errors["new_split"] = [
            _(
                "The new amounts must add up to the current total of %(total)s.",
                total=format_yen(old_total, _locale()),
            )
        ]
    elif all(open_ones[mid].tranche_amount == amount for mid, amount in split.items()):
        errors["new_split"] = [_("The new amounts are the same as the current ones.")]
    return split


def _check_pending(grant: Grant, amendment: Amendment, errors: dict[str, list[str]]) -> None:
    """Refuse a request for a milestone another pending request already covers: each
    decision is taken on the milestone as the grantee saw it when asking."""
    tranches = {m.id: m.tranche_amount for m in grant.milestones}
    sequences = {m.id: m.sequence for m in grant.milestones}
    wanted = touched_milestones(amendment, tranches)
    locale = _locale()
    for pending in pending_for_grant(grant.id):
        overlap = wanted & touched_milestones(pending, tranches)
        for mid in sorted(overlap, key=lambda mid: sequences.get(mid, 0)):
            key = "milestone_id" if amendment.kind == AmendmentKind.due_date else f"new_split_{mid}"
            errors.setdefault(key, []).append(
                _(
                    "Milestone %(sequence)d already has an amendment request waiting for a "
                    "decision (requested on %(day)s). Wait for the decision, or withdraw that "
                    "request first.",
                    sequence=sequences.get(mid, 0),
                    day=format_date(tokyo_today(pending.requested_at), locale),
                )
            )


# --- approval ---------------------------------------------------------------------------


def _apply(grant: Grant, amendment: Amendment, today: date) -> dict[str, Any]:
    """Re-check the limits, move the commitments between pools, change the milestones."""
    if grant.state != GrantState.active:
        raise Conflict(_("Amendments can be approved only for active grants."))
    milestones = {m.id: m for m in lock_milestones(grant.id)}
    released = _released_ids(grant.id)
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
            raise Conflict(_("The milestone is no longer open; this amendment cannot apply."))
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
        raise Conflict(_("The tranches changed since the request; their total no longer matches."))
    return {m: (m.due_date, amount) for m, amount in changes.items()}


def _check_new_date(grant: Grant, milestone: Milestone, new_due: date, today: date) -> None:
    if message := _date_problem(grant, milestone, new_due, today):
        raise RuleViolation(message, {"new_due_date": [message]})


def _date_problem(
    grant: Grant, milestone: Milestone | None, new_due: date, today: date
) -> str | None:
    """Why `new_due` is not allowed: not after today, past the programme, out of the
    milestones' order, too long an extension."""
    end = grant.program.end_date
    if new_due <= today:
        return _("The new due date must be after today.")
    if new_due > end:
        return _(
            "The new due date is after the programme's end date (%(day)s).",
            day=format_date(end, _locale()),
        )
    if milestone is not None and (message := _order_problem(grant, milestone, new_due)):
        return message
    limit = rulesets.compiled(grant.ruleset).max_extension_days
    if milestone is not None and (new_due - milestone.due_date).days > limit:
        return _(
            "The new due date extends the milestone by %(days)d days; at most %(limit)d are "
            "allowed.",
            days=(new_due - milestone.due_date).days,
            limit=limit,
        )
    return None


def _order_problem(grant: Grant, milestone: Milestone, new_due: date) -> str | None:
    """Milestones stay in their order: a new due date falls strictly after the previous
    milestone's due date and strictly before the next one's (as they stand now: at approval
    the milestones are locked and re-read, since other amendments may have moved them)."""
    others = [m for m in grant.milestones if m.id != milestone.id]
    before = max(
        (m for m in others if m.sequence < milestone.sequence), key=_sequence, default=None
    )
    after = min((m for m in others if m.sequence > milestone.sequence), key=_sequence, default=None)
    locale = _locale()
    if before is not None and new_due <= before.due_date:
        return _(
            "The new due date must be after the due date of milestone %(sequence)d "
            "(%(day)s): milestones stay in their order.",
            sequence=before.sequence,
            day=format_date(before.due_date, locale),
        )
    if after is not None and new_due >= after.due_date:
        return _(
            "The new due date must be before the due date of milestone %(sequence)d "
            "(%(day)s): milestones stay in their order.",
            sequence=after.sequence,
            day=format_date(after.due_date, locale),
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
        raise RuleViolation(_("The budget pools cannot absorb this change."), {"pools": errors})
    for year, change in sorted(moved.items()):
        pools[year].committed = max(pools[year].committed + change, 0)
    return before, {year: _pool_numbers(pool) for year, pool in pools.items()}


def _room(pools: dict[int, BudgetPool], year: int, change: int) -> str | None:
    locale = _locale()
    pool = pools.get(year)
    if pool is None:
        return _(
            "There is no budget pool for %(year)s in this programme.",
            year=fiscal_year_label(year, locale),
        )
    if change > pool.available:
        return _(
            "The %(year)s budget pool has %(available)s available but needs %(needed)s more.",
            year=fiscal_year_label(year, locale),
            available=format_yen(pool.available, locale),
            needed=format_yen(change, locale),
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


def _released_ids(grant_id: int) -> set[int]:
    query = select(Disbursement.milestone_id).where(Disbursement.grant_id == grant_id)
    return set(db.session.scalars(query))


def _lock(amendment_id: int) -> Amendment:
    amendment = db.session.scalar(
        select(Amendment)
        .where(Amendment.id == amendment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if amendment is None:
        raise NotFound(_("Not found."))
    return amendment


def _locale() -> str:
    return str(get_locale() or "ja")
