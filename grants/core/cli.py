"""The `flask grants ...` command group, and domain errors as a clear message and exit 1.

Each feature's cli.py adds its commands to `grants_cli`; grants.app imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from grants.core.errors import DomainError
from grants.core.i18n import translate

grants_cli = AppGroup("grants", help="Milestone grants administration.")


def cli_locale() -> str:
    """The command line speaks the installation's default language."""
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


@contextmanager
def clear_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        locale = cli_locale()
        lines = [translate(error.message, locale)] + [
            f"  {field}: {message}"
            for field, messages in translate(error.fields, locale).items()
            for message in messages
        ]
        raise click.ClickException("\n".join(lines)) from error
