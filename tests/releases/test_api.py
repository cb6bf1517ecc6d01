"""/api/v1/milestones/<id>/release: the gate trace and the release, idempotent with a key."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from grants.awards.models import Disbursement, EvidenceSubmission, Review
from grants.awards.schemas import DisbursementSchema
from grants.core import idempotency, lease
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent, IdempotencyKey, utcnow
from grants.core.states import ReviewDecision
from grants.extensions import db
from grants.operations.jobs import purge_idempotency_keys
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.api import ApiClient, api_as, assert_error
from tests.support.approvals import approve, officer
from tests.support.factories import make_org
from tests.support.grants import GrantWorld, make_grant

KEY = "Idempotency-Key"


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    return make_grant()


def _path(world: GrantWorld, index: int = 0) -> str:
    return f"/api/v1/milestones/{world.milestones[index].id}/release"


def _count(model: type[Any], **where: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return db.session.scalar(query) or 0


def _released(world: GrantWorld) -> int:
    db.session.expire_all()
    pools = select(BudgetPool).where(BudgetPool.program_id == world.program.id)
    return sum(pool.released for pool in db.session.scalars(pools))


def _nothing_released(world: GrantWorld) -> None:
    assert _count(Disbursement) == 0 and _released(world) == 0
    assert _count(AuditEvent, action="tranche.release") == 0


# --- the gate trace ----------------------------------------------------------------------


def test_officer_sees_the_gate_trace_and_the_pool(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[0])
    body = api_as(client, Role.officer).get(_path(world)).get_json()
    assert body["releasable"] is True and body["allowed"] is True
    assert body["trace"]["phase"] == "tranche_gates" and body["trace"]["ok"] is True
    assert {row["rule_id"] for row in body["trace"]["rows"]} >= {"prior_milestones"}
    assert body["pool"]["fiscal_year"] == world.milestones[0].fiscal_year
    assert body["tranche_amount"] == 100_000_000 and body["disbursement"] is None


def test_the_trace_shows_a_failing_gate(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[1])  # the first one is not approved
    body = api_as(client, Role.officer).get(_path(world, 1)).get_json()
    assert body["trace"]["ok"] is False
    failing = [row["rule_id"] for row in body["trace"]["rows"] if row["outcome"] == "fail"]
    assert failing == ["prior_milestones"]


def test_the_trace_is_for_officers_only(world: GrantWorld, client: FlaskClient) -> None:
    path = _path(world)
    assert_error(ApiClient(client, world.applicant).get(path), 403, "forbidden")
    assert_error(ApiClient(client, world.reviewers[0]).get(path), 403, "forbidden")
    assert_error(api_as(client, Role.admin).get(path), 403, "forbidden")
    other = api_as(client, Role.applicant, make_org(OrgKind.startup))
    assert_error(other.get(path), 404, "not_found")
    assert_error(api_as(client, Role.reviewer).get(path), 404, "not_found")
    assert_error(api_as(client, Role.officer).get("/api/v1/milestones/999999/release"), 404)


# --- the release -------------------------------------------------------------------------


def test_officer_releases_an_approved_tranche(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    response = api.post(_path(world))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["amount"] == 100_000_000 and body["milestone_id"] == world.milestones[0].id
    assert body["released_by_id"] == api.user.id
    assert _released(world) == 100_000_000
    assert _count(AuditEvent, action="tranche.release") == 1
    after = api.get(_path(world)).get_json()
    assert after["disbursement"]["id"] == body["id"] and after["trace"] is None
    assert_error(api.post(_path(world)), 409, "conflict")
    assert _count(Disbursement) == 1


def test_roles_that_may_not_release(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[0])
    path = _path(world)
    assert_error(ApiClient(client, world.applicant).post(path), 403, "forbidden")
    assert_error(ApiClient(client, world.reviewers[0]).post(path), 403, "forbidden")
    assert_error(api_as(client, Role.admin).post(path), 403, "forbidden")
    assert_error(api_as(client, Role.applicant, make_org(OrgKind.startup)).post(path), 404)
    assert_error(api_as(client, Role.reviewer).post(path), 404, "not_found")
    _nothing_released(world)


def test_an_officer_who_reviewed_the_milestone_may_not_release(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    reviewer_turned_officer = officer()
    submission = db.session.scalars(select(EvidenceSubmission)).one()
    db.session.add(
        Review(
            milestone_id=world.milestones[0].id,
            submission_id=submission.id,
            reviewer_id=reviewer_turned_officer.id,
            decision=ReviewDecision.approve,
            comment="ok",
        )
    )
    db.session.commit()
    api = ApiClient(client, reviewer_turned_officer)
    assert api.get(_path(world)).get_json()["allowed"] is False
    assert_error(api.post(_path(world)), 403, "forbidden")
    _nothing_released(world)


def test_a_failing_gate_is_422_naming_the_gates(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[1])
    error = assert_error(api_as(client, Role.officer).post(_path(world, 1)), 422, "unprocessable")
    assert error["fields"]["gates"]
    _nothing_released(world)


def test_a_milestone_not_approved_is_409(world: GrantWorld, client: FlaskClient) -> None:
    assert_error(api_as(client, Role.officer).post(_path(world)), 409, "conflict")
    _nothing_released(world)


# --- Idempotency-Key ---------------------------------------------------------------------


def test_the_same_key_twice_releases_once_and_answers_the_same(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    first = api.post(_path(world), headers={KEY: "release-m1-2026"})
    second = api.post(_path(world), headers={KEY: "release-m1-2026"})
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count(Disbursement) == 1 and _released(world) == 100_000_000
    assert _count(AuditEvent, action="tranche.release") == 1
    stored = db.session.scalars(select(IdempotencyKey)).one()
    assert (stored.user_id, stored.method, stored.path) == (api.user.id, "POST", _path(world))
    assert stored.status == 201 and stored.body == first.get_json()
    # Without the key the same request is a new attempt: already released.
    assert_error(api.post(_path(world)), 409, "conflict")


def test_an_error_answer_is_replayed_without_acting_again(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[1])  # the gate on earlier milestones fails
    api = api_as(client, Role.officer)
    first = api.post(_path(world, 1), headers={KEY: "k-1"})
    assert_error(first, 422, "unprocessable")
    approve(world, world.milestones[0])  # the gate would pass now ...
    replay = api.post(_path(world, 1), headers={KEY: "k-1"})
    assert replay.status_code == 422 and replay.get_data() == first.get_data()
    _nothing_released(world)  # ... but the key replays the first answer
    fresh = api.post(_path(world, 1), headers={KEY: "k-2"})
    assert fresh.status_code == 201
    assert _count(Disbursement) == 1


def test_another_user_with_the_same_key_acts_on_their_own(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0], world.milestones[1])
    first, second, third = (api_as(client, Role.officer) for _ in range(3))
    assert first.post(_path(world, 0), headers={KEY: "shared"}).status_code == 201
    # Keys are per user: another path is no mismatch for someone else, and it acts.
    assert second.post(_path(world, 1), headers={KEY: "shared"}).status_code == 201
    assert _count(Disbursement) == 2
    # Same key and path as the first user: a real attempt, not the first user's replay.
    assert_error(third.post(_path(world, 0), headers={KEY: "shared"}), 409, "conflict")
    assert _count(Disbursement) == 2 and _count(IdempotencyKey) == 3


def test_a_key_reused_on_another_milestone_is_422(world: GrantWorld, client: FlaskClient) -> None:
    approve(world, world.milestones[0], world.milestones[1])
    api = api_as(client, Role.officer)
    assert api.post(_path(world, 0), headers={KEY: "once"}).status_code == 201
    error = assert_error(api.post(_path(world, 1), headers={KEY: "once"}), 422, "unprocessable")
    assert KEY in error["fields"] and _path(world, 0) in error["message"]
    assert _count(Disbursement) == 1 and _count(IdempotencyKey) == 1
    # The key still replays its own request.
    assert api.post(_path(world, 0), headers={KEY: "once"}).status_code == 201


@pytest.mark.parametrize(
    ("language", "refusal", "gate"),
    [
        ("ja", "トランシェを交付できません", "先行マイルストーンがすべて承認済み"),
        ("en", "The tranche cannot be released", "All earlier milestones approved"),
    ],
)
def test_the_gates_are_named_in_the_callers_language(
    world: GrantWorld, client: FlaskClient, language: str, refusal: str, gate: str
) -> None:
    approve(world, world.milestones[1])  # milestone 1 is not approved
    api = api_as(client, Role.officer)
    response = api.post(_path(world, 1), headers={"Accept-Language": language})
    error = assert_error(response, 422, "unprocessable")
    assert refusal in error["message"] and gate in error["message"]
    assert [gate in line for line in error["fields"]["gates"]] == [True]
    _nothing_released(world)


@pytest.mark.parametrize("key", ["", "x" * 201, "two words", "\xe9t\xe9"])
def test_a_key_of_bad_length_is_422(world: GrantWorld, client: FlaskClient, key: str) -> None:
    approve(world, world.milestones[0])
    error = assert_error(api_as(client, Role.officer).post(_path(world), headers={KEY: key}), 422)
    assert KEY in error["fields"]
    _nothing_released(world)
    assert _count(IdempotencyKey) == 0


def test_forbidden_requests_with_a_key_are_replayed_as_forbidden(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = ApiClient(client, world.reviewers[0])
    first = api.post(_path(world), headers={KEY: "nope"})
    assert_error(first, 403, "forbidden")
    assert api.post(_path(world), headers={KEY: "nope"}).get_data() == first.get_data()
    _nothing_released(world)


def test_concurrent_posts_with_one_key_release_once(app: Flask, world: GrantWorld) -> None:
    """A double click (here six at once) with one key: one release, one identical answer."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Concurrent requests race only on PostgreSQL (SQLite serialises them).")
    approve(world, world.milestones[0])
    api = ApiClient(app.test_client(), officer())
    headers = {"Authorization": f"Bearer {api.secret}", KEY: "double-click"}
    path, clicks = _path(world), 6
    db.session.rollback()  # the test's own session holds nothing while the requests run
    barrier = threading.Barrier(clicks)
    answers: list[Any] = [None] * clicks

    def post(index: int) -> None:
        with app.app_context():
            try:
                client = app.test_client()
                barrier.wait(timeout=30)
                response = client.post(path, headers=headers)
                answers[index] = (response.status_code, response.get_data())
            except BaseException as error:  # noqa: BLE001  (reported by the assertions below)
                answers[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert all(isinstance(answer, tuple) for answer in answers), answers
    assert len(set(answers)) == 1 and answers[0][0] == 201, answers
    assert _count(Disbursement) == 1 and _released(world) == 100_000_000
    assert _count(AuditEvent, action="tranche.release") == 1
    assert db.session.scalars(select(IdempotencyKey.status)).all() == [201]


def _stored_key(user_id: int, path: str, status: int | None, body: dict[str, Any] | None) -> None:
    row = IdempotencyKey(
        user_id=user_id, key="k", method="POST", path=path, status=status, body=body
    )
    db.session.add(row)
    db.session.commit()


def test_a_request_waits_for_the_first_one_with_its_key(
    app: Flask, world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _stored_key(api.user.id, _path(world), None, None)  # the first request is still running
    row_id = db.session.scalar(select(IdempotencyKey.id))

    def finish() -> None:
        with app.app_context():
            row = db.session.get(IdempotencyKey, row_id)
            assert row is not None
            row.status, row.body = 201, {"id": 42}
            db.session.commit()
            db.session.remove()

    timer = threading.Timer(0.3, finish)
    timer.start()
    response = api.post(_path(world), headers={KEY: "k"})
    timer.join()
    assert response.status_code == 201 and response.get_json() == {"id": 42}
    _nothing_released(world)


def test_a_first_request_that_never_answers_gives_409(
    world: GrantWorld, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _stored_key(api.user.id, _path(world), None, None)
    assert_error(api.post(_path(world), headers={KEY: "k"}), 409, "conflict")
    _nothing_released(world)


def test_losing_the_insert_race_replays_the_winner(
    world: GrantWorld, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _stored_key(api.user.id, _path(world), 422, {"error": {"code": "x"}})
    real_find = idempotency._find
    lookups: list[str] = []

    def racing_find(user_id: int, key: str) -> IdempotencyKey | None:
        lookups.append(key)
        return None if len(lookups) == 1 else real_find(user_id, key)  # as in a race

    monkeypatch.setattr(idempotency, "_find", racing_find)
    response = api.post(_path(world), headers={KEY: "k"})
    assert response.status_code == 422 and response.get_json() == {"error": {"code": "x"}}
    assert len(lookups) == 2  # it inserted, lost on the unique key, and read the winner's
    _nothing_released(world)


class Killed(BaseException):
    """The process dies (like SIGKILL): nothing after this line runs."""


def _died_after_releasing(world: GrantWorld, releaser: Any) -> None:
    """A first request with the key "k" releases, commits, and dies before storing its
    answer: the release and the unanswered key are in the database."""
    milestone_id = world.milestones[0].id

    def perform() -> idempotency.Answer:
        releases.release(releaser, milestone_id, date(2026, 10, 15))
        raise Killed

    with pytest.raises(Killed):
        idempotency.run(releaser, "k", "POST", _path(world), perform)
    db.session.rollback()


def _age_keys(seconds: int) -> None:
    then = utcnow() - timedelta(seconds=seconds)
    db.session.execute(update(IdempotencyKey).values(created_at=then))
    db.session.commit()


def test_a_key_its_dead_request_left_unanswered_replays_the_release_it_made(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _died_after_releasing(world, api.user)
    key = db.session.scalars(select(IdempotencyKey)).one()
    assert key.status is None and _count(Disbursement) == 1
    _age_keys(61)  # IDEMPOTENCY_STALE_SECONDS: it would have answered long ago
    response = api.post(_path(world), headers={KEY: "k"})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Idempotent-Replayed"] == "true"
    disbursement = db.session.scalars(select(Disbursement)).one()
    assert response.get_json() == DisbursementSchema().dump(disbursement)
    assert _count(Disbursement) == 1 and _released(world) == 100_000_000
    db.session.expire_all()
    stored = db.session.scalars(select(IdempotencyKey)).one()
    assert (stored.status, stored.body) == (201, response.get_json())
    again = api.post(_path(world), headers={KEY: "k"})
    assert (again.status_code, again.get_json()) == (201, response.get_json())


def test_a_dead_request_that_released_nothing_frees_its_key(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _stored_key(api.user.id, _path(world), None, None)
    _age_keys(61)
    response = api.post(_path(world), headers={KEY: "k"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert _count(Disbursement) == 1 and _released(world) == 100_000_000
    db.session.expire_all()
    stored = db.session.scalars(select(IdempotencyKey)).one()
    assert (stored.status, stored.body) == (201, response.get_json())


def test_a_release_by_someone_else_is_not_taken_for_the_dead_requests(
    world: GrantWorld, client: FlaskClient
) -> None:
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    releases.release(officer(world), world.milestones[0].id, date(2026, 10, 15))
    _stored_key(api.user.id, _path(world), None, None)
    _age_keys(61)
    assert_error(api.post(_path(world), headers={KEY: "k"}), 409, "conflict")  # acted: too late
    db.session.expire_all()
    assert db.session.scalars(select(IdempotencyKey.status)).one() == 409


def test_an_unanswered_key_younger_than_the_stale_limit_is_still_waited_for(
    world: GrantWorld, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    approve(world, world.milestones[0])
    api = api_as(client, Role.officer)
    _died_after_releasing(world, api.user)
    _age_keys(50)
    assert_error(api.post(_path(world), headers={KEY: "k"}), 409, "conflict")
    db.session.expire_all()
    assert db.session.scalars(select(IdempotencyKey.status)).one() is None


def test_keys_older_than_thirty_days_are_purged_by_a_job(
    app: Flask, world: GrantWorld, client: FlaskClient
) -> None:
    api = api_as(client, Role.officer)
    _stored_key(api.user.id, _path(world), 201, {"id": 1})
    _age_keys(31 * 24 * 3600)
    db.session.add(
        IdempotencyKey(user_id=api.user.id, key="new", method="POST", path="/x", status=201)
    )
    db.session.commit()
    assert purge_idempotency_keys(app, lease.new_holder()) == 1
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new"]
    lease.acquire(lease.SCHEDULER, "another", utcnow(), timedelta(seconds=60))
    assert purge_idempotency_keys(app, lease.new_holder()) is None  # without the lease


def test_the_key_header_is_documented(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/milestones/{milestone_id}/release"]["post"]
    (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == KEY and header["required"] is False
    assert header["schema"]["maxLength"] == 200
    assert {"201", "409", "422"} <= set(operation["responses"])
