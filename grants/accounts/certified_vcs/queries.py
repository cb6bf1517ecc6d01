"""What an administrator may do with a certification now, for its pages."""

from __future__ import annotations

from sqlalchemy import Select, select

from grants.accounts.certified_vcs.models import VcCertification
from grants.core.actors import Actor
from grants.core.permissions import Action, Subject, require


def may_revoke(certification: VcCertification) -> bool:
    """A certification is revoked once: the use case refuses a second revocation."""
    return certification.revoked_on is None


def certifications_for(actor: Actor, organization_id: int | None) -> Select[tuple[VcCertification]]:
    """Certifications, newest first (of one organisation when given), for administrators."""
    require(Action.manage_certified_vcs, Subject(role=actor.role))
    query = select(VcCertification)
    if organization_id is not None:
        query = query.where(VcCertification.organization_id == organization_id)
    return query.order_by(VcCertification.certified_on.desc(), VcCertification.id.desc())
