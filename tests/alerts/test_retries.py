"""Retries and reruns add no alert and send no mail twice: the release API's Idempotency-Key
replays, a use case sent again, a double click, delivery and digest jobs run again."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.alerts.delivery import service as mail
from grants.alerts.models import Alert
from grants.amendments import service as amendments
from grants.applications.screening import service as screening
from grants.awards.termination import service as terminations
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind
from grants.core.errors import DomainError
from grants.core.models import utcnow
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.releases import service as releases
from tests.support.api import ApiClient
from tests.support.approvals import approve
from tests.support.events import (
    TODAY,
    Cast,
    amendment_requested,
    application_submitted,
    make_cast,
    submit_evidence,
)

K = AlertKind


@pytest.fixture
def cast(app: Flask) -> Cast:
    return make_cast()


def _count(kind: AlertKind | None = None) -> int:
    db.session.expire_all()
    query = select(func.count(Alert.id))
    return db.session.scalar(query if kind is None else query.where(Alert.kind == kind)) or 0


def test_a_replayed_release_tells_the_grantee_once(client: FlaskClient, cast: Cast) -> None:
    approve(cast.world, cast.world.milestones[0])
    api = ApiClient(client, cast.officer)
    path = f"/api/v1/milestones/{cast.world.milestones[0].id}/release"
    headers = {"Idempotency-Key": "release-m1"}
    first, again = api.post(path, headers=headers), api.post(path, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(K.tranche_released) == len(cast.grantee)
    sent = mail.deliver(SYSTEM, utcnow(), current_app.config).sent
    assert len(sent) == _count()  # every alert of the cast once (the log backend)
    assert mail.deliver(SYSTEM, utcnow(), current_app.config).sent == []


# Each sets an event up and answers the call that makes it, to be sent twice.
def _screening(cast: Cast) -> Callable[[], object]:
    [told] = application_submitted(cast)
    return lambda: screening.screen(cast.officer, told.subject[1], TODAY)


def _release(cast: Cast) -> Callable[[], object]:
    approve(cast.world, cast.world.milestones[0])
    return lambda: releases.release(cast.officer, cast.world.milestones[0].id, TODAY)


def _amendment_decision(cast: Cast) -> Callable[[], object]:
    [told] = amendment_requested(cast)
    return lambda: amendments.decide_amendment(cast.officer, told.subject[1], True, "", TODAY)


def _evidence(cast: Cast) -> Callable[[], object]:
    return lambda: submit_evidence(cast)


def _assignment(cast: Cast) -> Callable[[], object]:
    return lambda: assignments.assign_reviewer(
        cast.officer, cast.world.grant.id, cast.unassigned.id, TODAY
    )


def _termination(cast: Cast) -> Callable[[], object]:
    return lambda: terminations.terminate(cast.officer, cast.world.grant.id, "No-go.", TODAY)


SENT_TWICE = {
    _screening: K.application_screened,
    _release: K.tranche_released,
    _amendment_decision: K.amendment_decided,
    _evidence: K.evidence_submitted,
    _assignment: K.reviewer_assigned,
    _termination: K.grant_terminated,
}


@pytest.mark.parametrize("setup", SENT_TWICE, ids=lambda setup: setup.__name__.strip("_"))
def test_a_use_case_sent_again_is_refused_and_tells_nobody_again(
    cast: Cast, setup: Callable[[Cast], Callable[[], object]]
) -> None:
    call = setup(cast)
    call()
    told = _count(SENT_TWICE[setup])
    assert told > 0
    with pytest.raises(DomainError):
        call()
    assert _count(SENT_TWICE[setup]) == told


def test_a_double_click_on_release_tells_the_grantee_once(app: Flask, cast: Cast) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Concurrent requests race only on PostgreSQL (SQLite serialises them).")
    approve(cast.world, cast.world.milestones[0])
    api = ApiClient(app.test_client(), cast.officer)
    path = f"/api/v1/milestones/{cast.world.milestones[0].id}/release"
    headers = {"Authorization": f"Bearer {api.secret}", "Idempotency-Key": "double-click"}
    db.session.rollback()
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def post() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            codes.append(app.test_client().post(path, headers=headers).status_code)
            db.session.remove()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [201] * 4
    assert _count(K.tranche_released) == len(cast.grantee)
