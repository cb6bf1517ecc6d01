"""The `flask grants ...` command group, and domain errors as a clear message and exit 1.

Each feature's cli.py adds its commands to `grants_cli`; grants.app imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from grants.core.errors import DomainError

grants_cli = AppGroup("grants", help="Milestone grants administration.")


@contextmanager
def clear_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        lines = [error.message] + [
            f"  {field}: {message}"
            for field, messages in error.fields.items()
            for message in messages
        ]
        raise click.ClickException("\n".join(lines)) from error
