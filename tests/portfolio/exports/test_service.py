"""CSV exports for accounting: rows, filters, permissions, CSV encoding, constant query count."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from grants.awards.models import Disbursement
from grants.core import csvfile
from grants.core.actors import SYSTEM
from grants.core.errors import NotAllowed, RuleViolation
from grants.core.identity import Role
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.service import Filters
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from tests.support.approvals import approve, officer, sibling_grant
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.queries import count_queries

RELEASED_AT = datetime(2026, 11, 25, 5, 3, tzinfo=UTC)  # 14:03 in Tokyo
ORG_NAME = "株式会社さくら創薬"
TITLE = "前臨床試験：有効性の確認"


def _released_world() -> GrantWorld:
    """Milestone 1 released through the real service (FY2026), 2 approved, 3 planned."""
    world = make_grant(code="EX")
    world.grantee.name = ORG_NAME
    world.milestones[0].title = TITLE
    db.session.commit()
    approve(world, world.milestones[0], world.milestones[1])
    disbursement = releases.release(officer(world), world.milestones[0].id, date(2026, 10, 1))
    disbursement.released_at = RELEASED_AT
    db.session.commit()
    return world


def _rows(export: exports.Export) -> list[tuple[object, ...]]:
    return list(export.rows)


def test_disbursement_rows_hold_raw_values(app: Flask) -> None:
    world = _released_world()
    assert world.officer is not None
    export = exports.disbursements(world.officer, Filters(), "en")
    assert export.filename == "disbursements.csv"
    assert _rows(export) == [
        (
            "EX-0001",
            "EX",
            ORG_NAME,
            1,
            TITLE,
            2026,
            100_000_000,
            "2026-11-25T14:03:00+09:00",
            world.officer.name,
            world.officer.email,
        )
    ]


def test_milestone_status_rows(app: Flask) -> None:
    world = _released_world()
    late = world.milestones[2]
    late.overdue_since = date(2027, 10, 8)
    db.session.commit()
    export = exports.milestone_status(SYSTEM, Filters(), "en")
    rows = _rows(export)
    assert export.filename == "milestones.csv"
    assert [row[:7] for row in rows] == [
        ("EX-0001", "EX", ORG_NAME, 1, TITLE, "approved", "Approved"),
        ("EX-0001", "EX", ORG_NAME, 2, "Milestone 2", "approved", "Approved"),
        ("EX-0001", "EX", ORG_NAME, 3, "Milestone 3", "planned", "Planned"),
    ]
    first, second, third = rows
    assert first[7:10] == ("2026-09-30", 100_000_000, 2026)
    assert first[10] is None and first[11] == "2026-11-25"  # released on, Tokyo date
    assert str(first[12]).endswith("+09:00")  # decided at, Tokyo time
    assert second[11] is None  # approved, not released yet
    assert third[10] == "2027-10-08" and third[12] is None


def test_header_and_labels_follow_the_language(app: Flask) -> None:
    _released_world()
    english = exports.milestone_status(SYSTEM, Filters(), "en")
    japanese = exports.milestone_status(SYSTEM, Filters(), "ja")
    japanese_rows = _rows(japanese)
    assert english.header[2] == "Organization" and english.header[9] == "Fiscal year"
    assert japanese.header[2] == "組織" and japanese.header[9] == "年度"
    assert len(english.header) == len(japanese.header) == 13
    assert japanese_rows[0][5:7] == ("approved", "承認")
    assert japanese_rows[2][5:7] == ("planned", "予定")


def test_filters_by_programme_and_fiscal_year(app: Flask) -> None:
    world = _released_world()
    other = make_grant(code="OTHER")
    approve(other, other.milestones[0])
    releases.release(officer(other), other.milestones[0].id, date(2026, 10, 1))
    actor = make_user(Role.officer)

    def numbers(export: exports.Export) -> list[tuple[object, ...]]:
        return [(row[0], row[3]) for row in export.rows]

    assert numbers(exports.disbursements(actor, Filters(), "ja")) == [
        ("EX-0001", 1),
        ("OTHER-0001", 1),
    ]
    only_ex = exports.disbursements(actor, Filters(program_id=world.program.id), "ja")
    assert only_ex.filename == "disbursements-EX.csv"
    assert numbers(only_ex) == [("EX-0001", 1)]
    assert numbers(exports.disbursements(actor, Filters(fiscal_year=2027), "ja")) == []
    # Milestones 1 and 2 fall in FY2026 (due 2026-09-30, 2027-03-30), 3 in FY2027.
    fy2026 = exports.milestone_status(actor, Filters(world.program.id, 2026), "ja")
    assert fy2026.filename == "milestones-EX-2026.csv"
    assert numbers(fy2026) == [("EX-0001", 1), ("EX-0001", 2)]
    fy2027 = exports.milestone_status(actor, Filters(fiscal_year=2027), "ja")
    assert numbers(fy2027) == [("EX-0001", 3), ("OTHER-0001", 3)]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (Filters(program_id=999_999), "program_id"),
        (Filters(program_id=0), "program_id"),
        (Filters(program_id=2**70), "program_id"),  # beyond BIGINT: refused before the query
        (Filters(fiscal_year=1999), "fiscal_year"),
        (Filters(fiscal_year=2101), "fiscal_year"),
    ],
)
def test_bad_filters_name_the_field(app: Flask, filters: Filters, field: str) -> None:
    make_grant()
    for build in (exports.disbursements, exports.milestone_status):
        with pytest.raises(RuleViolation) as error:
            build(make_user(Role.officer), filters, "ja")
        assert list(error.value.fields) == [field]


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer])
def test_only_officers_and_admins_export(app: Flask, role: Role) -> None:
    world = _released_world()
    user = world.applicant if role is Role.applicant else world.reviewers[0]
    for build in (exports.disbursements, exports.milestone_status):
        # Refused when called, before any row is read or any byte is streamed.
        with pytest.raises(NotAllowed):
            build(user, Filters(), "ja")
    admin = make_user(Role.admin)
    assert len(_rows(exports.disbursements(admin, Filters(), "ja"))) == 1
    assert len(_rows(exports.milestone_status(admin, Filters(), "ja"))) == 3


def _parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_crlf_and_quoted_where_needed() -> None:
    header = ("番号", "名前", "金額")
    rows = [("A-1", 'カンマ, と "引用符"', 1_000_000), ("A-2", "改行\nあり", None)]
    data = b"".join(csvfile.encode_csv(header, rows))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 3 and data.endswith(b"\r\n")
    assert '"改行\nあり"'.encode() in data  # a line break inside a field is quoted
    assert '"カンマ, と ""引用符"""'.encode() in data
    assert _parse(data) == [
        ["番号", "名前", "金額"],
        ["A-1", 'カンマ, と "引用符"', "1000000"],
        ["A-2", "改行\nあり", ""],
    ]


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example/","click")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "＝1+1",
    ],
)
def test_formula_injection_is_neutralised(cell: str) -> None:
    data = b"".join(csvfile.encode_csv(("name",), [(cell,)]))
    assert _parse(data)[1] == ["'" + cell]


