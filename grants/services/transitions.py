"""State changes as the services make them: the domain's transition, refused in words."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from flask_babel import get_locale
from flask_babel import gettext as _

from grants.domain import states
from grants.domain.errors import Conflict
from grants.domain.states import AmendmentState, ApplicationState, GrantState, MilestoneState

S = TypeVar("S", bound=StrEnum)


def transition(current: S, target: S) -> S:
    """Return `target` when `current` may move to it, else refuse in the user's language."""
    if states.can_transition(current, target):
        return target
    raise Conflict(refusal(current, target))


def refusal(current: StrEnum, target: StrEnum) -> str:
    locale = str(get_locale() or "ja")
    subject = _subject(current)
    state = states.label(current, locale)
    if current == target:
        return _("This %(subject)s is already “%(state)s”.", subject=subject, state=state)
    return _(
        "This %(subject)s is “%(state)s” and cannot become “%(target)s”.",
        subject=subject,
        state=state,
        target=states.label(target, locale),
    )


def _subject(member: StrEnum) -> str:
    subjects = {
        ApplicationState: _("application"),
        GrantState: _("grant"),
        MilestoneState: _("milestone"),
        AmendmentState: _("amendment request"),
    }
    return subjects[type(member)]
