"""Programmes and budget pools: validation, permissions, audit, pool appropriation."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import update

from grants.core.errors import NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs import queries as programme_queries
from grants.programs import service as programs
from grants.programs.models import BudgetPool, Program
from grants.programs.service import ProgramData
from grants.rules import MODALITIES, THEMES
from tests.support.factories import make_user
from tests.support.i18n import said
from tests.support.programs import make_pool, make_program, program_data


def _actions() -> list[str]:
    return [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def _field_errors(data: ProgramData, program_id: int | None = None) -> dict[str, list[str]]:
    officer = make_user(Role.officer)
    with pytest.raises(RuleViolation) as caught:
        if program_id is None:
            programs.create_program(officer, data)
        else:
            programs.update_program(officer, program_id, data)
    return caught.value.fields


def test_officer_creates_a_programme_with_code_upper_cased(app: Flask) -> None:
    officer = make_user(Role.officer)
    program = programs.create_program(officer, program_data(code=" amed-vc-7 ", name_ja=" 名前 "))
    assert program.code == "AMED-VC-7" and program.name_ja == "名前"
    assert program.themes == ["rare_disease", "amr"] and program.modalities == ["drug", "device"]
    event = db.session.query(AuditEvent).filter_by(action="program.create").one()
    assert event.actor_id == officer.id and event.object_id == str(program.id)
    assert event.after["code"] == "AMED-VC-7" and event.after["end_date"] == "2031-09-30"
    assert event.after["themes"] == "rare_disease,amr"


def test_officer_updates_a_programme_and_the_audit_row_has_before_and_after(app: Flask) -> None:
    program = make_program(code="OLD-1")
    officer = make_user(Role.officer)
    programs.update_program(
        officer, program.id, program_data(code="OLD-1", name_en="Renamed", themes=["other"])
    )
    db.session.refresh(program)
    assert program.name_en == "Renamed" and program.themes == ["other"]
    event = db.session.query(AuditEvent).filter_by(action="program.update").one()
    assert event.before["themes"] == "rare_disease,amr" and event.after["themes"] == "other"


def test_a_programme_keeps_its_own_code_on_update(app: Flask) -> None:
    program = make_program(code="SAME")
    updated = programs.update_program(
        make_user(Role.officer), program.id, program_data(code="same")
    )
    assert updated.code == "SAME"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "   "}, "code"),
        ({"code": "A"}, "code"),
        ({"code": "A" * 31}, "code"),
        ({"code": "AB_C"}, "code"),
        ({"code": "ＡＢ"}, "code"),
        ({"code": "AB C"}, "code"),
        ({"name_ja": ""}, "name_ja"),
        ({"name_en": "  "}, "name_en"),
        ({"name_en": "x" * 201}, "name_en"),
        ({"application_closes": date(2026, 3, 31)}, "application_closes"),
        ({"end_date": date(2026, 6, 29)}, "end_date"),
        ({"themes": ()}, "themes"),
        ({"themes": ("amr", "astrology")}, "themes"),
        ({"modalities": []}, "modalities"),
        ({"modalities": ("food",)}, "modalities"),
    ],
)
def test_each_validation_error_names_its_field(
    app: Flask, values: dict[str, object], field: str
) -> None:
    fields = _field_errors(program_data(**values))
    assert list(fields) == [field] and fields[field][0]
    assert db.session.query(Program).count() == 0
    assert "program.create" not in _actions()


def test_boundaries_that_are_allowed(app: Flask) -> None:
    same_day = date(2026, 4, 1)
    program = make_program(
        code="AB",
        application_opens=same_day,
        application_closes=same_day,
        end_date=same_day,
        themes=THEMES,
        modalities=MODALITIES,
    )
    assert program.code == "AB" and program.themes == list(THEMES)
    assert make_program(code="Z" * 30).code == "Z" * 30


def test_duplicate_codes_are_refused_case_insensitively(app: Flask) -> None:
    make_program(code="DUP-1")
    assert "code" in _field_errors(program_data(code="dup-1"))
    other = make_program(code="OTHER")
    assert "code" in _field_errors(program_data(code="Dup-1"), other.id)
    assert db.session.get(Program, other.id).code == "OTHER"


def test_duplicate_themes_are_stored_once(app: Flask) -> None:
    assert make_program(themes=["amr", "amr"]).themes == ["amr"]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_other_roles_may_not_manage_programmes(app: Flask, role: Role) -> None:
    program = make_program()
    user = make_user(role)
    with pytest.raises(NotAllowed):
        programs.create_program(user, program_data())
    with pytest.raises(NotAllowed):
        programs.update_program(user, program.id, program_data(name_en="x"))
    with pytest.raises(NotAllowed):
        programs.set_appropriation(user, program.id, 2026, 1)
    assert db.session.query(Program).count() == 1
    assert db.session.query(BudgetPool).count() == 0


def test_unknown_programme_is_not_found(app: Flask) -> None:
    officer = make_user(Role.officer)
    with pytest.raises(NotFound):
        programs.update_program(officer, 999_999, program_data())
    with pytest.raises(NotFound):
        programs.set_appropriation(officer, 999_999, 2026, 1)


def test_set_appropriation_creates_then_updates_the_pool(app: Flask) -> None:
    program = make_program()
    officer = make_user(Role.officer)
    pool = programs.set_appropriation(officer, program.id, 2026, 1_000_000_000)
    assert (pool.fiscal_year, pool.appropriation, pool.committed, pool.released) == (
        2026,
        1_000_000_000,
        0,
        0,
    )
    again = programs.set_appropriation(officer, program.id, 2026, 2_000_000_000)
    assert again.id == pool.id and again.appropriation == 2_000_000_000
    assert db.session.query(BudgetPool).count() == 1
    events = db.session.query(AuditEvent).filter_by(action="budget_pool.set_appropriation").all()
    assert [e.before for e in events][0] is None
    assert events[1].before["appropriation"] == 1_000_000_000
    assert events[1].after["appropriation"] == 2_000_000_000


def test_pools_by_year_are_ordered_and_per_programme(app: Flask) -> None:
    program = make_program()
    for year in (2028, 2026, 2027):
        make_pool(program, year, year)
    make_pool(make_program(), 2029, 1)
    assert [p.fiscal_year for p in programme_queries.pools_by_year(program.id)] == [
        2026,
        2027,
        2028,
    ]


@pytest.mark.parametrize(
    ("fiscal_year", "amount", "field"),
    [
        (1999, 1, "fiscal_year"),
        (2101, 1, "fiscal_year"),
        (2026, -1, "appropriation"),
        (2026, 10**15 + 1, "appropriation"),
        (2026, 1.5, "appropriation"),
        (2026, True, "appropriation"),
        ("2026", 1, "fiscal_year"),
    ],
)
def test_bad_pool_input_names_its_field(
    app: Flask, fiscal_year: object, amount: object, field: str
) -> None:
    program = make_program()
    with pytest.raises(RuleViolation) as caught:
        programs.set_appropriation(make_user(Role.officer), program.id, fiscal_year, amount)  # type: ignore[arg-type]
    assert list(caught.value.fields) == [field]
    assert db.session.query(BudgetPool).count() == 0


def test_fiscal_year_and_amount_boundaries_are_allowed(app: Flask) -> None:
    program = make_program(application_opens=date(2000, 4, 1), end_date=date(2101, 3, 31))
    assert make_pool(program, 2000, 0).appropriation == 0
    assert make_pool(program, 2100, 10**15).appropriation == 10**15


@pytest.mark.parametrize("year", [2025, 2032, 2038])
def test_a_pool_outside_the_programmes_fiscal_years_is_refused(app: Flask, year: int) -> None:
    program = make_program()  # applications open 2026-04-01 (FY2026), ends 2031-09-30 (FY2031)
    with pytest.raises(RuleViolation) as caught:
        programs.set_appropriation(make_user(Role.officer), program.id, year, 0)
    assert said(caught.value.fields["fiscal_year"]) == [
        f"{year}年度はプログラムの期間外です。対象は2026年度から2031年度までです"
        "（応募受付開始 2026年4月1日、プログラム終了 2031年9月30日）。"
    ]
    assert db.session.query(BudgetPool).count() == 0
    assert "budget_pool.set_appropriation" not in _actions()


def test_the_first_and_last_fiscal_years_of_the_programme_are_allowed(app: Flask) -> None:
    program = make_program(application_opens=date(2026, 3, 31), end_date=date(2029, 12, 1))
    assert make_pool(program, 2025, 1).fiscal_year == 2025
    assert make_pool(program, 2029, 1).fiscal_year == 2029
    with pytest.raises(RuleViolation):
        make_pool(program, 2030, 0)


def test_appropriation_cannot_drop_below_committed_plus_released(app: Flask) -> None:
    pool = make_pool(appropriation=1_000)
    db.session.execute(
        update(BudgetPool).where(BudgetPool.id == pool.id).values(committed=300, released=200)
    )
    db.session.commit()
    officer = make_user(Role.officer)
    with pytest.raises(RuleViolation) as caught:
        programs.set_appropriation(officer, pool.program_id, 2026, 499)
    assert "500" in caught.value.fields["appropriation"][0]
    db.session.rollback()
    db.session.refresh(pool)
    assert pool.appropriation == 1_000
    assert programs.set_appropriation(officer, pool.program_id, 2026, 500).available == 0
