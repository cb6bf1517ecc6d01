"""Demo settlement of the milestone programme's paid tranches (概算払, settled per milestone),
through the use cases: the heart pump's first milestone settled (its final amount is the
tranche), the β-lactamase inhibitor's advance being settled (inspected with one line cut,
waiting for the second officer, the advance above the final amount to return or set off),
and the exon-skipping report returned for correction.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.awards.models import Grant
from grants.demo.kit import APPLICANT, APPLICANT2, APPLICANT3, Cast, backdate, pdf_report
from grants.extensions import db
from grants.settlement import service as reports
from grants.settlement.inspection import service as inspection
from grants.settlement.models import ResultsReport
from grants.settlement.service import LineInput

MILLION = 1_000_000
BETA_LACTAMASE = "多剤耐性グラム陰性菌に対する新規β-ラクタマーゼ阻害剤の開発"
HEART_PUMP_TITLE = "小児用植込み型補助人工心臓の小型化と前臨床評価"
DMD_TITLE = "デュシェンヌ型筋ジストロフィーに対するエクソンスキッピング核酸医薬の開発"


def load(cast: Cast, today: date, upload_folder: Path) -> None:
    """Each story once: a grant that has a results report already is left as it is."""
    stories = (
        (HEART_PUMP_TITLE, APPLICANT2, _settled),
        (BETA_LACTAMASE, APPLICANT, _being_settled),
        (DMD_TITLE, APPLICANT3, _returned),
    )
    for title, applicant, play in stories:
        grant = _grant(title)
        if grant is None or _has_report(grant):
            continue
        play(cast, grant, cast.applicants[applicant], today, upload_folder)


def _settled(cast: Cast, grant: Grant, applicant: User, today: date, folder: Path) -> None:
    """Filed a month ago, inspected, and confirmed by the second officer: 1億3,000万円 of
    costs at 2/3 is above the 8,000万円 tranche, which is the final amount."""
    filed_on = today - timedelta(days=60)
    lines = [
        LineInput("equipment", "Pump housing prototypes (titanium)", 70 * MILLION),
        LineInput("personnel", "Engineers (2 FTE, 4 months)", 45 * MILLION),
        LineInput("travel", "Supplier audits", 3 * MILLION),
        LineInput("other", "Outsourced CFD analysis", 12 * MILLION),
    ]
    report = _file(applicant, grant, lines, 10 * MILLION, filed_on, folder)
    inspection.inspect_report(
        cast.officer, report.id, _accept(report), filed_on + timedelta(days=7)
    )
    confirmed = inspection.confirm_final_amount(
        cast.officer2, report.id, None, filed_on + timedelta(days=10)
    )
    backdate(confirmed, filed_on + timedelta(days=10), "confirmed_at")


def _being_settled(cast: Cast, grant: Grant, applicant: User, today: date, folder: Path) -> None:
    """Inspected a week ago with the travel line cut (no receipts); the advance of 1億円 is
    above the final amount (2/3 of 1億2,500万円): the second officer chooses a return or a
    set-off against the next tranche."""
    filed_on = today - timedelta(days=20)
    lines = [
        LineInput("equipment", "試薬・消耗品（化合物合成）", 60 * MILLION),
        LineInput("personnel", "研究員人件費（3名）", 50 * MILLION),
        LineInput("travel", "学会出張旅費", 10 * MILLION),
    ]
    report = _file(applicant, grant, lines, 15 * MILLION, filed_on, folder)
    decisions = _accept(report)
    decisions[2] = inspection.LineDecision(0, "領収書が添付されていないため対象外とします。")
    inspection.inspect_report(cast.officer, report.id, decisions, today - timedelta(days=7))


def _returned(cast: Cast, grant: Grant, applicant: User, today: date, folder: Path) -> None:
    """Returned for correction: the personnel costs need the staff's time records."""
    filed_on = today - timedelta(days=30)
    lines = [
        LineInput("equipment", "核酸合成・精製", 30 * MILLION),
        LineInput("personnel", "研究員人件費", 25 * MILLION),
    ]
    report = _file(applicant, grant, lines, 5 * MILLION, filed_on, folder)
    inspection.return_report(
        cast.officer,
        report.id,
        "人件費の根拠として、従事者ごとの従事日誌（エフォート記録）を添付してください。",
        today - timedelta(days=25),
    )


def _file(
    applicant: User,
    grant: Grant,
    lines: list[LineInput],
    indirect: int,
    filed_on: date,
    folder: Path,
) -> ResultsReport:
    receipt = pdf_report(["Receipts", grant.number, f"{sum(i.claimed for i in lines):,} JPY"])
    upload = ("receipts.pdf", io.BytesIO(receipt), "application/pdf")
    report = reports.save_report(
        applicant,
        grant.id,
        "m1",
        lines,
        indirect,
        "",
        [upload],
        filed_on,
        upload_folder=folder,
    )
    report = reports.submit_report(applicant, report.id, filed_on)
    backdate(report, filed_on, "created_at", "submitted_at")
    return report


def _accept(report: ResultsReport) -> list[inspection.LineDecision]:
    return [inspection.LineDecision(line.claimed, "") for line in report.lines]


def _grant(title: str) -> Grant | None:
    return db.session.scalar(
        select(Grant)
        .join(Application, Application.id == Grant.application_id)
        .where(Application.title == title)
    )


def _has_report(grant: Grant) -> bool:
    return (
        db.session.scalar(select(ResultsReport.id).where(ResultsReport.grant_id == grant.id))
        is not None
    )
