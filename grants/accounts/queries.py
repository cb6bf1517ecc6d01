"""The people an event concerns, as queries of user ids (for core.notify.record).

Officers are not assigned to programmes: an event of any programme concerns every active
officer. A grantee or an applicant is an organisation: its active applicant users.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, true

from grants.accounts.models import User
from grants.core.identity import Role


def active_officers() -> Select[tuple[int]]:
    """Every active programme officer."""
    return select(User.id).where(User.role == Role.officer, User.active == true())


def organisation_applicants(organization_id: int) -> Select[tuple[int]]:
    """The active applicant users of an organisation (the alerts scan's grantee audience)."""
    return select(User.id).where(
        User.role == Role.applicant,
        User.active == true(),
        User.organization_id == organization_id,
    )


def applicants_and_officers(organization_id: int) -> Select[tuple[int]]:
    """An organisation's active applicant users and every active officer."""
    return select(User.id).where(
        User.active == true(),
        or_(
            User.role == Role.officer,
            and_(User.role == Role.applicant, User.organization_id == organization_id),
        ),
    )
