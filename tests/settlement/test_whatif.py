"""The what-if shows what a draft's settlement section would make of the reports not
settled yet, beside their final amounts by the pinned rules."""

from __future__ import annotations

from datetime import date

from flask import Flask

from grants.core.actors import SYSTEM
from grants.rules import amed_certified_vc
from grants.whatif import service as whatif
from grants.whatif.service import WhatIfResult
from tests.support.approvals import approve, invest
from tests.support.grants import make_grant
from tests.support.settlement import MAN, file_report, lines


def test_a_lower_subsidy_rate_shows_the_lower_final_amount(app: Flask) -> None:
    world = make_grant(
        tranches=(100_000_000, 200_000_000), first_due=date(2026, 12, 31), preset="amed"
    )
    approve(world, world.milestones[0])
    invest(world, 300_000_000)
    report = file_report(world, "fy2026", lines(90 * MAN), 0, date(2027, 4, 10))
    draft = amed_certified_vc()
    draft["settlement"]["subsidy_rate"] = "1/2"
    result = whatif.what_if_document(SYSTEM, "MS-TEST", draft, date(2027, 4, 10)).result
    [row] = result.settlements
    assert (row.report_id, row.before, row.after, row.changed) == (
        report.id,
        60 * MAN,
        45 * MAN,
        True,
    )
    assert WhatIfResult.from_dict(result.to_dict()).settlements == [row]
