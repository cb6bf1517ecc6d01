"""A release that fails inside its transaction leaves nothing behind: no disbursement, the
pool and the milestone as they were, no audit row; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from grants.awards.models import Grant, Milestone
from grants.core.db import READ_ONLY
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.web import login, post_form

TODAY = date(2026, 10, 15)


class Boom(RuntimeError):
    """The failure injected into the release's transaction."""


def _raise(*_args: Any, **_kwargs: Any) -> Any:
    raise Boom("injected")


def _second_call_raises(real: Callable[..., Any]) -> Callable[..., Any]:
    """Let the first call through (the pool's numbers before), fail the second (after the
    pool was changed and the disbursement inserted)."""
    calls = {"n": 0}

    def patched(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise Boom("injected after the pool update")
        return real(*args, **kwargs)

    return patched


# Where the failure strikes: each after the pool's `committed`/`released` were changed, the
# milestone stamped released and the disbursement row flushed.
FAILURES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "the audit write": lambda mp: mp.setattr(releases.audit, "record", _raise),
    "after the pool update": lambda mp: mp.setattr(
        releases, "pool_numbers", _second_call_raises(releases.pool_numbers)
    ),
    "completing the grant": lambda mp: mp.setattr(releases, "_complete_if_done", _raise),
}


def _committed_state(world: GrantWorld) -> dict[str, Any]:
    """What other connections see: the committed rows only (read beside the open write
    transaction: on SQLite a DEFERRED snapshot, which WAL lets run next to the writer)."""
    with db.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        pool = conn.execute(
            select(BudgetPool.committed, BudgetPool.released).where(
                BudgetPool.program_id == world.program.id, BudgetPool.fiscal_year == 2026
            )
        ).one()
        milestone = conn.execute(
            select(Milestone.state, Milestone.released_at).where(
                Milestone.id == world.milestones[0].id
            )
        ).one()
        return {
            "disbursements": conn.execute(text("SELECT count(*) FROM disbursement")).scalar(),
            "pool": tuple(pool),
            "milestone": tuple(milestone),
            "grant": conn.execute(
                select(Grant.state).where(Grant.id == world.grant.id)
            ).scalar_one(),
            "release_events": conn.execute(
                select(AuditEvent.id).where(AuditEvent.action == "tranche.release")
            ).all(),
        }


def _single_tranche() -> GrantWorld:
    """One milestone only, so that the release would also complete the grant."""
    world = make_grant(tranches=(100_000_000,))
    approve(world, world.milestones[0])
    return world


EXPECTED = {
    "disbursements": 0,
    "pool": (100_000_000, 0),  # committed, released: unchanged
    "milestone": (MilestoneState.approved, None),  # approved, never stamped released
    "grant": GrantState.active,
    "release_events": [],
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failure_inside_the_release_leaves_nothing_behind(
    app: Flask, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    world = _single_tranche()
    releaser = officer()
    FAILURES[failure](monkeypatch)
    with pytest.raises(Boom):
        releases.release(releaser, world.milestones[0].id, TODAY)
    # Nothing was committed on the way: other connections see the old rows...
    assert _committed_state(world) == EXPECTED
    # ...and once the failed transaction is rolled back (as a request's end does), neither
    # does this session, and the release can be done properly.
    db.session.rollback()
    monkeypatch.undo()
    assert _committed_state(world) == EXPECTED
    disbursement = releases.release(releaser, world.milestones[0].id, TODAY)
    assert disbursement.amount == 100_000_000
    after = _committed_state(world)
    assert (after["disbursements"], after["pool"], after["grant"]) == (
        1,
        (0, 100_000_000),
        GrantState.completed,
    )


def test_through_the_page_the_failure_is_a_500_and_nothing_is_kept(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _single_tranche()
    login(client, make_user(Role.officer, locale=Locale.en).email)
    monkeypatch.setattr(releases.audit, "record", _raise)
    response = post_form(client, f"/officer/milestones/{world.milestones[0].id}/release", {})
    assert response.status_code == 500
    assert _committed_state(world) == EXPECTED
