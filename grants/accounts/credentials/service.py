"""Credentials belong to their owner: invitations, password resets, one's own new password.

Nobody chooses or sees another person's password. A new account gets an invitation link;
an administrator's "reset" sends a reset link; a forgotten password is reset through a link
asked for by address. A link is a random secret in an e-mail, of which only the SHA-256 is
stored: it works once, for its purpose, until it expires (INVITATION_HOURS,
RESET_LINK_MINUTES), and using one ends the account's other links.

Every new password ends the account's sessions (User.session_version) and is told to its
owner by a notice without secrets; a reset through a link also revokes the account's API
tokens. The use cases return the e-mails to send (CredentialMail) and the edge sends them at
once, after the commit (credentials.mail): links hold secrets, so they never wait in the
database's outbox. Neither a secret nor a password is ever logged or audited.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from grants.accounts.credentials.models import CredentialLink
from grants.accounts.credentials.rules import (
    ChangeWay,
    LinkLifetimes,
    LinkPurpose,
    MailKind,
    PasswordPolicy,
    link_refusal,
    password_problems,
    refusal_error,
    secret_hash,
)
from grants.accounts.models import User
from grants.accounts.rules import is_valid_email, normalize_email
from grants.accounts.tokens.service import revoke_tokens_of
from grants.core import audit
from grants.core.actors import SYSTEM, Actor
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.extensions import db

log = logging.getLogger("grants.credentials")

SECRET_BYTES = 32


@dataclass(frozen=True)
class CredentialMail:
    """An e-mail a use case asks its edge to send once it committed.

    `key` names the message for its Message-ID (the link's or the audit event's id);
    `secret` is the link's, for the e-mail only (never shown in a repr or a log)."""

    kind: MailKind
    to: str
    name: str
    locale: str
    key: str
    secret: str | None = field(default=None, repr=False)
    purpose: LinkPurpose | None = None
    expires_at: datetime | None = None
    changed_at: datetime | None = None
    through: ChangeWay | None = None
    tokens_revoked: int = 0


# --- links ------------------------------------------------------------------------------


