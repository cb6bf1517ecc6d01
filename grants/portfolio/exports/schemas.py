"""The export filters and the CSV body as the API documents them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.core.db import ID_MAX
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

CSV_BODY = {"type": "string", "format": "binary"}


CSV_NOTE = (
    "UTF-8 with a byte order mark, CRLF line endings; the header row in the token owner's "
    "language. Text cells starting with = + - @ get a leading apostrophe."
)


class ExportArgs(Schema):
    program_id = fields.Integer(
        validate=validate.Range(min=1, max=ID_MAX),
        metadata={"description": "Only this programme's grants."},
    )
    fiscal_year = fields.Integer(
        validate=validate.Range(min=FISCAL_YEAR_MIN, max=FISCAL_YEAR_MAX),
        metadata={"description": "Only this fiscal year (2026 = April 2026 to March 2027)."},
    )
