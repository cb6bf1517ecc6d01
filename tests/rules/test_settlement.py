"""The final amount (額の確定): DOMAIN.md's worked example, caps by organisation type,
rounding down, the tranche as the ceiling, the advance's excess, and the section's schema."""

from __future__ import annotations

from typing import Any

import pytest

from grants.rules import RuleSetInvalid, amed_certified_vc, milestone_programme, validate_ruleset
from grants.rules.settlement import (
    FundType,
    Line,
    PaymentMode,
    PeriodKind,
    SettlementFacts,
    allocate,
    settle,
    settlement_rules,
)

pytestmark = pytest.mark.pure

MAN = 10_000  # 万円
AMED = settlement_rules(validate_ruleset(amed_certified_vc()))


def _facts(org_kind: str, direct: int, indirect: int, decided: int, **kw: Any) -> SettlementFacts:
    return SettlementFacts(org_kind, [Line("equipment", direct)], indirect, decided, **kw)


def test_domain_worked_example_a_university() -> None:
    """9,000万 direct + 3,000万 indirect, capped at 30% = 2,700万 → 1億1,700万 eligible;
    2/3 = 7,800万; the tranche was 1億: the final amount is 7,800万円."""
    settled = settle(AMED, _facts("university", 9_000 * MAN, 3_000 * MAN, 10_000 * MAN))
    assert settled.indirect_cap == 2_700 * MAN
    assert settled.indirect == 2_700 * MAN
    assert settled.eligible == 11_700 * MAN
    assert settled.subsidy == 7_800 * MAN
    assert settled.final_amount == 7_800 * MAN
    messages = {figure.key: figure.message for figure in settled.figures}
    assert messages["indirect_cap"]["ja"] == (
        "間接経費の上限: 直接経費 9,000万円 の 30%(大学) = 2,700万円"
    )
    assert messages["final_amount"]["en"] == (
        "Final amount: the lower of ¥100,000,000 and ¥78,000,000 = ¥78,000,000"
    )
    assert settled.trace()["final_amount"] == 78_000_000


@pytest.mark.parametrize(
    ("org_kind", "cap"),
    [("university", 30), ("startup", 20), ("company", 10), ("vc", 10), ("other", 10)],
)
def test_the_indirect_cap_follows_the_organisation_type(org_kind: str, cap: int) -> None:
    settled = settle(AMED, _facts(org_kind, 100 * MAN, 50 * MAN, 10**12))
    assert settled.indirect == cap * MAN
    assert settled.eligible == (100 + cap) * MAN


def test_indirect_below_the_cap_counts_as_claimed() -> None:
    settled = settle(AMED, _facts("startup", 100 * MAN, 5 * MAN, 10**12))
    assert settled.indirect == 5 * MAN


def test_the_subsidy_is_rounded_down_to_the_yen() -> None:
    settled = settle(AMED, _facts("other", 100, 0, 10**12))
    assert settled.subsidy == 66  # 2/3 of 100 = 66.67
    settled = settle(AMED, _facts("startup", 1_001, 1_000, 10**12))
    assert settled.indirect_cap == 200  # 20% of 1,001 = 200.2
    assert settled.subsidy == 800  # 2/3 of 1,201 = 800.67


def test_the_final_amount_is_never_above_the_tranche() -> None:
    above = settle(AMED, _facts("startup", 300 * MAN, 0, 100 * MAN))
    assert above.subsidy == 200 * MAN and above.final_amount == 100 * MAN
    below = settle(AMED, _facts("startup", 90 * MAN, 0, 100 * MAN))
    assert below.final_amount == 60 * MAN


def test_adjusted_lines_count_as_accepted_and_say_why() -> None:
    lines = [
        Line("equipment", 60 * MAN, 50 * MAN, "領収書なし"),
        Line("travel", 30 * MAN, 30 * MAN),
        Line("personnel", 10 * MAN),
    ]
    settled = settle(AMED, SettlementFacts("university", lines, 0, 10**12))
    assert settled.direct == 90 * MAN
    first = settled.figures[0].message
    assert first["ja"] == "物品費: 申請 60万円 → 確定 50万円(理由: 領収書なし)"
    assert (
        first["en"]
        == "Equipment and supplies: claimed ¥600,000 → accepted ¥500,000 (reason: 領収書なし)"
    )


def test_an_advance_above_the_final_amount_is_the_excess() -> None:
    settled = settle(AMED, _facts("startup", 90 * MAN, 0, 100 * MAN, advance_paid=100 * MAN))
    assert settled.excess == 40 * MAN
    assert settled.figures[-1].key == "excess"
    assert (
        settle(AMED, _facts("startup", 300 * MAN, 0, 100 * MAN, advance_paid=100 * MAN)).excess == 0
    )


def test_allocate_pays_the_period_in_milestone_order() -> None:
    assert allocate(250, [(1, 100), (2, 200)]) == {1: 100, 2: 150}
    assert allocate(50, [(1, 100), (2, 200)]) == {1: 50, 2: 0}


def test_the_presets_settle_as_their_programmes_pay() -> None:
    assert (AMED.period, AMED.payment, AMED.fund) == (
        PeriodKind.fiscal_year,
        PaymentMode.after_settlement,
        FundType.fund,
    )
    milestone = settlement_rules(validate_ruleset(milestone_programme()))
    assert (milestone.period, milestone.payment) == (PeriodKind.milestone, PaymentMode.advance)
    assert [c.ja for c in AMED.categories] == ["物品費", "旅費", "人件費・謝金", "その他"]


def _errors(settlement: dict[str, Any]) -> Any:
    document = amed_certified_vc()
    document["settlement"] = {**document["settlement"], **settlement}
    with pytest.raises(RuleSetInvalid) as caught:
        validate_ruleset(document)
    return caught.value.fields["settlement"]


@pytest.mark.parametrize(
    ("settlement", "field"),
    [
        ({"subsidy_rate": "3/2"}, "subsidy_rate"),
        ({"subsidy_rate": "-1"}, "subsidy_rate"),
        ({"indirect_caps": {"university": "30%"}}, "indirect_caps"),
        ({"categories": []}, "categories"),
        ({"categories": [{"code": "x", "ja": "a", "en": "a"}] * 2}, "categories"),
        ({"period": "weekly"}, "period"),
        ({"payment": "cash"}, "payment"),
        ({"fund": "x"}, "fund"),
        ({"report_due_days": 0}, "report_due_days"),
    ],
)
def test_a_bad_settlement_section_names_its_field(settlement: dict[str, Any], field: str) -> None:
    assert set(_errors(settlement)) == {field}
