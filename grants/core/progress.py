"""Long work reports how far it is as it goes: (items done, items in total)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
