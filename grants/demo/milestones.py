"""Demo: the milestone programme (MS-DARPA-1), three grants mid-flight around `today`.

Between them the milestones are in every state: released, approved and waiting for the
officer's release, submitted and waiting for the reviewers, changes requested, a no-go,
planned ones ahead, and one overdue (due in the past, no evidence yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from grants.accounts.models import User
from grants.amendments import service as amendments
from grants.applications.screening import service as screening
from grants.awards import service as awards
from grants.awards.models import Grant, Milestone
from grants.demo.kit import (
    APPLICANT,
    APPLICANT2,
    APPLICANT3,
    HIKARI,
    OKU,
    Cast,
    PlanItem,
    Story,
    backdate,
    ensure_pools,
    ensure_program,
    existing_application,
    file_application,
    review_round,
    submit_evidence,
)
from grants.investments import service as investments
from grants.milestones.assignments import service as assignments
from grants.programs.service import ProgramData
from grants.releases import service as releases

CODE = "MS-DARPA-1"
APPROPRIATION = 50 * OKU
MILLION = 1_000_000  # 百万円
DMD_TITLE = "デュシェンヌ型筋ジストロフィーに対するエクソンスキッピング核酸医薬の開発"
# The call ran well before today; the grants were awarded about nine months ago.
OPENED_DAYS_AGO = 330
AWARDED_DAYS_AGO = 280


class Fate(StrEnum):
    """Where a milestone stands today."""

    planned = "planned"
    submitted = "submitted"  # evidence in, waiting for the reviewers
    approved = "approved"  # approved, waiting for the officer to release the tranche
    released = "released"
    changes = "changes_requested"
    rejected = "rejected"


@dataclass(frozen=True)
class Step:
    item: PlanItem
    fate: Fate
    measured: str = ""


@dataclass(frozen=True)
class GrantStory:
    story: Story
    steps: tuple[Step, ...]
    investment: tuple[str, int, int] | None = None  # (VC, yen, paid this many days ago)
    amendment: tuple[int, int, str] | None = None  # (sequence, days to add, reason)


_DECISIONS = {
    Fate.approved: (
        ("approve", "成功基準を満たしていることを確認しました。"),
        ("approve", "データは十分です。承認します。"),
    ),
    Fate.changes: (
        ("approve", "概ね妥当です。"),
        ("request_changes", "hERG阻害試験の生データが添付されていません。追加で提出してください。"),
    ),
    Fate.rejected: (
        ("reject", "測定値が成功基準を大きく下回っており、No-Goと判断します。"),
        ("reject", "同意見です。現行の計画での継続は困難です。"),
    ),
}
_DECISIONS[Fate.released] = _DECISIONS[Fate.approved]


def load(cast: Cast, today: date, upload_folder: Path) -> None:
    """The programme's grants as their stories go, evidence files stored in `upload_folder`."""
    opens = today - timedelta(days=OPENED_DAYS_AGO)
    program = ensure_program(
        cast.officer, _program_data(today, opens), "milestone_programme", opens
    )
    ensure_pools(cast.officer, program, today, APPROPRIATION)
    for grant_story in _stories(today):
        if existing_application(program, grant_story.story.title) is not None:
            continue
        application = file_application(cast, program, grant_story.story)
        awarded_on = today - timedelta(AWARDED_DAYS_AGO)
        screening.screen(cast.officer, application.id, awarded_on)
        grant = awards.award(cast.officer, application.id, awarded_on)
        backdate(grant, awarded_on, "awarded_at")
        _run_grant(cast, grant, grant_story, today, awarded_on, upload_folder)


def _program_data(today: date, opens: date) -> ProgramData:
    return ProgramData(
        code=CODE,
        name_ja="重点領域マイルストーン型研究開発支援事業（デモ）",
        name_en="Priority-area milestone R&D programme (demo)",
        application_opens=opens,
        application_closes=opens + timedelta(days=75),
        end_date=today + timedelta(days=3 * 365),
        themes=["rare_disease", "amr", "infectious_crisis", "unmet_device"],
        modalities=["drug", "regenerative", "device", "samd"],
    )


def _run_grant(
    cast: Cast,
    grant: Grant,
    grant_story: GrantStory,
    today: date,
    awarded_on: date,
    upload_folder: Path,
) -> None:
    applicant = cast.applicants[grant_story.story.applicant]
    for reviewer in cast.reviewers:
        assigned = assignments.assign_reviewer(cast.officer, grant.id, reviewer.id, awarded_on)
        backdate(assigned, awarded_on, "assigned_at")
    if grant_story.investment is not None:
        vc, amount, days_ago = grant_story.investment
        paid_on = today - timedelta(days=days_ago)
        recorded = investments.record_investment(
            cast.officer, grant.id, cast.orgs[vc].id, amount, paid_on,
            f"振込番号 MS-{paid_on:%Y%m%d}（出資払込）", paid_on + timedelta(days=2),
        )  # fmt: skip
        backdate(recorded, paid_on + timedelta(days=2), "recorded_at")
        # Separation of duties: another officer verifies what one recorded.
        verified = investments.verify_investment(
            cast.officer2, recorded.id, paid_on + timedelta(days=3)
        )
        backdate(verified, paid_on + timedelta(days=3), "verified_at")
    milestones = list(grant.milestones)
    for milestone, step in zip(milestones, grant_story.steps, strict=True):
        _play(cast, applicant, milestone, step, today, upload_folder)
    if grant_story.amendment is not None:
        sequence, days, reason = grant_story.amendment
        milestone = milestones[sequence - 1]
        asked = amendments.request_amendment(
            applicant, grant.id, "due_date", milestone.id,
            milestone.due_date + timedelta(days=days), None, reason, today - timedelta(days=2),
        )  # fmt: skip
        backdate(asked, today - timedelta(days=2), "requested_at")


