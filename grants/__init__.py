"""grants: milestone-gated R&D funding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application (imported lazily so that the pure modules need no Flask)."""
    from grants.app import create_app as factory

    return factory(config)
