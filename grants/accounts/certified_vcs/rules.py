"""Reading a certified-VC list (認定VC一覧) from a CSV file, before anything is checked
against the stored organisations.

The file is UTF-8 (with or without a byte order mark) or Excel's Shift_JIS, like the
evidence CSV files. Its first line names the columns, in Japanese or in English, in any
order:

    法人番号 / corporate_number   required: the VC's 13-digit corporate number
    認定日 / certified_on         required: the first day of the certification
    有効期限 / expires_on         optional: its last day (empty: no end date)
    備考 / note                   optional: a note of up to 500 characters
    名称 / name                   optional: the VC's name, for people; not read

Dates are written as people write them (2026-04-01, 2026/04/01, 令和8年4月1日).
Empty lines are skipped.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from grants.core.calendar import parse_day
from grants.core.problems import N_, problem_of
from grants.core.text import control_problem

LINES_MAX: Final = 1000
NOTE_MAX: Final = 500
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "corporate_number": ("法人番号", "corporate_number", "corporate number"),
    "certified_on": ("認定日", "certified_on", "certified on"),
    "expires_on": ("有効期限", "expires_on", "expires on"),
    "note": ("備考", "note"),
    "name": ("名称", "name"),
}
REQUIRED: Final = ("corporate_number", "certified_on")
_ENCODINGS: Final = ("utf-8-sig", "cp932")


@dataclass(frozen=True)
class CertificationLine:
    """One line of the list as read: its values, and what is wrong with them already."""

    number: int  # the line of the file (the header is line 1)
    corporate_number: str
    name: str
    certified_on: date | None
    expires_on: date | None
    note: str | None
    problems: dict[str, list[str]] = field(default_factory=dict)


def read_list(data: bytes) -> list[CertificationLine]:
    """The lines of a certified-VC list. Raises ValueError with a Problem when the file as a
    whole cannot be read (its encoding, its header, its length)."""
    text = _decoded(data)
    rows = _rows(text)
    if not rows:
        raise ValueError(N_("The file is empty: the first line names the columns."))
    header = _header(rows[0][1])
    body = [(number, row) for number, row in rows[1:] if any(cell.strip() for cell in row)]
    if len(body) > LINES_MAX:
        raise ValueError(N_("The file has more than %(n)d lines.", n=LINES_MAX))
    return [_line(number, row, header) for number, row in body]


def _decoded(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(N_("The file is neither UTF-8 nor Shift_JIS text."))


def _rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error:
        raise ValueError(
            N_("The file is not CSV from line %(line)d on.", line=reader.line_num)
        ) from None


def _header(cells: list[str]) -> list[str | None]:
    """Each column's name, None for a column left without a name."""
    names: dict[str, str] = {
        _plain(alias): column for column, aliases in COLUMNS.items() for alias in aliases
    }
    header: list[str | None] = []
    for cell in cells:
        key = _plain(cell)
        if not key:
            header.append(None)
            continue
        if key not in names:
            raise ValueError(
                N_(
                    "The first line names an unknown column “%(name)s”: use 法人番号, 認定日, "
                    "有効期限, 備考 and 名称 (or corporate_number, certified_on, expires_on, "
                    "note and name).",
                    name=cell.strip()[:40],
                )
            )
        if names[key] in header:
            raise ValueError(N_("The first line names a column twice: “%(name)s”.", name=cell))
        header.append(names[key])
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ValueError(
            N_("The first line must name the columns 法人番号 and 認定日 (corporate_number and "
               "certified_on).")
        )  # fmt: skip
    return header


def _plain(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().lower()


def _line(number: int, row: list[str], header: list[str | None]) -> CertificationLine:
    problems: dict[str, list[str]] = {}
    if len(row) > len(header):
        problems["line"] = [
            N_("This line has %(found)d values; the first line names %(named)d columns.",
               found=len(row), named=len(header))
        ]  # fmt: skip
    values = {column: cell.strip() for column, cell in zip(header, row, strict=False) if column}
    for column, value in values.items():
        if problem := control_problem(value):
            problems.setdefault(column, []).append(problem)
    certified_on = _day(values.get("certified_on", ""), "certified_on", problems, required=True)
    expires_on = _day(values.get("expires_on", ""), "expires_on", problems)
    note = values.get("note") or None
    if note is not None and len(note) > NOTE_MAX:
        problems.setdefault("note", []).append(N_("At most %(n)d characters.", n=NOTE_MAX))
    if certified_on and expires_on and expires_on <= certified_on:
        problems.setdefault("expires_on", []).append(
            N_("A certification must expire after the day it starts.")
        )
    return CertificationLine(
        number=number,
        corporate_number=values.get("corporate_number", ""),
        name=values.get("name", ""),
        certified_on=certified_on,
        expires_on=expires_on,
        note=note,
        problems=problems,
    )


def _day(
    text: str, column: str, problems: dict[str, list[str]], required: bool = False
) -> date | None:
    if not text:
        if required:
            problems.setdefault(column, []).append(N_("A date is required."))
        return None
    try:
        return parse_day(text)
    except ValueError as error:
        problems.setdefault(column, []).append(problem_of(error))
        return None
