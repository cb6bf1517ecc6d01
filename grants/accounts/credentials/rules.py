"""Credential rules: how strong a new password must be, and when a link stops working.

Strength is estimated offline by zxcvbn (no outside service): a password has at least the
installation's PASSWORD_MIN_LENGTH characters and a zxcvbn score of at least MIN_SCORE,
judged with the account's own e-mail address, name and organisation as guessable words.
What zxcvbn finds is said in our own short messages (Problems, in the reader's language),
not in zxcvbn's English.

A link (an invitation, or a password reset) works once, until it expires, and only for the
purpose it was made for; `link_refusal` says why one does not.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from zxcvbn import zxcvbn

from grants.core.errors import Conflict, DomainError, NotFound
from grants.core.problems import N_, Problem

MIN_SCORE = 3  # zxcvbn's "safely unguessable": about 10^8 guesses or more
# The longest password a form takes (scrypt hashes any length; this bounds the request).
PASSWORD_MAX_LENGTH = 200
# zxcvbn's matching grows with the square of the length, and it refuses more than 72
# characters: a longer password is judged by its first ESTIMATED_LENGTH characters.
ESTIMATED_LENGTH = 72
# Words of this site that make a password guessable to whoever knows where it is used.
SITE_WORDS = ("milestone", "grants", "amed")
_WORD_MIN = 3
_SEPARATORS = re.compile(r"[\s@._+\-()（）・,]+")
# zxcvbn keeps the user's words in a module-level dictionary while it estimates: one
# estimate at a time, so that two requests' words never mix.
_ZXCVBN = threading.Lock()


class LinkPurpose(StrEnum):
    invitation = "invitation"  # a new account sets its first password
    reset = "reset"  # a forgotten password, or an administrator's "reset"


class ChangeWay(StrEnum):
    """How a password was set or changed."""

    invitation = "invitation"  # through the account's invitation link
    reset = "reset"  # through a reset link
    settings = "settings"  # by its owner, signed in, with the current password


class MailKind(StrEnum):
    """The e-mails about credentials, each sent at once to the account's address."""

    invitation = "invitation"
    reset = "reset"  # asked for on the forgotten-password page
    reset_by_admin = "reset_by_admin"
    no_account = "no_account"  # the same page, for an address without an active account
    password_changed = "password_changed"  # the notice after every change


class Refusal(StrEnum):
    """Why a link does not work."""

    unknown = "unknown"  # no such link, or one made for another purpose
    expired = "expired"
    used = "used"
    revoked = "revoked"  # another link was used, or the account's address changed
    inactive = "inactive"  # the account was deactivated


@dataclass(frozen=True)
class PasswordPolicy:
    """The installation's passwords: their least length and how they are hashed."""

    min_length: int
    hash_method: str

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> PasswordPolicy:
        """From the settings PASSWORD_MIN_LENGTH and PASSWORD_HASH_METHOD."""
        return cls(int(settings["PASSWORD_MIN_LENGTH"]), str(settings["PASSWORD_HASH_METHOD"]))


@dataclass(frozen=True)
class LinkLifetimes:
    invitation: timedelta
    reset: timedelta

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> LinkLifetimes:
        """From the settings INVITATION_HOURS and RESET_LINK_MINUTES."""
        return cls(
            invitation=timedelta(hours=int(settings["INVITATION_HOURS"])),
            reset=timedelta(minutes=int(settings["RESET_LINK_MINUTES"])),
        )

    def expiry(self, purpose: LinkPurpose, now: datetime) -> datetime:
        return now + (self.invitation if purpose == LinkPurpose.invitation else self.reset)


@dataclass(frozen=True)
class LinkState:
    """What a stored link is, and when it was used or ended."""

    purpose: LinkPurpose
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    account_active: bool


def link_refusal(asked: LinkPurpose, link: LinkState | None, now: datetime) -> Refusal | None:
    """Why `link` does not work for `asked` at `now`; None when it works."""
    if link is None or link.purpose != asked:
        return Refusal.unknown
    if link.used_at is not None:
        return Refusal.used
    if link.revoked_at is not None:
        return Refusal.revoked
    if not link.account_active:
        return Refusal.inactive
    if now >= link.expires_at:
        return Refusal.expired
    return None