def issue_link(
    actor: Actor,
    user: User,
    purpose: LinkPurpose,
    now: datetime,
    settings: Mapping[str, Any],
    kind: MailKind,
) -> CredentialMail:
    """A new link for `user`, within the caller's use case (which commits), and its e-mail.

    `settings`: INVITATION_HOURS and RESET_LINK_MINUTES."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    link = CredentialLink(
        user_id=user.id,
        purpose=purpose,
        token_hash=secret_hash(secret),
        created_at=now,
        expires_at=LinkLifetimes.of(settings).expiry(purpose, now),
    )
    db.session.add(link)
    after = {"user_id": user.id, "purpose": str(purpose), "expires_at": link.expires_at.isoformat()}
    audit.record(actor, "credential_link.issue", link, after=after)
    return CredentialMail(
        kind=kind,
        to=user.email,
        name=user.name,
        locale=str(user.locale),
        key=f"link-{link.id}",
        secret=secret,
        purpose=purpose,
        expires_at=link.expires_at,
    )


def revoke_links(user: User, now: datetime) -> int:
    """End every working link of `user`, within the caller's use case; how many."""
    result = db.session.execute(
        update(CredentialLink)
        .where(
            CredentialLink.user_id == user.id,
            CredentialLink.used_at.is_(None),
            CredentialLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@use_case
def send_password_link(
    actor: Actor, user_id: int, now: datetime, settings: Mapping[str, Any]
) -> CredentialMail:
    """An administrator's "reset" (or the command line's): a new invitation while the account
    has never set a password, else a reset link, which also ends the account's sessions.
    The current password works until a new one is chosen; nobody but the owner sees either."""
    require(Action.manage_users, Subject(role=actor.role))
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(N_("Not found."))
    if not user.active:
        raise Conflict(N_("This account is inactive: activate it before sending it a link."))
    if user.password_hash is None:
        mail = issue_link(actor, user, LinkPurpose.invitation, now, settings, MailKind.invitation)
    else:
        user.session_version += 1  # whoever is signed in with it now is signed out
        mail = issue_link(actor, user, LinkPurpose.reset, now, settings, MailKind.reset_by_admin)
    db.session.commit()
    return mail


@use_case
def request_reset(
    email: str, locale: str, now: datetime, settings: Mapping[str, Any]
) -> CredentialMail:
    """The forgotten-password page: a reset link for the active account with this address,
    or, for any other address, an e-mail saying that no active account uses it.

    Both answers do the same work (a secret made, one e-mail sent by the edge), so that the
    page, its timing and its failures tell nothing about which addresses have accounts;
    only the mailbox's owner learns it. `locale`: the page's, for an address without an
    account."""
    address = normalize_email(email)
    if not is_valid_email(address):
        message = N_("Enter a valid e-mail address.")
        raise RuleViolation(message, {"email": [message]})
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.active:
        unused = secret_hash(secrets.token_urlsafe(SECRET_BYTES))  # as a link would cost
        log.info("a password reset was asked for an address without an active account")
        return CredentialMail(MailKind.no_account, address, "", locale, f"nobody-{unused[:16]}")
    mail = issue_link(SYSTEM, user, LinkPurpose.reset, now, settings, MailKind.reset)
    db.session.commit()
    return mail


@use_case
def set_password(
    secret: str,
    purpose: LinkPurpose,
    password: str,
    now: datetime,
    settings: Mapping[str, Any],
) -> CredentialMail:
    """The holder of a working link chooses the account's password; the notice to send.

    A link that does not work is refused (rules.refusal_error), and an existing one's refusal
    is audited; a weak password is a RuleViolation that leaves the link working. A reset
    link also revokes the account's API tokens. `settings`: PASSWORD_MIN_LENGTH and
    PASSWORD_HASH_METHOD."""
    link = db.session.scalar(
        select(CredentialLink)
        .where(CredentialLink.token_hash == secret_hash(secret))
        .with_for_update()
    )
    refusal = link_refusal(purpose, link.state() if link else None, now)
    if refusal is not None:
        if link is not None and link.purpose == purpose:
            audit.record(SYSTEM, "credential_link.refuse", link, after={"reason": str(refusal)})
            db.session.commit()  # the refusal stays on record
        else:
            log.warning("a %s link was refused: no such link", purpose)
        raise refusal_error(refusal)
    assert link is not None
    user = link.user
    _check_strength(password, user, settings)
    link.used_at = now
    audit.record(user, "credential_link.use", link, after={"used_at": now.isoformat()})
    through = ChangeWay.reset if purpose == LinkPurpose.reset else ChangeWay.invitation
    revoked = revoke_tokens_of(user, user, "password reset") if purpose == LinkPurpose.reset else 0
    mail = _new_password(user, password, now, settings, through, revoked)
    db.session.commit()
    return mail


@use_case
def change_own_password(
    actor: User, current: str, new: str, now: datetime, settings: Mapping[str, Any]
) -> CredentialMail:
    """A signed-in user chooses a new password, giving the current one; the notice to send.

    Every session of the account ends: the edge signs the current one in again."""
    if actor.password_hash is None or not check_password_hash(actor.password_hash, current):
        message = N_("This is not your current password.")
        raise RuleViolation(N_("The password was not changed."), {"current_password": [message]})
    if new == current:
        message = N_("Choose a password other than your current one.")
        raise RuleViolation(N_("The password was not changed."), {"password": [message]})
    _check_strength(new, actor, settings)
    mail = _new_password(actor, new, now, settings, ChangeWay.settings, 0)
    db.session.commit()
    return mail


def _check_strength(password: str, user: User, settings: Mapping[str, Any]) -> None:
    org = user.organization
    personal = (user.email, user.name, org.name if org else None, org.name_en if org else None)
    problems = password_problems(password, PasswordPolicy.of(settings), personal)
    if problems:
        raise RuleViolation(N_("Choose a stronger password."), {"password": problems})


def _new_password(
    user: User,
    password: str,
    now: datetime,
    settings: Mapping[str, Any],
    through: ChangeWay,
    tokens_revoked: int,
) -> CredentialMail:
    """Store the new password's hash, end the account's sessions and links; the notice."""
    user.password_hash = generate_password_hash(
        password, method=PasswordPolicy.of(settings).hash_method
    )
    user.session_version += 1
    after: dict[str, Any] = {"through": str(through), "links_revoked": revoke_links(user, now)}
    if tokens_revoked:
        after["api_tokens_revoked"] = tokens_revoked
    event = audit.record(user, "user.password_change", user, after=after)
    return CredentialMail(
        kind=MailKind.password_changed,
        to=user.email,
        name=user.name,
        locale=str(user.locale),
        key=f"event-{event.id}",
        changed_at=now,
        through=through,
        tokens_revoked=tokens_revoked,
    )
