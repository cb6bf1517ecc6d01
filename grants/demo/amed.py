"""Demo: the AMED certified-VC programme, call 7 (AMED-VC-7), laid out around `today`.

Six applications show the rules at work: two fail the lead-VC minimum of 10億円 (phase 1
and phase 2), two pass at the non-clinical stage through the 1億円 relaxation (one of them
is awarded), one asks about 120億円 of eligible cost and carries the project-size warning,
and one is still a draft.
"""

from __future__ import annotations

from datetime import date, timedelta

from grants.applications.models import Application
from grants.applications.screening import service as screening
from grants.awards import service as awards
from grants.awards.models import Grant
from grants.demo.kit import (
    AOZORA,
    APPLICANT,
    APPLICANT3,
    HIKARI,
    HOKUTO,
    KITAKAZE,
    MINATO,
    OKU,
    Cast,
    PlanItem,
    Story,
    backdate,
    ensure_pools,
    ensure_program,
    existing_application,
    file_application,
)
from grants.investments import service as investments
from grants.milestones.assignments import service as assignments
from grants.programs.service import ProgramData

CODE = "AMED-VC-7"
# The call's own limit on the project end (the preset's project_end_deadline rule).
DEADLINE = date(2031, 9, 30)
APPROPRIATION = 200 * OKU

FAIL_PHASE1 = "KRAS G12D阻害薬 SB-101 の第I相臨床試験"
FAIL_PHASE2 = "iPS細胞由来心筋シート MT-301 の第II相臨床試験"
RELAXED_AWARDED = "抗線維化抗体 SB-207 の非臨床試験"
RELAXED_WAITING = "希少疾患向けAAV遺伝子治療薬 MT-112 の非臨床開発"
LARGE_WARNING = "次世代mRNAワクチン SB-550 の国際共同第II相試験"
DRAFT = "抗体薬物複合体 MT-701 の探索的非臨床試験"

REJECTION = (
    "リードVCの出資額（8億円）が公募要領の下限（臨床段階: 10億円）に満たないため、不採択とします。"
)


def load(cast: Cast, today: date) -> None:
    opens = today - timedelta(days=120)
    program = ensure_program(cast.officer, _program_data(today, opens), "amed_certified_vc", opens)
    ensure_pools(cast.officer, program, today, APPROPRIATION)
    for story in _stories(today):
        if existing_application(program, story.title) is not None:
            continue
        application = file_application(cast, program, story)
        if story.submitted_on is not None:
            screening.screen(cast.officer, application.id, story.submitted_on)
        if story.title == FAIL_PHASE2:
            awards.reject(cast.officer2, application.id, REJECTION, today)
        elif story.title == RELAXED_AWARDED:
            _award(cast, application, today)


def _program_data(today: date, opens: date) -> ProgramData:
    closes = today + timedelta(days=45)
    return ProgramData(
        code=CODE,
        name_ja="創薬ベンチャーエコシステム強化事業 第7回公募（デモ）",
        name_en="Drug discovery venture ecosystem programme, call 7 (demo)",
        application_opens=opens,
        application_closes=closes,
        end_date=max(DEADLINE, closes),
        themes=["rare_disease", "amr", "infectious_crisis", "unmet_device", "other"],
        modalities=["drug", "regenerative"],
    )


def _award(cast: Cast, application: Application, today: date) -> None:
    """Award it, assign the reviewers, and record the VCs' first payments."""
    awarded_on = today - timedelta(days=40)
    grant: Grant = awards.award(cast.officer, application.id, awarded_on)
    backdate(grant, awarded_on, "awarded_at")
    for reviewer in cast.reviewers:
        assigned = assignments.assign_reviewer(cast.officer, grant.id, reviewer.id, awarded_on)
        backdate(assigned, awarded_on, "assigned_at")
    first = investments.record_investment(
        cast.officer,
        grant.id,
        cast.orgs[HIKARI].id,
        OKU * 3 // 2,
        today - timedelta(days=25),
        "振込番号 HK-2024-0815（ひかりVC 第1回払込）",
        today - timedelta(days=24),
    )
    backdate(first, today - timedelta(days=24), "recorded_at")
    # Separation of duties: another officer verifies what one recorded.
    verified = investments.verify_investment(cast.officer2, first.id, today - timedelta(days=22))
    backdate(verified, today - timedelta(days=22), "verified_at")
    # Recorded by officer2 and not verified yet: it waits for the other officer.
    waiting = investments.record_investment(
        cast.officer2,
        grant.id,
        cast.orgs[AOZORA].id,
        OKU,
        today - timedelta(days=10),
        "振込番号 AZ-7731（あおぞらBV 払込）",
        today - timedelta(days=9),
    )
    backdate(waiting, today - timedelta(days=9), "recorded_at")


