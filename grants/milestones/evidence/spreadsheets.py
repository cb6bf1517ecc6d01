"""Whether an evidence spreadsheet holds something a spreadsheet program would evaluate.

A CSV cell whose text begins like a formula (=, +, -, @, tab, carriage return; not a plain
signed number) is evaluated when the file is opened (formula or "CSV" injection: DDE,
HYPERLINK to an outside address ...). An XLSX worksheet holds formulas as <f> elements,
and links to other workbooks as externalLinks parts. Reviewers are warned about such a
file before they open it; the check reads at most XLSX_READ_MAX bytes of an XLSX's
decompressed worksheets, and a file it cannot read through counts as holding formulas.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from grants.core.text import formula_like

XLSX_READ_MAX = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")
_OVERLAP = 16


def csv_has_formulas(text: str) -> bool:
    try:
        return any(formula_like(cell) for row in csv.reader(io.StringIO(text)) for cell in row)
    except csv.Error:  # unreadable as CSV here, perhaps not in a spreadsheet program
        return True


def xlsx_has_formulas(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if any(name.startswith("xl/externalLinks/") for name in names):
                return True
            sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            return _any_formula_element(archive, sheets)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return True


def _any_formula_element(archive: zipfile.ZipFile, sheets: list[str]) -> bool:
    budget = XLSX_READ_MAX
    for name in sheets:
        with archive.open(name) as part:
            tail = b""
            while chunk := part.read(_CHUNK):
                budget -= len(chunk)
                if budget < 0 or _FORMULA_ELEMENT.search(tail + chunk):
                    return True  # a formula, or too much to read through: warn
                tail = chunk[-_OVERLAP:]
    return False
