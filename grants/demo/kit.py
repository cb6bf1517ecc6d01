"""Building blocks of the demo data: each step calls the real use case, so it is audited.

Every `ensure_*` creates only what is missing, so that `flask grants demo` may run again.
An application (found by programme and title) is the unit of a demo story: when it exists,
its whole story (submission, award, milestones...) is skipped.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization, User
from grants.accounts.rules import corporate_number_check_digit
from grants.applications import service as applications
from grants.applications.checks import (
    ApplicationData,
    CoInvestmentData,
    CriterionData,
    MilestoneData,
)
from grants.applications.models import Application
from grants.awards.models import Milestone
from grants.core.calendar import TOKYO, fiscal_year, fiscal_years
from grants.core.states import ReviewDecision
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from grants.milestones.reviews import service as reviews
from grants.programs import service as programs
from grants.programs.models import BudgetPool, Program
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet, RuleSetStatus


def corporate_number(base12: str) -> str:
    """A valid 法人番号 from its 12-digit base."""
    return f"{corporate_number_check_digit(base12)}{base12}"


# The demo's certified VCs (認定VC), by corporate number.
HIKARI = corporate_number("010001000004")
AOZORA = corporate_number("010001000007")
MINATO = corporate_number("010001000008")
# Investors whose money does not count: a VC whose certification was revoked, a corporate.
KITAKAZE = corporate_number("010001000009")
HOKUTO = corporate_number("010001000010")
APPLICANT = "applicant@example.jp"  # Sakura Bio
APPLICANT2 = "applicant2@example.jp"  # MediDevice
APPLICANT3 = "applicant3@example.jp"  # Mirai Therapeutics
OKU = 100_000_000  # 1億円

# Every fiscal year a demo date can fall in gets a pool: a year back, three years ahead.
POOL_YEARS_BACK = 1
POOL_YEARS_AHEAD = 3


@dataclass(frozen=True)
class Cast:
    """The demo users who act in the stories."""

    admin: User
    officer: User
    officer2: User
    reviewers: tuple[User, User]
    applicants: Mapping[str, User]  # by e-mail
    orgs: Mapping[str, Organization]  # by corporate number


@dataclass(frozen=True)
class PlanItem:
    title: str
    criteria: tuple[tuple[str, str, str], ...]  # (metric, target, unit)
    due: date
    tranche: int


@dataclass(frozen=True)
class Story:
    """One application: who files it, what it says, and when (None: it stays a draft)."""

    applicant: str  # e-mail of the demo applicant
    title: str
    theme: str
    modality: str
    stage: str
    eligible_cost: int
    indirect_cost: int
    requested_subsidy: int
    start: date
    end: date
    plan: tuple[PlanItem, ...]
    co_investments: tuple[tuple[str, int, bool], ...] = ()  # (VC corporate number, yen, lead)
    submitted_on: date | None = None


# ---- programmes ------------------------------------------------------------------------------


def ensure_program(
    officer: User, data: programs.ProgramData, preset: str, effective_from: date
) -> Program:
    """The programme with `data.code`, with a published version of `preset` in force."""
    program = db.session.scalar(select(Program).where(Program.code == data.code))
    if program is None:
        program = programs.create_program(officer, data)
    published = select(RuleSet.id).where(
        RuleSet.program_id == program.id, RuleSet.status == RuleSetStatus.published
    )
    if db.session.scalar(published.limit(1)) is None:
        title = f"{data.code} v1"
        draft = rulesets.create_draft(officer, program.id, title, rulesets.preset_document(preset))
        # Published back then, so that it is in force for the whole demo history.
        rulesets.publish(officer, draft.id, effective_from, today=effective_from)
    return program


def ensure_pools(officer: User, program: Program, today: date, appropriation: int) -> None:
    period = fiscal_years(program.application_opens, program.end_date)
    first = max(fiscal_year(today) - POOL_YEARS_BACK, period.start)
    for year in range(first, min(fiscal_year(today) + POOL_YEARS_AHEAD + 1, period.stop)):
        exists = select(BudgetPool.id).where(
            BudgetPool.program_id == program.id, BudgetPool.fiscal_year == year
        )
        if db.session.scalar(exists) is None:
            programs.set_appropriation(officer, program.id, year, appropriation)


def ensure_certified_vcs(cast: Cast, today: date) -> None:
    """The demo VCs, certified years ago, and one whose certification was revoked (its money
    no longer counts toward an application's share)."""
    for number, years, note in ((HIKARI, 3, "第1回認定"), (AOZORA, 2, "第3回認定"),
                                (MINATO, 1, "第5回認定")):  # fmt: skip
        if not _has_certification(cast.orgs[number]):
            certified_on = today - timedelta(days=365 * years)
            certifications.certify_vc(cast.admin, cast.orgs[number].id, certified_on, note=note)
    lapsed = cast.orgs[KITAKAZE]
    if not _has_certification(lapsed):
        certification = certifications.certify_vc(
            cast.admin, lapsed.id, today - timedelta(days=365 * 4), note="第1回認定"
        )
        certifications.revoke_certification(
            cast.admin, certification.id, today - timedelta(days=200), note="中間評価で認定取消"
        )


def _has_certification(org: Organization) -> bool:
    query = select(VcCertification.id).where(VcCertification.organization_id == org.id)
    return db.session.scalar(query.limit(1)) is not None


# ---- applications --------------------------------------------------------------------------


def existing_application(program: Program, title: str) -> Application | None:
    query = select(Application).where(
        Application.program_id == program.id, Application.title == title
    )
    return db.session.scalar(query.limit(1))


def file_application(cast: Cast, program: Program, story: Story) -> Application:
    """Draft, plan and co-investments; submitted when the story says so."""
    applicant = cast.applicants[story.applicant]
    data = ApplicationData(
        program_id=program.id,
        title=story.title,
        theme=story.theme,
        modality=story.modality,
        stage=story.stage,
        eligible_cost=story.eligible_cost,
        indirect_cost=story.indirect_cost,
        requested_subsidy=story.requested_subsidy,
        project_start=story.start,
        project_end=story.end,
    )
    application = applications.create_draft(applicant, data)
    plan = [
        MilestoneData(
            title=item.title,
            criteria=tuple(CriterionData(*criterion) for criterion in item.criteria),
            due_date=item.due,
            tranche_amount=item.tranche,
        )
        for item in story.plan
    ]
    applications.replace_plan(applicant, application.id, plan)
    if story.co_investments:
        items = [
            CoInvestmentData(cast.orgs[number].id, amount, lead)
            for number, amount, lead in story.co_investments
        ]
        applications.set_co_investments(applicant, application.id, items)
    if story.submitted_on is not None:
        applications.submit(applicant, application.id, story.submitted_on)
    return application


# ---- the story's dates ------------------------------------------------------------------------


def story_time(day: date, hour: int = 10) -> datetime:
    """A moment of the demo story: `day` at `hour` o'clock in Tokyo, as a UTC timestamp."""
    return datetime.combine(day, time(hour), tzinfo=TOKYO).astimezone(UTC)


def backdate(row: Any, day: date, *columns: str, hour: int = 10) -> None:
    """Stamp `row`'s timestamp `columns` with the story's day instead of the moment the demo
    was loaded (the use cases stamp "now"; their `today` arguments only decide the rules).

    Without it a demo loaded today would show every submission, decision and release as
    made today, e.g. no milestone delivered on time. The audit log keeps the real times: it
    records when the demo was loaded, and its hash chain is not rewritten.
    """
    for column in columns:
        setattr(row, column, story_time(day, hour))
    db.session.commit()


# ---- milestones ------------------------------------------------------------------------------


def submit_evidence(
    applicant: User,
    milestone: Milestone,
    day: date,
    narrative: str,
    values: Sequence[str],
    upload_folder: Path,
) -> None:
    """A round of evidence with a generated PDF report, stored through the evidence service
    in `upload_folder`."""
    number = milestone.grant.number
    name = f"{number}_M{milestone.sequence}_成果報告書.pdf"
    report = pdf_report(
        [
            "Milestone evidence report (demo)",
            f"Grant {number}, milestone {milestone.sequence}, round {milestone.round + 1}",
            f"Submitted on {day.isoformat()}",
            *(f"Criterion {i + 1}: {value}" for i, value in enumerate(values)),
        ]
    )
    measured = dict(enumerate(values))
    files = [(name, io.BytesIO(report), "application/pdf")]
    submission = evidence.submit_evidence(
        applicant, milestone.id, narrative, measured, files, day, upload_folder=upload_folder
    )
    backdate(submission, day, "submitted_at")


def review_round(
    cast: Cast, milestone: Milestone, day: date, decisions: Sequence[tuple[str, str]]
) -> None:
    """Each demo reviewer's (decision, comment) on the current round, a day apart; the round
    is decided on the last one's day."""
    last = day
    for offset, (reviewer, (decision, comment)) in enumerate(
        zip(cast.reviewers, decisions, strict=True)
    ):
        last = day + timedelta(offset)
        review = reviews.decide(reviewer, milestone.id, ReviewDecision(decision), comment, last)
        backdate(review, last, "decided_at")
    decided = db.session.get(Milestone, milestone.id)
    if decided is not None and decided.decided_at is not None:
        backdate(decided, last, "decided_at")


# ---- files -----------------------------------------------------------------------------------


def pdf_report(lines: Sequence[str]) -> bytes:
    """A small, valid one-page PDF showing `lines` (ASCII) in Helvetica."""
    text = "\n".join(f"({_pdf_escape(line)}) Tj 0 -18 Td" for line in lines)
    content = f"BT /F1 12 Tf 56 780 Td\n{text}\nET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _pdf_escape(line: str) -> str:
    ascii_only = line.encode("ascii", "replace").decode("ascii")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
