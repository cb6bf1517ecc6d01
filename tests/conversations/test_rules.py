"""Messages shown safely: escaped, with http(s) addresses as links and nothing else."""

from __future__ import annotations

from grants.conversations.rules import linkify


def test_an_address_becomes_a_link_that_shares_nothing_with_its_target() -> None:
    shown = linkify("See https://example.jp/a?b=1&c=2.")
    assert shown == (
        'See <a href="https://example.jp/a?b=1&amp;c=2" rel="noopener noreferrer">'
        "https://example.jp/a?b=1&amp;c=2</a>."
    )


def test_markup_in_the_text_stays_text() -> None:
    shown = linkify("<script>alert(1)</script> <a href=\"x\">x</a> & 'quoted'")
    assert "<script>" not in shown and "<a href" not in shown
    assert "&lt;script&gt;" in shown and "&#34;x&#34;" in shown and "&#39;quoted&#39;" in shown


def test_only_http_and_https_addresses_are_links() -> None:
    for text in ("javascript:alert(1)", "data:text/html,<b>x</b>", "JaVaScRiPt://x", "ftp://x.jp"):
        assert "<a" not in linkify(text)


def test_a_quote_or_bracket_ends_an_address_and_cannot_open_an_attribute() -> None:
    shown = linkify('https://x.jp/"onmouseover="alert(1) and https://x.jp/<b>')
    assert 'href="https://x.jp/"' in shown
    assert shown.count("<a ") == 2 and 'onmouseover="' not in shown.replace("&#34;", "")


def test_japanese_text_after_an_address_is_not_part_of_it() -> None:
    shown = linkify(
        "資料はhttps://example.jp/docsをご覧ください（https://en.wikipedia.org/wiki/X_(Y)）"
    )
    assert '<a href="https://example.jp/docs"' in shown
    assert '<a href="https://en.wikipedia.org/wiki/X_(Y)"' in shown
