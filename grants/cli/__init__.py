"""`flask grants ...` commands."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

grants_cli = AppGroup("grants", help="Milestone grants administration.")


def register_cli(app: Flask) -> None:
    from grants.cli import (  # noqa: F401  (they register commands)
        accounts,
        alerts,
        audit,
        demo,
        tokens,
        whatif,
    )

    app.cli.add_command(grants_cli)
