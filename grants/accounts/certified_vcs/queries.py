"""What an administrator may do with a certification now, for its pages."""

from __future__ import annotations

from sqlalchemy import Select, select

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization
from grants.core.actors import Actor
from grants.core.identity import OrgKind
from grants.core.permissions import Action, Subject, require


def may_revoke(certification: VcCertification) -> bool:
    """A certification is revoked once: the use case refuses a second revocation."""
    return certification.revoked_on is None


def vc_organizations_for(actor: Actor) -> Select[tuple[Organization]]:
    """The venture-capital organisations by name, for administrators."""
    require(Action.manage_certified_vcs, Subject(role=actor.role))
    query = select(Organization).where(Organization.kind == OrgKind.vc)
    return query.order_by(Organization.name, Organization.id)
