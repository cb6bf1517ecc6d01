"""CSV files people open in a spreadsheet program: UTF-8 with a byte order mark (so that
Japanese text reads right), CRLF line endings, and every text cell that a spreadsheet
would evaluate as a formula made inert with a leading apostrophe (text.neutralise)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from grants.core.text import Cell, neutralise

BOM = "\ufeff"
BATCH = 500


def encode_csv(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """UTF-8 with BOM, CRLF, quoted where needed; flushed every BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write(BOM)
    writer.writerow([neutralise(cell) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data
