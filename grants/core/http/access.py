"""Route guards: every view names the action it performs (core.permissions decides)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from grants.core.permissions import Action, Reason, Subject, decide

F = TypeVar("F", bound=Callable[..., Any])


def requires(action: Action) -> Callable[[F], F]:
    """Sign-in required, and the user's role must be allowed to perform `action` at all."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not role_may(action):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator


def role_may(action: Action) -> bool:
    """Whether the user's role performs `action` at all; the service checks the rest."""
    decision = decide(action, Subject(role=current_user.role))
    return decision.reason not in (Reason.role, Reason.separation_of_duties)


def can(action: Action, **relation: Any) -> bool:
    """For templates and views: may the current user perform `action` in this relation?"""
    if not current_user.is_authenticated:
        return False
    return decide(action, Subject(role=current_user.role, **relation)).allowed


def actor() -> Any:
    """The signed-in user as a plain model object, to hand to a service."""
    return current_user._get_current_object()
