"""flask grants what-if PROGRAMME_CODE --draft FILE.json"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import click

from grants.core.actors import SYSTEM
from grants.core.calendar import tokyo_today
from grants.core.cli import clear_errors, cli_locale, grants_cli
from grants.core.i18n import translate
from grants.rules import Change, RuleSetInvalid, Trace
from grants.whatif.service import WhatIfReport, what_if_document


@grants_cli.command("what-if")
@click.argument("program_code")
@click.option("--draft", "draft", required=True, type=click.File("rb"), help="Rule set JSON.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Evaluate as of this date.")
@click.option("--all", "show_all", is_flag=True, help="List unchanged subjects too.")
def what_if(program_code: str, draft: Any, today: datetime | None, show_all: bool) -> None:
    """Evaluate a draft rule set against the programme's applications and active grants."""
    document = _read_document(draft)
    day = today.date() if today else tokyo_today(datetime.now(UTC))
    with clear_errors():
        try:
            report = what_if_document(SYSTEM, program_code, document, day)
        except RuleSetInvalid as error:
            raise click.ClickException(_invalid(error)) from error
    _print(report, day, show_all)


def _read_document(draft: Any) -> dict[str, Any]:
    try:
        document = json.loads(draft.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{draft.name} is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise click.ClickException(f"{draft.name} must hold a JSON object (a rule set).")
    return document


def _invalid(error: RuleSetInvalid) -> str:
    fields = translate(error.fields, cli_locale())
    return f"The draft rule set is invalid:\n{json.dumps(fields, indent=2, ensure_ascii=False)}"


def _print(report: WhatIfReport, day: date, show_all: bool) -> None:
    version = report.in_force.version if report.in_force else None
    click.echo(f"What-if for {report.program.code} on {day.isoformat()} (in force: v{version})")
    for change, count in report.summary.items():
        click.echo(f"  {change.value:<18} {count}")
    for row in report.rows if show_all else report.changed:
        click.echo(
            f"{row.kind:<11} {row.subject_id:>6}  {_state(row.before):<8} -> "
            f"{_state(row.after):<8} {row.change.value:<18} {row.title}"
        )
        if row.change in (Change.NEWLY_BLOCKED, Change.CHANGED_BLOCKERS):
            for blocking in row.after.blocking:
                click.echo(f"{'':>20}blocked by {blocking.rule_id}: {blocking.message['en']}")


def _state(trace: Trace | None) -> str:
    if trace is None:
        return "-"
    return "passes" if trace.ok else "blocked"
