"""Reading user accounts and organisations as the admin pages and the admin API list them."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from grants.accounts.models import Organization, User
from grants.accounts.rules import normalize_email


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
