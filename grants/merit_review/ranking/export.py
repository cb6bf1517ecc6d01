"""The ranking as a CSV file: one row per application, in ranking order.

The header row is in the language asked for; the values are raw so that spreadsheets can
compute (scores as decimals rounded half up to 4 places, integer yen, ISO dates, machine
state values next to their label). UTF-8 with a byte order mark and CRLF line endings, as
the other exports; a text cell a spreadsheet would read as a formula gets a leading
apostrophe (core.text.neutralise).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from grants.core.i18n import translate
from grants.core.problems import N_
from grants.core.states import label
from grants.core.text import Cell, neutralise
from grants.merit_review.ranking.queries import RankedApplication, Ranking
from grants.merit_review.rules import Aggregate, shown

BOM = "\ufeff"
PLACES = 4


@dataclass(frozen=True)
class RankingExport:
    filename: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def chunks(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        writer.writerow([neutralise(cell) for cell in self.header])
        for row in self.rows:
            writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue().encode("utf-8")


def ranking_csv(found: Ranking, code: str, locale: str) -> RankingExport:
    columns = (
        N_("Rank"),
        N_("Application no."),
        N_("Title"),
        N_("Organization"),
        N_("Status"),
        N_("Status label"),
        N_("Submitted on"),
        N_("Rule set version"),
        N_("Written score"),
        N_("Written reviewers"),
        N_("Written spread"),
        N_("Hearing score"),
        N_("Hearing reviewers"),
        N_("Disagreement"),
        N_("Award amount (yen)"),
        N_("Above the funding line"),
        N_("Departure recorded"),
    )
    header = tuple(translate(column, locale) for column in columns)
    rows = tuple(_row(row, found, locale) for row in found.rows)
    filename = f"ranking-{code}-{found.today.isoformat()}.csv"
    return RankingExport(filename, header, rows)


def _score(aggregate: Aggregate | None) -> tuple[Cell, Cell, Cell]:
    if aggregate is None:
        return None, None, None
    return shown(aggregate.score, PLACES), aggregate.reviewers, shown(aggregate.spread, PLACES)


def _row(row: RankedApplication, found: Ranking, locale: str) -> tuple[Cell, ...]:
    written, hearing = _score(row.written), _score(row.hearing)
    counted = row.undecided and row.commitment is not None and found.line is not None
    above = int(row.above_line) if counted else None
    return (
        row.rank,
        row.application_id,
        row.title,
        row.organization_name(locale),
        str(row.state),
        label(row.state, locale),
        row.submitted_on.isoformat(),
        row.ruleset_version,
        *written,
        *hearing[:2],
        int(row.disagreement),
        row.award_amount if row.undecided else None,
        above,
        int(row.departed),
    )
