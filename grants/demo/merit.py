"""Demo: a call selected by merit review (MR-DEVICE-1), laid out around `today`.

The rule set has a rubric (AMED's five written-review criteria, weights 20/25/25/15/15 on a
five-point scale); both demo reviewers sit on every panel. Five applications were scored
(one by its two reviewers far apart: flagged as a disagreement; one still waits for a
reviewer whose deadline is in three days), the budget pools hold three of them above the
funding line, and the lowest-ranked one was rejected, so that its applicant reads the
reviewers' feedback. Nothing is awarded: the ranking waits for the officer.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.screening import service as screening
from grants.awards import service as awards
from grants.demo.kit import (
    APPLICANT,
    APPLICANT2,
    APPLICANT3,
    OKU,
    Cast,
    PlanItem,
    Story,
    backdate,
    ensure_pools,
    existing_application,
    file_application,
)
from grants.extensions import db
from grants.merit_review import service as merit
from grants.merit_review.models import MeritAssignment
from grants.merit_review.panels import service as panels
from grants.merit_review.rules import ScoreEntry
from grants.merit_review.scores import service as scores
from grants.programs import service as programs
from grants.programs.models import Program
from grants.rules.presets import amed_rubric, milestone_programme
from grants.rulesets import service as rulesets

CODE = "MR-DEVICE-1"
# Each year's pool takes three of the five applications' 1.5億円 tranches of the second year.
APPROPRIATION = 5 * OKU
CRITERIA = ("fit", "significance", "plan", "team", "budget")

ECG = "AI心電図解析による心房細動の早期検出プログラム医療機器"
ENZYME = "希少疾患の在宅酵素補充療法に用いる携帯型注入デバイス"
COCHLEAR = "小児用人工内耳の小型化と長期安全性評価"
PATHOLOGY = "術中迅速病理診断を支援するAI画像解析システム"
AMR_CHIP = "薬剤耐性菌の迅速感受性検査マイクロ流体チップ"
REJECTION = (
    "書面審査の結果、予算の範囲内で採択できる順位に達しなかったため、不採択とします。"
    "評価者のコメントをご確認ください。"
)

# (title, applicant, theme, modality, scores of reviewer 1, of reviewer 2: None still open)
STORIES = (
    (ECG, APPLICANT2, "unmet_device", "samd", (5, 5, 4, 4, 5), (4, 5, 5, 4, 4)),
    (PATHOLOGY, APPLICANT2, "unmet_device", "samd", (5, 4, 5, 4, 4), (2, 2, 3, 2, 2)),
    (ENZYME, APPLICANT, "rare_disease", "device", (4, 4, 4, 3, 4), (4, 4, 3, 4, 4)),
    (COCHLEAR, APPLICANT3, "unmet_device", "device", (3, 4, 3, 3, 3), None),
    (AMR_CHIP, APPLICANT, "amr", "device", (2, 3, 2, 3, 2), (3, 2, 2, 2, 3)),
)
COMMENTS = {
    5: "非常に優れている。計画と根拠が明確である。",
    4: "優れている。軽微な課題はあるが妥当である。",
    3: "標準的。いくつかの点で具体性が不足している。",
    2: "課題が多い。計画の実現性に懸念がある。",
    1: "不十分。",
}


def load(cast: Cast, today: date) -> None:
    opens = today - timedelta(days=90)
    program = _program(cast.officer, today, opens)
    ensure_pools(cast.officer, program, today, APPROPRIATION)
    if existing_application(program, ECG) is not None:
        return
    merit.set_settings(cast.officer, program.id, merit.SettingsData(2, 21, "mean", "none", "1.5"))
    ids = {}
    for title, applicant, theme, modality, _first, _second in STORIES:
        application = file_application(
            cast, program, _story(today, title, applicant, theme, modality)
        )
        screening.screen(cast.officer, application.id, today)
        ids[title] = application.id
    assigned_on = today - timedelta(days=18)
    panels.fill_panels(cast.officer, program.id, "written", assigned_on, today + timedelta(days=3))
    for title, _applicant, _theme, _modality, first, second in STORIES:
        for reviewer, values, day in (
            (cast.reviewers[0], first, 9),
            (cast.reviewers[1], second, 6),
        ):
            assignment = _assignment(ids[title], reviewer)
            backdate(assignment, assigned_on, "assigned_at")
            if values is not None:
                scores.submit_scores(reviewer, assignment.id, _entries(values))
                backdate(assignment, today - timedelta(days=day), "submitted_at")
    awards.reject(cast.officer2, ids[AMR_CHIP], REJECTION, today)


def _program(officer: User, today: date, opens: date) -> Program:
    program = db.session.scalar(select(Program).where(Program.code == CODE))
    if program is not None:
        return program
    closes = today - timedelta(days=30)
    data = programs.ProgramData(
        code=CODE,
        name_ja="アンメット医療機器開発支援 第1回公募（メリット審査デモ）",
        name_en="Unmet-need medical devices, call 1 (merit review demo)",
        application_opens=opens,
        application_closes=closes,
        end_date=today + timedelta(days=365 * 4),
        themes=["rare_disease", "amr", "infectious_crisis", "unmet_device"],
        modalities=["device", "samd"],
    )
    program = programs.create_program(officer, data)
    document = {**milestone_programme(), "rubric": {**amed_rubric(), "hearing": None}}
    draft = rulesets.create_draft(officer, program.id, f"{CODE} v1", document)
    rulesets.publish(officer, draft.id, opens, today=opens)
    return program


def _story(today: date, title: str, applicant: str, theme: str, modality: str) -> Story:
    """4億円 asked for in three tranches a year apart: 1億, 1.5億, 1.5億 (the first at most a
    quarter of the request, as the programme's award rule says)."""
    first = today + timedelta(days=45)
    first = first.replace(day=min(first.day, 28))
    dues = [first.replace(year=first.year + n) for n in range(3)]
    plan = (
        PlanItem("試作機の完成", (("試作機台数", ">= 3", "台"),), dues[0], OKU),
        PlanItem("性能評価試験の完了", (("感度", ">= 90", "%"),), dues[1], OKU * 3 // 2),
        PlanItem("臨床性能試験の完了", (("登録症例数", ">= 100", "例"),), dues[2], OKU * 3 // 2),
    )
    start, end = today - timedelta(days=30), dues[2] + timedelta(days=30)
    submitted = today - timedelta(days=60)
    return Story(
        applicant, title, theme, modality, "non_clinical", 6 * OKU, OKU * 3 // 5, 4 * OKU,
        start, end, plan, (), submitted,
    )  # fmt: skip


def _assignment(application_id: int, reviewer: User) -> MeritAssignment:
    query = select(MeritAssignment).where(
        MeritAssignment.application_id == application_id,
        MeritAssignment.reviewer_id == reviewer.id,
    )
    return db.session.scalars(query).one()


def _entries(values: tuple[int, ...]) -> list[ScoreEntry]:
    return [
        ScoreEntry(criterion, value, COMMENTS[value])
        for criterion, value in zip(CRITERIA, values, strict=True)
    ]
