"""Settlement through the use cases: DOMAIN.md's worked example paid after settlement, an
advance returned or set off, two officers, the fiscal-year boundary, a pinned rule set, bad
input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.awards.models import Disbursement, Settlement
from grants.awards.queries import grant_money
from grants.core.errors import Conflict, NotAllowed, RuleViolation
from grants.core.models import AuditEvent, utcnow
from grants.extensions import db
from grants.releases import service as releases
from grants.rules import amed_certified_vc, validate_ruleset
from grants.rulesets.models import RuleSet, RuleSetStatus
from grants.settlement import service as settlement
from grants.settlement.inspection import service as inspection
from grants.settlement.inspection.service import LineDecision
from grants.settlement.models import CostLine, ResultsReport
from grants.settlement.rules import ReportState
from grants.settlement.service import LineInput
from tests.support.approvals import approve, invest, officer
from tests.support.factories import uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.settlement import (
    MAN,
    accept_all,
    as_university,
    file_report,
    lines,
    pool,
    settle_period,
)

AFTER_FY2026 = date(2027, 4, 10)


def _amed_grant() -> GrantWorld:
    """AMED preset (精算払, per fiscal year): milestone 1 (1億円) in FY2026, 2 in FY2027."""
    world = make_grant(
        tranches=(100_000_000, 200_000_000), first_due=date(2026, 12, 31), preset="amed"
    )
    approve(world, world.milestones[0])
    invest(world, 300_000_000)
    return world


def _money(world: GrantWorld) -> Any:
    db.session.expire_all()
    paid = db.session.scalar(
        select(func.coalesce(func.sum(Disbursement.amount), 0)).where(
            Disbursement.grant_id == world.grant.id
        )
    )
    grant = world.grant
    return grant_money([(grant.id, grant.award_amount, int(paid), grant.state)])[grant.id]


def test_domain_worked_example_paid_after_settlement(app: Flask) -> None:
    world = _amed_grant()
    as_university(world)
    # Paid after settlement: nothing goes out before the final amount.
    with pytest.raises(RuleViolation, match="pays after settlement"):
        releases.release(officer(), world.milestones[0].id, AFTER_FY2026)
    claimed = [*lines(5_000 * MAN), *lines(4_000 * MAN, category="personnel")]
    confirmed = settle_period(world, "fy2026", claimed, 3_000 * MAN, AFTER_FY2026)
    assert confirmed.final_amount == 7_800 * MAN and confirmed.decided == 10_000 * MAN
    figures = {f["key"]: f["amount"] for f in confirmed.trace["figures"]}
    assert figures["indirect_cap"] == 2_700 * MAN and figures["eligible"] == 11_700 * MAN
    assert confirmed.shares == {str(world.milestones[0].id): 7_800 * MAN}
    # AMED's money is a fund (基金): what the final amount cut is carried over to the next
    # milestone (FY2027), its commitment moved from the FY2026 pool to the FY2027 one.
    second = world.milestones[1]
    assert (confirmed.carried, confirmed.carried_to_id) == (2_200 * MAN, second.id)
    db.session.refresh(second)
    assert second.tranche_amount == 22_200 * MAN
    assert pool(world, 2026).committed == 7_800 * MAN
    assert pool(world, 2027).committed == 22_200 * MAN
    disbursement = releases.release(officer(), world.milestones[0].id, AFTER_FY2026)
    assert disbursement.amount == 7_800 * MAN
    fy2026 = pool(world, 2026)
    assert (fy2026.committed, fy2026.released, fy2026.returned) == (0, 7_800 * MAN, 0)
    money = _money(world)
    assert (money.released, money.forgone, money.remaining) == (7_800 * MAN, 0, 22_200 * MAN)
    event = db.session.query(AuditEvent).filter_by(action="settlement.confirm").one()
    assert event.after["carried"] == 2_200 * MAN and event.after["carried_to"] == second.id


def _pinned_to(world: GrantWorld, document: dict[str, Any]) -> None:
    """The grant pinned to a published copy of its rule set with `document`."""
    copy = RuleSet(
        program_id=world.program.id,
        title="single-year copy",
        status=RuleSetStatus.published,
        version=2,
        effective_from=date(2026, 4, 1),
        document=validate_ruleset(document),
        published_at=utcnow(),
    )
    db.session.add(copy)
    db.session.flush()
    world.grant.ruleset_id = copy.id
    db.session.commit()


def test_a_single_year_budget_lets_the_cut_lapse(app: Flask) -> None:
    world = _amed_grant()
    as_university(world)
    single_year = amed_certified_vc()
    single_year["settlement"]["fund"] = "single_year"
    _pinned_to(world, single_year)
    claimed = [*lines(5_000 * MAN), *lines(4_000 * MAN, category="personnel")]
    confirmed = settle_period(world, "fy2026", claimed, 3_000 * MAN, AFTER_FY2026)
    assert (confirmed.carried, confirmed.carried_to_id) == (0, None)
    db.session.refresh(world.milestones[1])
    assert world.milestones[1].tranche_amount == 20_000 * MAN  # nothing carried
    assert pool(world, 2026).committed == 7_800 * MAN
    assert pool(world, 2027).committed == 20_000 * MAN
    money = _money(world)
    assert (money.forgone, money.remaining) == (2_200 * MAN, 20_000 * MAN + 7_800 * MAN)


def test_a_funds_last_period_has_nowhere_to_carry_the_cut(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000,), first_due=date(2026, 12, 31), preset="amed")
    approve(world, world.milestones[0])
    invest(world, 300_000_000)
    as_university(world)
    claimed = [*lines(5_000 * MAN), *lines(4_000 * MAN, category="personnel")]
    confirmed = settle_period(world, "fy2026", claimed, 3_000 * MAN, AFTER_FY2026)
    assert (confirmed.carried, confirmed.carried_to_id) == (0, None)
    assert pool(world, 2026).committed == 7_800 * MAN
    money = _money(world)
    assert (money.forgone, money.remaining) == (2_200 * MAN, 7_800 * MAN)


def test_the_inspector_does_not_confirm_and_a_second_officer_does_once(app: Flask) -> None:
    world = _amed_grant()
    report = file_report(world, "fy2026", lines(90 * MAN), 0, AFTER_FY2026)
    inspector = officer()
    accept_all(report, inspector, AFTER_FY2026)
    with pytest.raises(NotAllowed, match="another officer"):
        inspection.confirm_final_amount(inspector, report.id, None, AFTER_FY2026)
    with pytest.raises(NotAllowed):
        inspection.confirm_final_amount(world.applicant, report.id, None, AFTER_FY2026)
    assert db.session.query(Settlement).count() == 0
    inspection.confirm_final_amount(officer(), report.id, None, AFTER_FY2026)
    with pytest.raises(Conflict):
        inspection.confirm_final_amount(officer(), report.id, None, AFTER_FY2026)
    assert db.session.query(Settlement).count() == 1


def test_a_final_amount_above_the_tranche_is_the_tranche(app: Flask) -> None:
    world = _amed_grant()
    confirmed = settle_period(world, "fy2026", lines(300 * MAN * 100), 0, AFTER_FY2026)
    assert confirmed.final_amount == 100_000_000
    assert releases.release(officer(), world.milestones[0].id, AFTER_FY2026).amount == 100_000_000


def test_adjusted_lines_need_a_reason_the_grantee_reads(app: Flask) -> None:
    world = _amed_grant()
    report = file_report(world, "fy2026", lines(60 * MAN, 30 * MAN), 0, AFTER_FY2026)
    inspector = officer()
    with pytest.raises(RuleViolation) as caught:
        inspection.inspect_report(
            inspector,
            report.id,
            [LineDecision(50 * MAN, ""), LineDecision(31 * MAN, "")],
            AFTER_FY2026,
        )
    assert set(caught.value.fields) == {"lines.0.reason", "lines.1.accepted"}
    inspection.inspect_report(
        inspector,
        report.id,
        [LineDecision(50 * MAN, "領収書がありません"), LineDecision(30 * MAN, "")],
        AFTER_FY2026,
    )
    confirmed = inspection.confirm_final_amount(officer(), report.id, None, AFTER_FY2026)
    assert confirmed.final_amount == 80 * MAN * 2 // 3
    first = confirmed.trace["figures"][0]["message"]
    assert first["en"].endswith("(reason: 領収書がありません)")


def test_a_report_returned_for_correction_is_filed_again(app: Flask) -> None:
    world = _amed_grant()
    report = file_report(world, "fy2026", lines(90 * MAN), 0, AFTER_FY2026)
    with pytest.raises(RuleViolation) as caught:
        inspection.return_report(officer(), report.id, "", AFTER_FY2026)
    assert set(caught.value.fields) == {"note"}
    inspection.return_report(officer(), report.id, "旅費の領収書を添付してください。", AFTER_FY2026)
    assert report.state == ReportState.returned
    with pytest.raises(Conflict):
        inspection.inspect_report(officer(), report.id, [LineDecision(90 * MAN, "")], AFTER_FY2026)
    settlement.save_report(
        world.applicant,
        world.grant.id,
        "fy2026",
        lines(80 * MAN),
        0,
        "訂正",
        [],
        AFTER_FY2026,
        upload_folder=uploads(),
    )
    settlement.submit_report(world.applicant, report.id, AFTER_FY2026)
    assert report.state == ReportState.submitted and report.lines[0].claimed == 80 * MAN


def _advance_grant() -> GrantWorld:
    """The milestone preset: each tranche paid in advance (概算払), settled per milestone."""
    world = make_grant(tranches=(100_000_000, 200_000_000), first_due=date(2026, 12, 31))
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, date(2026, 10, 15))
    return world


def test_an_advance_above_the_final_amount_is_returned(app: Flask) -> None:
    world = _advance_grant()
    today = date(2026, 10, 20)
    report = file_report(world, "m1", lines(90 * MAN * 100), 0, today)
    accept_all(report, officer(), today)
    second = officer()
    with pytest.raises(RuleViolation) as caught:
        inspection.confirm_final_amount(second, report.id, None, today)
    assert set(caught.value.fields) == {"excess_method"}
    confirmed = inspection.confirm_final_amount(second, report.id, "returned", today)
    assert (confirmed.final_amount, confirmed.excess) == (60_000_000, 40_000_000)
    assert confirmed.return_due_on == date(2026, 11, 19)
    money = _money(world)
    assert (money.released, money.owed, money.remaining) == (100_000_000, 40_000_000, 200_000_000)
    with pytest.raises(RuleViolation) as caught:
        inspection.record_return(officer(), confirmed.id, date(2026, 10, 21), today)
    assert set(caught.value.fields) == {"received_on"}
    inspection.record_return(officer(), confirmed.id, today, today)
    assert pool(world, 2026).returned == 40_000_000
    money = _money(world)
    assert (money.released, money.owed, money.remaining) == (60_000_000, 0, 200_000_000)
    with pytest.raises(Conflict):
        inspection.record_return(officer(), confirmed.id, today, today)


def test_an_advance_above_the_final_amount_is_set_off_against_the_next_tranche(app: Flask) -> None:
    world = _advance_grant()
    today = date(2026, 10, 20)
    confirmed = settle_period(world, "m1", lines(90 * MAN * 100), 0, today, "set_off")
    assert confirmed.excess == 40_000_000
    approve(world, world.milestones[1])
    disbursement = releases.release(officer(), world.milestones[1].id, date(2027, 4, 5))
    assert (disbursement.amount, disbursement.set_off) == (160_000_000, 40_000_000)
    assert pool(world, 2026).returned == 40_000_000  # the advance's year gets it back
    assert pool(world, 2026).net_released == 60_000_000
    assert pool(world, 2027).released == 200_000_000  # the tranche's year pays it whole
    money = _money(world)
    assert (money.released, money.owed, money.remaining) == (260_000_000, 0, 0)


def test_a_set_off_needs_a_larger_next_tranche(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000, 10_000_000))
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, date(2026, 10, 15))
    today = date(2026, 10, 20)
    report = file_report(world, "m1", lines(30 * MAN * 100), 0, today)
    accept_all(report, officer(), today)
    with pytest.raises(RuleViolation) as caught:
        inspection.confirm_final_amount(officer(), report.id, "set_off", today)
    assert "next tranche" in caught.value.fields["excess_method"][0]
    assert db.session.query(Settlement).count() == 0


def test_a_pinned_settlement_rule_is_unaffected_by_a_later_version(app: Flask) -> None:
    world = _amed_grant()
    later = amed_certified_vc()
    later["settlement"]["subsidy_rate"] = "1/2"
    db.session.add(
        RuleSet(
            program_id=world.program.id,
            title="v2",
            status=RuleSetStatus.published,
            version=2,
            effective_from=date(2027, 4, 1),
            document=validate_ruleset(later),
            published_at=utcnow(),
        )
    )
    db.session.commit()
    confirmed = settle_period(world, "fy2026", lines(90 * MAN), 0, AFTER_FY2026)
    assert confirmed.final_amount == 60 * MAN  # 2/3, the pinned version's rate


def test_a_fiscal_year_settles_from_the_first_of_april(app: Flask) -> None:
    world = make_grant(
        tranches=(100_000_000, 200_000_000), first_due=date(2027, 3, 31), preset="amed"
    )
    approve(world, world.milestones[0])
    assert world.milestones[0].fiscal_year == 2026
    with pytest.raises(RuleViolation) as caught:
        file_report(world, "fy2026", lines(90 * MAN), 0, date(2027, 3, 31))
    assert "has not ended" in caught.value.fields["period"][0]
    report = file_report(world, "fy2026", lines(90 * MAN), 0, date(2027, 4, 1))
    assert report.due_on == date(2027, 5, 31)  # 61 days after 31 March


@pytest.mark.parametrize(
    ("claimed", "indirect", "period", "field"),
    [
        ([LineInput("equipment", "Reagents", -1)], 0, "fy2026", "lines.0.claimed"),
        ([LineInput("equipment", "Reagents", 10**16)], 0, "fy2026", "lines.0.claimed"),
        ([LineInput("equipment", "Reagents", "1,000")], 0, "fy2026", "lines.0.claimed"),
        ([LineInput("equipment", "Reagents", True)], 0, "fy2026", "lines.0.claimed"),
        ([LineInput("lunch", "Reagents", 1)], 0, "fy2026", "lines.0.category"),
        ([LineInput("equipment", "", 1)], 0, "fy2026", "lines.0.description"),
        ([LineInput("equipment", "x\x00", 1)], 0, "fy2026", "lines.0.description"),
        ([LineInput("equipment", "Reagents", 1)], -5, "fy2026", "indirect_cost"),
        ([LineInput("equipment", "Reagents", 1)], 0, "fy2027", "period"),
        ([LineInput("equipment", "Reagents", 1)], 0, "fy1999", "period"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(
    app: Flask, claimed: list[LineInput], indirect: Any, period: str, field: str
) -> None:
    world = _amed_grant()
    audit_rows = db.session.query(AuditEvent).count()
    with pytest.raises(RuleViolation) as caught:
        settlement.save_report(
            world.applicant,
            world.grant.id,
            period,
            claimed,
            indirect,
            "",
            [],
            AFTER_FY2026,
            upload_folder=uploads(),
        )
    assert field in caught.value.fields
    db.session.rollback()
    assert db.session.query(ResultsReport).count() == 0
    assert db.session.query(CostLine).count() == 0
    assert db.session.query(AuditEvent).count() == audit_rows


def test_only_the_grantee_files_and_only_officers_inspect(app: Flask) -> None:
    world = _amed_grant()
    with pytest.raises(NotAllowed):
        settlement.save_report(
            officer(),
            world.grant.id,
            "fy2026",
            lines(1),
            0,
            "",
            [],
            AFTER_FY2026,
            upload_folder=uploads(),
        )
    report = file_report(world, "fy2026", lines(90 * MAN), 0, AFTER_FY2026)
    with pytest.raises(NotAllowed):
        accept_all(report, world.applicant, AFTER_FY2026)
    with pytest.raises(Conflict):  # submitted: no longer the grantee's to change
        settlement.save_report(
            world.applicant,
            world.grant.id,
            "fy2026",
            lines(1),
            0,
            "",
            [],
            AFTER_FY2026,
            upload_folder=uploads(),
        )


def test_receipts_follow_the_evidence_file_rules(app: Flask) -> None:
    import io

    world = _amed_grant()
    good = ("receipt.pdf", io.BytesIO(b"%PDF-1.4 receipt"), "application/pdf")
    bad = ("receipt.exe", io.BytesIO(b"MZ"), "application/octet-stream")
    with pytest.raises(RuleViolation) as caught:
        settlement.save_report(
            world.applicant,
            world.grant.id,
            "fy2026",
            lines(1),
            0,
            "",
            [good, bad],
            AFTER_FY2026,
            upload_folder=uploads(),
        )
    assert set(caught.value.fields) == {"files"}
    good = ("receipt.pdf", io.BytesIO(b"%PDF-1.4 receipt"), "application/pdf")
    report = settlement.save_report(
        world.applicant,
        world.grant.id,
        "fy2026",
        lines(1),
        0,
        "",
        [good],
        AFTER_FY2026,
        upload_folder=uploads(),
    )
    [receipt] = report.receipts
    assert (uploads() / receipt.stored_name).read_bytes() == b"%PDF-1.4 receipt"