def _stories(today: date) -> list[Story]:
    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    def item(title: str, criterion: tuple[str, str, str], offset: int, oku: int) -> PlanItem:
        return PlanItem(title, (criterion,), day(offset), oku * OKU)

    start, end = day(-30), min(day(700), DEADLINE)
    return [
        Story(
            APPLICANT, FAIL_PHASE1, "other", "drug", "phase1",
            20 * OKU, 2 * OKU, 13 * OKU, start, end,
            (
                item("第I相試験 初回被験者投与", ("初回投与完了例数", ">= 1", "例"), 90, 5),
                item("用量漸増パートの完了", ("完了コホート数", ">= 4", "コホート"), 300, 8),
            ),
            ((HIKARI, 5 * OKU, True), (AOZORA, 2 * OKU, False)),
            day(-100),
        ),
        Story(
            APPLICANT3, FAIL_PHASE2, "other", "regenerative", "phase2",
            30 * OKU, 3 * OKU, 20 * OKU, start, end,
            (
                item("第II相試験 登録50%達成", ("登録症例数", ">= 40", "例"), 120, 8),
                item("主要評価項目の解析完了", ("LVEF改善", ">= 5", "%"), 480, 12),
            ),
            ((MINATO, 8 * OKU, True), (HIKARI, 3 * OKU, False)),
            day(-95),
        ),
        Story(
            APPLICANT, RELAXED_AWARDED, "rare_disease", "drug", "non_clinical",
            15 * OKU, OKU * 3 // 2, 10 * OKU, start, min(day(540), DEADLINE),
            (
                item("GLP反復投与毒性試験の完了", ("NOAEL", ">= 30", "mg/kg"), 60, 3),
                item("治験薬GMP製造ロットの出荷", ("出荷ロット数", ">= 2", "ロット"), 240, 4),
                item("治験届の提出", ("PMDA受理", "1", "件"), 420, 3),
            ),
            ((HIKARI, 3 * OKU, True), (AOZORA, OKU * 5 // 2, False)),
            day(-90),
        ),
        Story(
            APPLICANT3, RELAXED_WAITING, "rare_disease", "regenerative", "non_clinical",
            12 * OKU, OKU * 6 // 5, 8 * OKU, start, end,
            (
                item("サル毒性試験の完了", ("重篤な有害事象", "0", "件"), 150, 3),
                item("GMP製造法の確立", ("ベクター力価", ">= 1e13", "vg/mL"), 400, 5),
            ),
            # Only the certified lead's money counts: the revoked VC and the corporate take
            # part in the round and the eligibility trace says why they are not counted.
            ((MINATO, 5 * OKU, True), (KITAKAZE, OKU, False), (HOKUTO, 2 * OKU, False)),
            day(-80),
        ),
        Story(
            APPLICANT, LARGE_WARNING, "infectious_crisis", "drug", "phase2",
            120 * OKU, 10 * OKU, 80 * OKU, start, end,
            (
                item("第II相試験 被験者登録完了", ("登録被験者数", ">= 600", "人"), 200, 30),
                item("中間解析", ("中和抗体価の上昇", ">= 4", "倍"), 500, 50),
            ),
            ((HIKARI, 30 * OKU, True), (AOZORA, 10 * OKU, False), (MINATO, 5 * OKU, False)),
            day(-70),
        ),
        Story(
            APPLICANT3, DRAFT, "other", "drug", "non_clinical",
            9 * OKU, OKU * 9 // 10, 6 * OKU, day(60), end,
            (item("in vivo 有効性の確認", ("腫瘍増殖抑制率", ">= 60", "%"), 240, 6),),
            ((MINATO, 3 * OKU, True),),
            None,
        ),
    ]  # fmt: skip
