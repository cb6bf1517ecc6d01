"""Turning domain errors into a clear message and a non-zero exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from grants.domain.errors import DomainError


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
