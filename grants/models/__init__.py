"""Persistence: SQLAlchemy 2.0 typed models. Importing this module registers every table."""

from grants.models.accounts import Organization, User
from grants.models.audit import AuditEvent
from grants.models.base import Base

__all__ = ["AuditEvent", "Base", "Organization", "User"]
