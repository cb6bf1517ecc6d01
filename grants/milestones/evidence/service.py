"""Evidence for a milestone: the narrative, a measured value per criterion, and files.

Files are checked by extension AND by their first bytes, written under random names
in the upload folder (the UPLOAD_FOLDER setting, outside static/, which the edges pass in)
only after everything validated, and removed again when the transaction fails.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.awards.models import EvidenceFile, EvidenceSubmission, Milestone
from grants.awards.queries import (
    _evidence_subject,
    eligible_reviewer_ids,
    grant_subject,
    require_on_grant,
    stages_of,
)
from grants.awards.rules import grant_allows
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.permissions import Action, Reason, decide, require
from grants.core.problems import N_, Problem
from grants.core.states import MilestoneState, current_milestone, transition
from grants.core.text import figure, neutralise
from grants.extensions import db
from grants.milestones.evidence import spreadsheets

NARRATIVE_MAX = 20_000
VALUE_MAX = 200
NAME_MAX = 200
FILES_MAX = 20

# extension -> (stored content type, kind of content check)
ALLOWED_TYPES: Mapping[str, tuple[str, str]] = {
    ".pdf": ("application/pdf", "pdf"),
    ".png": ("image/png", "png"),
    ".jpg": ("image/jpeg", "jpeg"),
    ".jpeg": ("image/jpeg", "jpeg"),
    ".csv": ("text/csv", "csv"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
_MAGIC = {"pdf": b"%PDF-", "png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
# The part every Office Open XML file of the kind has.
_OOXML_PART = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
_SEPARATORS = ("/", "\\")
_CSV_ENCODINGS = (("utf-8-sig", "utf-8"), ("cp932", "shift_jis"))
_DECODERS = {charset: encoding for encoding, charset in _CSV_ENCODINGS}
# C0 controls and DEL, except tab, line feed and carriage return
_BINARY_CONTROLS = frozenset(chr(c) for c in [*range(32), 127]) - set("\t\n\r")

Upload = tuple[str, BinaryIO, str]  # (filename as sent, stream, content type as sent)


@dataclass(frozen=True)
class _Checked:
    name: str
    extension: str
    content_type: str
    data: bytes
    has_formulas: bool = False


@use_case
def submit_evidence(
    actor: Actor,
    milestone_id: int,
    narrative: str,
    measured: Mapping[int, str],
    files: Sequence[Upload],
    today: date,
    *,
    upload_folder: Path,
) -> EvidenceSubmission:
    """Submit the next round of evidence; the milestone goes to `submitted`, its files to
    `upload_folder`."""
    milestone = _locked_milestone(milestone_id)
    check_may_submit(actor, milestone)
    narrative = (narrative or "").strip()
    values = _measured_values(milestone, measured)
    errors = _text_errors(narrative, values)
    checked, problems = _check_files(files)
    if problems:
        errors["files"] = problems
    if errors:
        raise RuleViolation(N_("The evidence could not be submitted."), errors)
    before = {"state": str(milestone.state), "round": milestone.round}
    submission = EvidenceSubmission(
        milestone_id=milestone.id,
        round=milestone.round + 1,
        narrative=narrative,
        measured=[{**criterion, "value": value} for criterion, value in values],
        submitted_by_id=actor.id,
    )
    milestone.round += 1
    milestone.state = transition(milestone.state, MilestoneState.submitted)
    milestone.overdue_since = None  # delivered: no page should still call it overdue
    db.session.add(submission)
    written: list[Path] = []
    folder = upload_folder.resolve()
    try:
        for item in checked:
            submission.files.append(_store(item, folder, written))
        after = {
            "state": str(milestone.state),
            "round": milestone.round,
            "files": [f.sha256 for f in submission.files],
            "submitted_on": today.isoformat(),
            "late": today > milestone.due_date,
        }
        audit.record(actor, "milestone.submit_evidence", milestone, before, after)
        notify.record(
            actor,
            eligible_reviewer_ids(milestone.grant),
            AlertKind.evidence_submitted,
            SubjectType.evidence_submission,
            submission.id,
            today=today,
            grant_id=milestone.grant_id,
            milestone_id=milestone.id,
        )
        db.session.commit()
    except IntegrityError:
        _discard(written)
        raise Conflict(N_("Evidence for this milestone was submitted at the same time.")) from None
    except BaseException:
        _discard(written)
        raise
    return submission


def check_may_submit(actor: Actor, milestone: Milestone) -> None:
    """Raise unless `actor` may submit evidence for `milestone` now (the authoritative check;
    the evidence form asks it before it is shown).

    The grantee only (NotAllowed otherwise), of an active grant, for a milestone awaiting
    evidence, and only for the grant's current milestone: every earlier milestone must be
    approved first (core.states.current_milestone), else Conflict naming the current one.
    """
    grant = milestone.grant
    stages = stages_of(grant.milestones)
    subject = _evidence_subject(grant_subject(actor, grant, milestone), milestone.sequence, stages)
    if decide(Action.submit_evidence, subject).reason is Reason.not_current_milestone:
        sequence = current_milestone(stages)
        current = next(m for m in grant.milestones if m.sequence == sequence)
        raise Conflict(
            N_(
                "Evidence is accepted only for the grant's current milestone: "
                "%(sequence)d. %(title)s must be approved first.",
                sequence=current.sequence,
                title=current.title,
            )
        )
    require(Action.submit_evidence, subject)
    if not grant_allows(Action.submit_evidence, grant.state):
        raise Conflict(N_("Evidence can only be submitted for an active grant."))


def open_evidence_file(actor: Actor, file_id: int, *, upload_folder: Path) -> tuple[Path, str, str]:
    """(path on disk, original name, content type) of a file the actor may download, stored
    in `upload_folder`."""
    evidence_file = db.session.get(EvidenceFile, file_id)
    if evidence_file is None:
        raise NotFound(N_("Not found."))
    milestone = db.session.get(Milestone, evidence_file.submission.milestone_id)
    assert milestone is not None  # a foreign key
    require_on_grant(Action.download_evidence, actor, milestone.grant)
    folder = upload_folder.resolve()
    path = folder / evidence_file.stored_name
    if path.parent != folder or not path.is_file():
        raise NotFound(N_("The file is missing from the store. Tell the programme office."))
    return path, evidence_file.original_name, evidence_file.content_type


@dataclass(frozen=True)
class CsvPreview:
    name: str
    rows: list[list[str]]
    more: bool  # the file has more rows than shown
    has_formulas: bool


def preview_csv(actor: Actor, file_id: int, limit: int, *, upload_folder: Path) -> CsvPreview:
    """The first `limit` rows of a CSV evidence file the actor may download, each cell that
    a spreadsheet would evaluate made inert (a leading apostrophe), as an export does."""
    path, name, content_type = open_evidence_file(actor, file_id, upload_folder=upload_folder)
    charset = content_type.partition("charset=")[2].strip()
    if not content_type.startswith("text/csv") or charset not in _DECODERS:
        raise NotFound(N_("Only CSV files have a preview."))
    text = path.read_bytes().decode(_DECODERS[charset], errors="replace")
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            if len(rows) == limit:
                break
            rows.append([str(neutralise(cell)) for cell in row])
        more = next(reader, None) is not None
    except csv.Error:
        more = False  # shown up to where it stops being CSV
    evidence_file = db.session.get(EvidenceFile, file_id)
    return CsvPreview(name, rows, more, bool(evidence_file and evidence_file.has_formulas))


def display_name(filename: str) -> str:
    """The name as sent, safe to keep and show: no directories, no control characters, capped.

    Unlike werkzeug's secure_filename it keeps Japanese characters.
    """
    name = unicodedata.normalize("NFC", filename or "")
    for separator in _SEPARATORS:
        name = name.rsplit(separator, 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    name = name.strip().lstrip(".").strip()
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:
            name = stem[: NAME_MAX - len(extension) - 1] + "." + extension
        else:
            name = name[:NAME_MAX]
    return name


def measured_key(index: int) -> str:
    """Where a problem with the value measured for criterion `index` (0-based) is reported."""
    return f"measured.{index}"


def _locked_milestone(milestone_id: int) -> Milestone:
    query = (
        select(Milestone)
        .where(Milestone.id == milestone_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    milestone = db.session.scalar(query)
    if milestone is None:
        raise NotFound(N_("Not found."))
    return milestone


def _measured_values(
    milestone: Milestone, measured: Mapping[int, str]
) -> list[tuple[dict[str, str], str]]:
    return [
        (dict(criterion), figure(str(measured.get(index) or "")))
        for index, criterion in enumerate(milestone.criteria)
    ]


def _text_errors(
    narrative: str, values: list[tuple[dict[str, str], str]]
) -> dict[str, list[Problem]]:
    errors: dict[str, list[Problem]] = {}
    if not narrative:
        errors["narrative"] = [N_("Describe what was achieved.")]
    elif len(narrative) > NARRATIVE_MAX:
        errors["narrative"] = [N_("At most %(n)d characters.", n=NARRATIVE_MAX)]
    for index, (_criterion, value) in enumerate(values):
        if not value:
            errors[measured_key(index)] = [N_("Enter the measured value.")]
        elif len(value) > VALUE_MAX:
            errors[measured_key(index)] = [N_("At most %(n)d characters.", n=VALUE_MAX)]
    return errors


def _check_files(files: Sequence[Upload]) -> tuple[list[_Checked], list[Problem]]:
    uploads = [item for item in files if item[0]]  # a browser sends an empty part for none
    if len(uploads) > FILES_MAX:
        return [], [N_("At most %(n)d files per submission.", n=FILES_MAX)]
    checked: list[_Checked] = []
    problems: list[Problem] = []
    for filename, stream, _sent_type in uploads:
        item, problem = _check_file(filename, stream)
        if problem:
            problems.append(problem)
        elif item is not None:
            checked.append(item)
    return checked, problems


def _check_file(filename: str, stream: BinaryIO) -> tuple[_Checked | None, Problem | None]:
    name = display_name(filename)
    extension = Path(name).suffix.lower()
    shown = name or "?"
    if extension not in ALLOWED_TYPES or not Path(name).stem:
        return None, N_(
            "%(name)s: only PDF, PNG, JPEG, CSV, XLSX and DOCX files are accepted.", name=shown
        )
    data = stream.read()
    if not data:
        return None, N_("%(name)s: the file is empty.", name=shown)
    content_type, kind = ALLOWED_TYPES[extension]
    charset = _csv_charset(data) if kind == "csv" else None
    if not (charset if kind == "csv" else _content_matches(kind, data)):
        return None, N_(
            "%(name)s: the content is not a valid %(kind)s file.", name=shown, kind=kind.upper()
        )
    if charset:  # downloads say which, so that the file opens as it was saved
        content_type = f"{content_type}; charset={charset}"
    formulas = _has_formulas(kind, data, charset)
    return _Checked(name, extension, content_type, data, formulas), None


def _has_formulas(kind: str, data: bytes, charset: str | None) -> bool:
    """Whether the reviewers are warned that opening the file evaluates formulas."""
    if kind == "csv" and charset is not None:
        return spreadsheets.csv_has_formulas(data.decode(_DECODERS[charset]))
    return kind == "xlsx" and spreadsheets.xlsx_has_formulas(data)


def _content_matches(kind: str, data: bytes) -> bool:
    if kind in _MAGIC:
        return data.startswith(_MAGIC[kind])
    return data.startswith(b"PK\x03\x04") and _has_part(data, _OOXML_PART[kind])


def _csv_charset(data: bytes) -> str | None:
    """utf-8 (with or without a BOM), else shift_jis as Excel saves a CSV in Japan (cp932),
    either way without the control characters that only binary data carries; None else."""
    for encoding, charset in _CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if any(ch in _BINARY_CONTROLS for ch in text) else charset
    return None


def _has_part(data: bytes, part: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return part in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _store(item: _Checked, folder: Path, written: list[Path]) -> EvidenceFile:
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + item.extension
    path = folder / stored_name
    with path.open("xb") as out:
        written.append(path)
        out.write(item.data)
    return EvidenceFile(
        original_name=item.name,
        stored_name=stored_name,
        content_type=item.content_type,
        size=len(item.data),
        sha256=hashlib.sha256(item.data).hexdigest(),
        has_formulas=item.has_formulas,
    )


def _discard(paths: list[Path]) -> None:
    db.session.rollback()
    for path in paths:
        path.unlink(missing_ok=True)
