"""Domain errors. The web and API edges map them to HTTP status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain and services raise on purpose."""

    code = "domain_error"

    def __init__(self, message: str = "", fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class RuleViolation(DomainError):
    """Input breaks a business rule (HTTP 422)."""

    code = "rule_violation"


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403)."""

    code = "forbidden"


class NotFound(DomainError):
    """The object does not exist or is not visible to the actor (HTTP 404)."""

    code = "not_found"


class Conflict(DomainError):
    """The object's state does not allow this now (HTTP 409)."""

    code = "conflict"