def test_harmless_cells_are_untouched() -> None:
    rows = [("2026-11-25T14:03:00+09:00",), ("組織 = 会社",), (-5,)]
    assert _parse(b"".join(csvfile.encode_csv(("x",), rows)))[1:] == [
        ["2026-11-25T14:03:00+09:00"],
        ["組織 = 会社"],
        ["-5"],  # numbers are values, not text: a negative number stays a number
    ]


def test_formula_in_an_organization_name_is_neutralised_in_the_export(app: Flask) -> None:
    world = _released_world()
    world.grantee.name = '=HYPERLINK("http://evil.example/","click")'
    db.session.commit()
    data = b"".join(exports.disbursements(SYSTEM, Filters(), "ja").chunks())
    assert _parse(data)[1][2] == '\'=HYPERLINK("http://evil.example/","click")'


def test_rows_are_flushed_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvfile, "BATCH", 2)
    chunks = list(csvfile.encode_csv(("n",), [(n,) for n in range(5)]))
    assert len(chunks) == 3  # rows 0-1 with header and BOM, rows 2-3, row 4
    assert chunks[0].startswith(b"\xef\xbb\xbf") and not chunks[1].startswith(b"\xef\xbb\xbf")
    assert _parse(b"".join(chunks)) == [["n"], ["0"], ["1"], ["2"], ["3"], ["4"]]


def _more_disbursements(base: GrantWorld, start: int, count: int) -> None:
    """`count` more grants with one released tranche each (inserted straight into the tables)."""
    siblings = [
        sibling_grant(base, f"EX-N{n:04d}", (1_000_000,), commit=False)
        for n in range(start, start + count)
    ]
    db.session.flush()
    pool = db.session.query(BudgetPool).filter_by(fiscal_year=2026).one()
    released_by = base.officer or officer(base)
    for world in siblings:
        milestone = world.milestones[0]
        milestone.state = MilestoneState.approved
        milestone.decided_at = RELEASED_AT
        db.session.add(
            Disbursement(
                milestone_id=milestone.id,
                grant_id=world.grant.id,
                budget_pool_id=pool.id,
                amount=1_000_000,
                fiscal_year=2026,
                released_by_id=released_by.id,
            )
        )
    db.session.commit()


def _statements_for_both_exports(program_id: int) -> tuple[int, int]:
    db.session.expire_all()
    with count_queries() as statements:
        lines = 0
        for build in (exports.disbursements, exports.milestone_status):
            data = b"".join(build(SYSTEM, Filters(program_id, 2026), "ja").chunks())
            lines += data.count(b"\r\n")
    return len(statements), lines


def test_query_count_does_not_grow_with_the_number_of_disbursements(app: Flask) -> None:
    base = _released_world()
    _more_disbursements(base, 0, 9)
    small, small_lines = _statements_for_both_exports(base.program.id)
    assert small_lines == 2 + 10 + 11  # two headers, 10 releases, 11 FY2026 milestones
    _more_disbursements(base, 9, 190)
    large, large_lines = _statements_for_both_exports(base.program.id)
    assert large_lines == 2 + 200 + 201
    assert small == large <= 4  # per export: the programme lookup and one SELECT
