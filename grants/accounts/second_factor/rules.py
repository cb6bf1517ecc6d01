"""Second-factor rules: who must have one, when it must be given again, TOTP codes (RFC 6238),
recovery codes, and the sealing of TOTP secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from grants.core.identity import Role

STEP_SECONDS = 30
DIGITS = 6
SKEW_STEPS = 1  # a code of the step before or after the current one is accepted too
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mistake
_RECOVERY_GROUPS, _RECOVERY_GROUP = 4, 4  # xxxx-xxxx-xxxx-xxxx: about 79 bits
_SPACING = str.maketrans("", "", " -‐‑‒–—―−\t")
NAME_MAX = 100


class Method(StrEnum):
    """How a second factor was given."""

    totp = "totp"
    recovery_code = "recovery_code"
    passkey = "passkey"


@dataclass(frozen=True)
class SecondFactorPolicy:
    """The roles that must have a second factor, and how long one given stays fresh enough
    for the actions that ask for it again (creating an API token)."""

    roles: frozenset[Role]
    step_up: timedelta

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> SecondFactorPolicy:
        """From the settings SECOND_FACTOR_ROLES and SECOND_FACTOR_STEP_UP_MINUTES."""
        roles = frozenset(Role(role) for role in settings["SECOND_FACTOR_ROLES"])
        return cls(roles, timedelta(minutes=int(settings["SECOND_FACTOR_STEP_UP_MINUTES"])))

    def required_for(self, role: Role) -> bool:
        return role in self.roles

    def step_up_needed(self, role: Role, given_at: datetime | None, now: datetime) -> bool:
        """Whether someone of `role` whose second factor was last given at `given_at` (None:
        not in this session) must give it again before a sensitive action at `now`."""
        if not self.required_for(role):
            return False
        return given_at is None or not (now - self.step_up <= given_at <= now)


@dataclass(frozen=True)
class StepUp:
    """What a sensitive action needs to know to ask for the second factor again: the
    policy, when this session last gave it (None: not in this session, or no session, as
    with an API token) and the time now."""

    policy: SecondFactorPolicy
    given_at: datetime | None
    now: datetime

    def needed(self, role: Role) -> bool:
        return self.policy.step_up_needed(role, self.given_at, self.now)


# --- TOTP ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """A random base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def normalize_code(text: str) -> str:
    """A code as typed (full-width digits, spaces, dashes) in plain lower-case characters."""
    return unicodedata.normalize("NFKC", text).translate(_SPACING).lower()


def is_totp_code(code: str) -> bool:
    """Whether a normalized code has the shape of an authenticator app's code."""
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step whose code `code` is, within ±SKEW_STEPS of `now` and after the last
    step accepted (a code is accepted once); None when it is no such code."""
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, step: int) -> str:
    """The code of `step` (what an authenticator app shows during it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return totp.provisioning_uri(name=account, issuer_name=issuer)


# --- recovery codes -----------------------------------------------------------------------


def new_recovery_codes() -> list[str]:
    return [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def _recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def is_recovery_code(code: str) -> bool:
    """Whether a normalized code has the shape of a recovery code."""
    return len(code) == _RECOVERY_GROUPS * _RECOVERY_GROUP and all(
        c in _RECOVERY_ALPHABET for c in code
    )


def recovery_code_hash(code: str) -> str:
    """The stored form of a recovery code (normalized first: dashes and case do not count).
    About 79 random bits each: a plain SHA-256 cannot be searched back."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


# --- sealing secrets at rest --------------------------------------------------------------


class SecretBox:
    """Encrypts TOTP secrets (Fernet: AES-128-CBC with HMAC-SHA256) with keys derived from
    the installation's SECRET_KEY; a key in SECRET_KEY_FALLBACKS still opens what it sealed,
    and such a secret is sealed again with the current key when it is next used."""

    def __init__(self, secret_keys: Sequence[str | bytes]) -> None:
        if not secret_keys:
            raise ValueError("SecretBox needs at least one key")
        fernets = [Fernet(_derived_key(key)) for key in secret_keys]
        self._current = fernets[0]
        self._fernet = MultiFernet(fernets)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> SecretBox:
        """From the settings SECRET_KEY and SECRET_KEY_FALLBACKS."""
        return cls([settings["SECRET_KEY"], *settings.get("SECRET_KEY_FALLBACKS", ())])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when no key of this installation sealed it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def current(self, sealed: str) -> str:
        """`sealed`, sealed with the current key (unchanged when it already is)."""
        if self._sealed_with_current_key(sealed):
            return sealed
        return self._fernet.rotate(sealed.encode()).decode()

    def _sealed_with_current_key(self, sealed: str) -> bool:
        try:
            self._current.decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True


def _derived_key(secret_key: str | bytes) -> bytes:
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"grants totp secrets")
    return base64.urlsafe_b64encode(hkdf.derive(material))


# --- names --------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """A passkey's name as the user typed it, trimmed."""
    return " ".join(name.split())
