"""Password strength (offline, zxcvbn, our own words) and when a link works."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from grants.accounts.credentials.rules import (
    ESTIMATED_LENGTH,
    LinkLifetimes,
    LinkPurpose,
    LinkState,
    PasswordPolicy,
    Refusal,
    link_refusal,
    password_problems,
    personal_words,
    refusal_error,
    secret_hash,
)
from grants.core.errors import Conflict, NotFound
from grants.core.i18n import translate

POLICY = PasswordPolicy(min_length=12, hash_method="scrypt")
ACCOUNT = ("taro.yamada@sakura-bio.example.jp", "Yamada Taro", "Sakura Bio K.K.", None)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def problems(password: str, personal: tuple[str | None, ...] = ACCOUNT) -> list[str]:
    return [str(problem) for problem in password_problems(password, POLICY, personal)]


@pytest.mark.parametrize(
    "password",
    ["correct-horse-1", "lantern-quarry-ostrich", "Tr0ub4dor&3-plus", "木漏れ日と自転車の午後三時"],
)
def test_a_long_uncommon_password_passes(password: str) -> None:
    assert problems(password) == []


def test_a_password_shorter_than_the_installation_asks_is_refused_in_the_readers_language() -> None:
    (problem,) = password_problems("1234567890", POLICY)  # the example: 10 characters
    assert translate(problem, "en") == "A password has at least 12 characters."
    assert translate(problem, "ja") == "パスワードは12文字以上にしてください。"


@pytest.mark.parametrize(
    ("password", "said"),
    [
        ("password1234", "It is, or is close to, a password many people use."),
        ("1234567890ab", "It is, or is close to, a password many people use."),
        ("qwertyuiop[]", "Keyboard patterns such as “qwerty” are easy to guess."),
        ("aaaaaaaaaaaaaaaa", "Repeats such as “aaa” or “abcabc” are easy to guess."),
        ("abcdefghijklmn", "Sequences such as “abcd” or “6543” are easy to guess."),
        ("sunshine1985", "Dates and years are easy to guess."),
    ],
)
def test_a_common_or_patterned_password_is_refused_with_our_words(password: str, said: str) -> None:
    found = problems(password)
    assert said in found
    assert found[-1].startswith("Make it longer")  # and what to do instead
    assert not any("Add another word" in problem for problem in found)  # not zxcvbn's English


@pytest.mark.parametrize(
    "password",
    [
        "taro.yamada@sakura-bio.example.jp",  # the address itself
        "TaroYamada!2026",  # its part before the @
        "yamada-taro-1999",  # the name, in another order zxcvbn finds
        "sakurabiokk-2026",  # the organisation
    ],
)
def test_the_accounts_own_address_name_or_organisation_is_refused(password: str) -> None:
    found = problems(password)
    assert "It contains your name, your e-mail address or this site's name." in found


def test_what_is_guessable_for_one_account_may_do_for_another() -> None:
    assert problems("TaroYamada!2026", personal=("hanako@example.jp", "Suzuki Hanako")) == []


def test_the_messages_are_said_in_japanese() -> None:
    found = password_problems("taro.yamada2026", POLICY, ACCOUNT)
    assert [translate(problem, "ja") for problem in found] == [
        "あなたの名前、メールアドレス、またはこのサイトの名前が含まれています。",
        "もっと長くしてください。あまり使われない単語をいくつか並べると、強くて覚えやすいパスワードになります。",
    ]


def test_a_very_long_password_is_judged_by_its_beginning_quickly() -> None:
    started = time.perf_counter()
    assert problems("lantern quarry ostrich " * 8) == []  # 184 characters
    assert problems("a" * (ESTIMATED_LENGTH + 50)) != []  # still a repeat
    assert time.perf_counter() - started < 5
    (too_long,) = problems("x" * 201)
    assert too_long == "A password has at most 200 characters."


def test_personal_words_are_the_values_and_their_parts() -> None:
    words = personal_words(["Taro.Yamada@example.jp", "山田 太郎", None, ""])
    assert {"taro.yamada@example.jp", "taro", "yamada", "example", "山田 太郎"} <= set(words)
    assert "jp" not in words  # too short to matter
    assert {"milestone", "grants"} <= set(words)  # the site's own


def test_link_lifetimes_come_from_the_settings() -> None:
    lifetimes = LinkLifetimes.of({"INVITATION_HOURS": 72, "RESET_LINK_MINUTES": 60})
    assert lifetimes.expiry(LinkPurpose.invitation, NOW) == NOW + timedelta(hours=72)
    assert lifetimes.expiry(LinkPurpose.reset, NOW) == NOW + timedelta(hours=1)


def _link(**changes: object) -> LinkState:
    values = {
        "purpose": LinkPurpose.reset,
        "expires_at": NOW + timedelta(minutes=1),
        "used_at": None,
        "revoked_at": None,
        "account_active": True,
    }
    return LinkState(**(values | changes))  # type: ignore[arg-type]


def test_a_link_works_once_for_its_purpose_until_it_expires() -> None:
    assert link_refusal(LinkPurpose.reset, _link(), NOW) is None
    assert link_refusal(LinkPurpose.reset, None, NOW) == Refusal.unknown
    assert link_refusal(LinkPurpose.invitation, _link(), NOW) == Refusal.unknown
    assert link_refusal(LinkPurpose.reset, _link(used_at=NOW), NOW) == Refusal.used
    assert link_refusal(LinkPurpose.reset, _link(revoked_at=NOW), NOW) == Refusal.revoked
    assert link_refusal(LinkPurpose.reset, _link(account_active=False), NOW) == Refusal.inactive
    assert link_refusal(LinkPurpose.reset, _link(expires_at=NOW), NOW) == Refusal.expired


def test_refusals_are_not_found_or_conflicts_in_words() -> None:
    unknown = refusal_error(Refusal.unknown)
    assert isinstance(unknown, NotFound)
    expired = refusal_error(Refusal.expired)
    assert isinstance(expired, Conflict)
    assert translate(expired.message, "ja") == "このリンクは有効期限が切れています。"


def test_only_a_hash_of_the_secret_is_kept() -> None:
    digest = secret_hash("a-secret")
    assert len(digest) == 64 and "a-secret" not in digest
    assert digest == secret_hash("a-secret") != secret_hash("a-secreT")
