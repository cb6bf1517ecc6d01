"""Reading user accounts and organisations as the admin pages and the admin API list them,
and the people an event concerns, as queries of user ids (for core.notify.record).

The administrators' lists of user accounts and organisations: searched, filtered and
sorted, a page at a time (two statements whatever the data). The people an event concerns,
as queries of user ids (for core.notify.record): officers are not assigned to programmes,
so an event of any programme concerns every active officer; a grantee or an applicant is
an organisation: its active applicant users.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, true
from sqlalchemy.orm import contains_eager

from grants.accounts.models import Organization, User
from grants.accounts.rules import normalize_email
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.identity import OrgKind, Role
from grants.core.lists import Filter, Listing, ListQuery, in_order, matching, outer, page_of
from grants.core.permissions import Action, Subject, require

# A user account's states in the list: whether it may sign in.
ACTIVE, INACTIVE = "active", "inactive"

USERS = Listing(
    name="users",
    sorts={
        "email": (User.email,),
        "name": (User.name,),
        "role": (in_order(User.role, Role),),
        "organization": (outer(Organization.name),),
        "created": (User.created_at,),
        "last_login": (User.last_login_at,),
    },
    default_sort="email",
    tiebreak=User.id,
    states=(ACTIVE, INACTIVE),
    kinds=tuple(Role),
    filters=frozenset({Filter.search}),
    per_page=50,
)

ORGANIZATIONS = Listing(
    name="organizations",
    sorts={
        "name": (Organization.name,),
        "kind": (in_order(Organization.kind, OrgKind),),
        "corporate_number": (Organization.corporate_number,),
        "created": (Organization.created_at,),
    },
    default_sort="name",
    tiebreak=Organization.id,
    kinds=tuple(OrgKind),
    filters=frozenset({Filter.search}),
    per_page=50,
)


def user_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of user accounts (administrators): the state is whether the account may sign
    in, the kind its role; the search looks in the e-mail address (as addresses are
    stored: ｆｏｏ finds foo@…) and the name."""
    require(Action.manage_users, Subject(role=actor.role))
    query = (
        select(User)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .options(contains_eager(User.organization))
    )
    if asked.state is not None:
        query = query.where(User.active.is_(asked.state == ACTIVE))
    if asked.kind is not None:
        query = query.where(User.role == asked.kind)
    if asked.term:
        address = User.email.icontains(normalize_email(asked.term), autoescape=True)
        query = query.where(or_(address, User.name.icontains(asked.term, autoescape=True)))
    return page_of(query, USERS, asked)


def organization_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of organisations (administrators), the kind filtered; the search looks in the
    names and the corporate number."""
    require(Action.manage_organizations, Subject(role=actor.role))
    query = select(Organization)
    if asked.kind is not None:
        query = query.where(Organization.kind == asked.kind)
    if asked.term:
        columns = (Organization.name, Organization.name_en, Organization.corporate_number)
        query = query.where(matching(asked.term, *columns))
    return page_of(query, ORGANIZATIONS, asked)


# ---- the people an event concerns --------------------------------------------------------


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
