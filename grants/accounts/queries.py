"""Reading user accounts and organisations as the admin pages and the admin API list them,
and the people an event concerns, as queries of user ids (for core.notify.record).

Officers are not assigned to programmes: an event of any programme concerns every active
officer. A grantee or an applicant is an organisation: its active applicant users.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, true

from grants.accounts.models import Organization, User
from grants.accounts.rules import normalize_email
from grants.core.identity import Role


def users_query(term: str | None = None) -> Select[tuple[User]]:
    """Every account by e-mail address, or those whose address or name holds `term`."""
    query = select(User).order_by(User.email)
    if term:
        # autoescape: a % or _ typed in the search box is that character, not a wildcard
        query = query.where(
            or_(
                # read as addresses are stored: ｆｏｏ finds foo@…
                User.email.icontains(normalize_email(term), autoescape=True),
                User.name.icontains(term, autoescape=True),
            )
        )
    return query


def organizations_query(term: str | None = None) -> Select[tuple[Organization]]:
    """Every organisation by name, or those whose name (either language) holds `term`."""
    query = select(Organization).order_by(Organization.name, Organization.id)
    if term:
        query = query.where(
            or_(
                Organization.name.icontains(term, autoescape=True),
                Organization.name_en.icontains(term, autoescape=True),
            )
        )
    return query


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
