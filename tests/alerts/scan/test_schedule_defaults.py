"""A rule set's schedule keys are overrides: a key it does not set is the configured default."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from grants.awards.models import Milestone
from grants.core.identity import Role
from grants.extensions import db
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from tests.support.alerts import count_by_kind, run_scan, staff
from tests.support.grants import GrantWorld, make_grant
from tests.support.rulesets import make_draft, make_officer, make_program

DUE = date(2026, 9, 30)  # make_grant's first milestone
DAY = timedelta(days=1)


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    world.officer = staff(Role.officer)
    return world


@pytest.fixture
def configure(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set ALERT_* keys for one test; monkeypatch restores them (the app lives per session)."""

    def setting(**values: Any) -> None:
        for key, value in values.items():
            monkeypatch.setitem(app.config, f"ALERT_{key.upper()}", value)

    return setting


def _pin_schedule(world: GrantWorld, schedule: dict[str, Any]) -> None:
    """Give the (published, hence frozen) pinned rule set an explicit schedule section."""
    document = {**world.ruleset.document, "schedule": schedule}
    db.session.execute(
        update(RuleSet).where(RuleSet.id == world.ruleset.id).values(document=document)
    )
    db.session.commit()


def _created(today: date) -> Counter[tuple[str, int]]:
    before = count_by_kind()
    run_scan(today)
    return count_by_kind() - before


def test_the_pinned_preset_sets_no_schedule_key(world: GrantWorld) -> None:
    assert world.ruleset.document["schedule"] == {}


def test_due_soon_reminder_at_the_configured_offset(world: GrantWorld, configure: Any) -> None:
    configure(due_soon_days=(45,))
    assert _created(date(2026, 8, 15)) == Counter()
    assert _created(date(2026, 8, 16)) == Counter({("due_soon", 1): 1})
    assert _created(DUE - 30 * DAY) == Counter()  # no 30-day reminder any more
    assert _created(DUE - 7 * DAY) == Counter()


def test_configured_grace_days_delay_overdue(world: GrantWorld, configure: Any) -> None:
    configure(grace_days=3)
    milestone_id = world.milestones[0].id
    assert _created(DUE + 3 * DAY)[("overdue", 1)] == 0
    assert db.session.get(Milestone, milestone_id).overdue_since is None
    assert _created(DUE + 4 * DAY)[("overdue", 1)] == 2  # the applicant and the officer
    assert db.session.get(Milestone, milestone_id).overdue_since == DUE + 4 * DAY


def test_configured_escalation_days(world: GrantWorld, configure: Any) -> None:
    configure(escalation_days=(5,))
    run_scan(DUE + DAY)
    assert _created(DUE + 4 * DAY)[("escalation", 1)] == 0
    assert _created(DUE + 5 * DAY) == Counter({("escalation", 1): 1})
    assert _created(DUE + 30 * DAY)[("escalation", 2)] == 0  # no second tier configured


def test_an_explicit_schedule_key_wins_over_the_configuration(
    world: GrantWorld, configure: Any
) -> None:
    configure(due_soon_days=(45,), grace_days=3)
    _pin_schedule(world, {"due_soon_days": [10], "grace_days": 0})
    assert _created(DUE - 45 * DAY) == Counter()
    assert _created(DUE - 10 * DAY) == Counter({("due_soon", 1): 1})
    assert _created(DUE + DAY)[("overdue", 1)] == 2  # no grace, whatever the config says


def test_the_rest_of_a_partial_section_comes_from_the_configuration(
    world: GrantWorld, configure: Any
) -> None:
    configure(due_soon_days=(45,), grace_days=3)
    _pin_schedule(world, {"due_soon_days": [10]})
    assert _created(DUE - 10 * DAY) == Counter({("due_soon", 1): 1})
    assert _created(DUE + DAY)[("overdue", 1)] == 0
    assert _created(DUE + 4 * DAY)[("overdue", 1)] == 2


def test_drafts_and_published_versions_keep_only_the_keys_they_set(app: Flask) -> None:
    officer, program = make_officer(), make_program()
    draft = make_draft(program, officer, "milestone_programme")
    assert draft.document["schedule"] == {}
    document = {**draft.document, "schedule": {"review_waiting_days": 3}}
    rulesets.replace_document(officer, draft.id, document)
    published = rulesets.publish(officer, draft.id, date(2026, 5, 1), date(2026, 5, 1))
    db.session.expire_all()
    assert db.session.get(RuleSet, published.id).document["schedule"] == {"review_waiting_days": 3}