def refusal_error(refusal: Refusal) -> DomainError:
    """What a refused link answers: NotFound when there is no such link (for this purpose),
    Conflict when it exists but works no more; either says why in words."""
    if refusal is Refusal.unknown:
        return NotFound(N_("This link is not valid. Check that you opened it whole."))
    return Conflict(
        {
            Refusal.expired: N_("This link has expired."),
            Refusal.used: N_("This link was already used: each link works once."),
            Refusal.revoked: N_(
                "This link no longer works: a newer password or e-mail address replaced it."
            ),
            Refusal.inactive: N_("This account is inactive."),
        }[refusal]
    )


def secret_hash(secret: str) -> str:
    """What is stored of a link's secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def personal_words(values: Iterable[str | None]) -> list[str]:
    """The guessable words of an account for zxcvbn: each value whole (an e-mail address, a
    name) and each of its parts ("taro.yamada@example.jp" also gives taro, yamada, example),
    with the site's own words."""
    words: list[str] = list(SITE_WORDS)
    for value in values:
        if value:
            text = value.strip().lower()
            words += [text, *(part for part in _SEPARATORS.split(text) if len(part) >= _WORD_MIN)]
    return list(dict.fromkeys(words))


def password_problems(
    password: str, policy: PasswordPolicy, personal: Iterable[str | None] = ()
) -> list[Problem]:
    """Why `password` is too weak for this installation: empty when it is strong enough.

    `personal`: the account's e-mail address, name and organisation names. Besides what
    zxcvbn makes of them, a password that holds one of them whole (an address by its part
    before the @; spaces and punctuation aside) is refused: whoever targets the account
    tries those first."""
    if len(password) < policy.min_length:
        return [N_("A password has at least %(n)d characters.", n=policy.min_length)]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [N_("A password has at most %(n)d characters.", n=PASSWORD_MAX_LENGTH)]
    values = [value for value in personal if value]
    with _ZXCVBN:
        estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=personal_words(values))
    weak = estimate["score"] < MIN_SCORE
    kinds = {kind for match in estimate["sequence"] if (kind := _kind(match))} if weak else set()
    if _holds_identity(password, values):
        kinds.add("personal")
    if not (weak or kinds):
        return []
    found = [message for kind, message in _WEAKNESSES if kind in kinds]
    return [*(found or [N_("This password is too easy to guess.")]), _ADVICE]


_ADVICE = N_("Make it longer: a few uncommon words in a row are strong and easy to remember.")
_IDENTITY_MIN = 4


def _holds_identity(password: str, values: list[str]) -> bool:
    squeezed = _squeezed(password)
    identities = (_squeezed(value.partition("@")[0]) for value in values)
    return any(len(found) >= _IDENTITY_MIN and found in squeezed for found in identities)


def _squeezed(text: str) -> str:
    return _SEPARATORS.sub("", text.strip().lower())


_DICTIONARIES = {"user_inputs": "personal", "passwords": "common"}
_PATTERNS = {"spatial", "repeat", "sequence", "date"}


def _kind(match: Mapping[str, Any]) -> str | None:
    pattern = match.get("pattern")
    if pattern == "dictionary":
        return _DICTIONARIES.get(match.get("dictionary_name", ""), "words")
    if pattern == "regex" and match.get("regex_name") == "recent_year":
        return "date"
    return pattern if pattern in _PATTERNS else None


_WEAKNESSES: tuple[tuple[str, Problem], ...] = (
    ("personal", N_("It contains your name, your e-mail address or this site's name.")),
    ("common", N_("It is, or is close to, a password many people use.")),
    ("words", N_("Common words and names on their own are easy to guess.")),
    ("spatial", N_("Keyboard patterns such as “qwerty” are easy to guess.")),
    ("repeat", N_("Repeats such as “aaa” or “abcabc” are easy to guess.")),
    ("sequence", N_("Sequences such as “abcd” or “6543” are easy to guess.")),
    ("date", N_("Dates and years are easy to guess.")),
)
