"""What an administrator may do with a certification now, for its pages."""

from __future__ import annotations

from grants.accounts.certified_vcs.models import VcCertification


def may_revoke(certification: VcCertification) -> bool:
    """A certification is revoked once: the use case refuses a second revocation."""
    return certification.revoked_on is None