def _play(
    cast: Cast, applicant: User, milestone: Milestone, step: Step, today: date, upload_folder: Path
) -> None:
    """Evidence, reviews and release as far as the step's fate goes."""
    if step.fate == Fate.planned:
        return
    # A week before the due date, and never later than twelve days ago.
    submitted = min(milestone.due_date - timedelta(days=7), today - timedelta(days=12))
    narrative = (
        f"「{milestone.title}」の成果を報告します。測定結果は下記のとおりです。"
        "詳細は添付の報告書をご覧ください。"
    )
    submit_evidence(applicant, milestone, submitted, narrative, [step.measured], upload_folder)
    if step.fate == Fate.submitted:
        return
    review_round(cast, milestone, submitted + timedelta(days=4), _DECISIONS[step.fate])
    if step.fate == Fate.released:
        released_on = submitted + timedelta(days=10)
        disbursement = releases.release(cast.officer, milestone.id, released_on)
        backdate(disbursement, released_on, "released_at")
        backdate(milestone, released_on, "released_at")


def _stories(today: date) -> list[GrantStory]:
    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    def step(
        title: str, criterion: tuple[str, str, str], offset: int, millions: int, fate: Fate,
        measured: str = "",
    ) -> Step:  # fmt: skip
        return Step(PlanItem(title, (criterion,), day(offset), millions * MILLION), fate, measured)

    start, end = day(-270), day(720)
    beta_lactamase = (
        step("リード化合物の最適化", ("CREに対するMIC90", "<= 2", "µg/mL"), -150, 100,
             Fate.released, "1"),
        step("マウス感染モデルでの有効性確認", ("生存率", ">= 80", "%"), -25, 150,
             Fate.approved, "90"),
        step("GLP安全性薬理試験の完了", ("重篤な所見", "0", "件"), 20, 150,
             Fate.changes, "0"),
        step("治験届の提出", ("PMDA対面助言", ">= 1", "回"), 200, 200, Fate.planned),
    )  # fmt: skip
    heart_pump = (
        step("小型ポンプ試作機の完成", ("外径", "<= 30", "mm"), -120, 80,
             Fate.released, "28"),
        step("耐久試験（90日連続駆動）", ("連続駆動日数", ">= 90", "日"), -5, 120,
             Fate.submitted, "92"),
        step("大動物（ヤギ）慢性試験", ("生存期間", ">= 60", "日"), 150, 150, Fate.planned),
    )  # fmt: skip
    exon_skipping = (
        step("候補配列の選定", ("ジストロフィン発現回復率", ">= 20", "%"), -240, 50,
             Fate.released, "24"),
        step("非ヒト霊長類での薬物動態", ("筋組織内濃度", ">= 1", "µM"), -60, 100,
             Fate.rejected, "0.1"),
        step("改良配列での有効性再評価", ("発現回復率", ">= 30", "%"), -7, 100, Fate.planned),
        step("GLP毒性試験の完了", ("NOAEL", ">= 10", "mg/kg"), 240, 150, Fate.planned),
    )  # fmt: skip
    return [
        GrantStory(
            _story(APPLICANT, "多剤耐性グラム陰性菌に対する新規β-ラクタマーゼ阻害剤の開発",
                   "amr", "drug", (900, 90, 600), start, end, beta_lactamase, day(-320),
                   ((HIKARI, 3 * OKU, True),)),
            beta_lactamase,
            investment=(HIKARI, OKU * 3 // 2, 200),
            amendment=(3, 30, "追加のhERG阻害試験を実施するため、期日を30日延長してください。"),
        ),
        GrantStory(
            _story(APPLICANT2, "小児用植込み型補助人工心臓の小型化と前臨床評価",
                   "unmet_device", "device", (600, 60, 350), start, end, heart_pump, day(-315)),
            heart_pump,
        ),
        GrantStory(
            _story(APPLICANT3, DMD_TITLE,
                   "rare_disease", "drug", (700, 70, 400), start, end, exon_skipping, day(-310)),
            exon_skipping,
        ),
    ]  # fmt: skip


def _story(
    applicant: str,
    title: str,
    theme: str,
    modality: str,
    costs: tuple[int, int, int],  # eligible, indirect, requested (百万円)
    start: date,
    end: date,
    steps: tuple[Step, ...],
    submitted_on: date,
    co_investments: tuple[tuple[str, int, bool], ...] = (),
) -> Story:
    eligible, indirect, requested = (value * MILLION for value in costs)
    return Story(
        applicant, title, theme, modality, "non_clinical", eligible, indirect, requested,
        start, end, tuple(s.item for s in steps), co_investments, submitted_on,
    )  # fmt: skip
