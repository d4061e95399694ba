"""Escaping, trimming, mentions, dates, money and tenure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.text import (
    bullet_list,
    escape,
    file_size,
    link,
    mention,
    slack_date,
    split_escaped,
    tenure,
    truncate,
    user_ref,
)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<http://x|link>", "&lt;http://x|link&gt;"),
        ("<!subteam^S1>", "&lt;!subteam^S1&gt;"),
        ("&amp;", "&amp;amp;"),  # & first, so an entity typed by a customer stays literal
        ("a & b > c < d", "a &amp; b &gt; c &lt; d"),
        (None, ""),
        (42, "42"),
    ],
)
def test_escape_follows_slacks_three_character_rule(raw: object, escaped: str) -> None:
    assert escape(raw) == escaped


def test_truncate_never_leaves_half_an_entity() -> None:
    text = escape("ab<cd")  # "ab&lt;cd"
    for limit in range(2, len(text)):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert cut.endswith("…")
        assert "&l" not in cut or "&lt;" in cut


def test_truncate_keeps_short_text_unchanged() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("hello!", 5) == "hell…"


def test_mention_accepts_only_slack_user_ids() -> None:
    assert mention("U0ALICE") == "<@U0ALICE>"
    assert mention("W123ABC") == "<@W123ABC>"
    for bad in ("<!channel>", "u123", "U12>", "C123", "", "U1 2"):
        with pytest.raises(ValueError, match="Not a Slack user id"):
            mention(bad)


def test_user_ref_escapes_what_is_not_a_user_id() -> None:
    assert user_ref("U0ALICE") == "<@U0ALICE>"
    assert user_ref("<!channel>") == "&lt;!channel&gt;"


def test_slack_date_shows_a_fallback_in_the_team_timezone() -> None:
    at = datetime(2026, 6, 15, 13, 42, tzinfo=UTC)
    token = slack_date(at, tz=ZoneInfo("America/New_York"))
    assert (
        token == f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|Jun 15 09:42 EDT>"
    )


def test_slack_date_escapes_its_fallback() -> None:
    token = slack_date(datetime(2026, 1, 1, tzinfo=UTC), "{date}", fallback="<!here>|x")
    assert token.endswith("|&lt;!here&gt;/x>")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 3, 2), "1 yr 3 mo"),
        (date(2025, 6, 15), "1 yr"),
        (date(2026, 1, 20), "4 mo"),
        (date(2026, 6, 3), "12 days"),
        (date(2026, 6, 14), "1 day"),
        (date(2026, 6, 15), "new today"),
        (None, "unknown"),
    ],
)
def test_tenure_reads_like_a_person_would_say_it(start: date | None, expected: str) -> None:
    assert tenure(start, date(2026, 6, 15)) == expected


def test_bullet_list_cuts_whole_lines_and_says_how_many_more() -> None:
    items = [f"reason number {i}" for i in range(100)]
    text = bullet_list(items, 300)
    assert len(text) <= 300
    kept = text.count("•")
    assert text.endswith(f"and {100 - kept} more")


def test_bullet_list_trims_a_single_huge_line() -> None:
    text = bullet_list(["x" * 5000, "short"], 200)
    assert len(text) <= 200 and text.endswith("and 1 more")


def test_split_escaped_loses_nothing_and_respects_the_limit() -> None:
    raw = ("line with <!channel> & stuff\n" * 500) + ("&" * 7000)
    pieces = split_escaped(raw, 2900)
    assert all(len(p) <= 2900 for p in pieces)
    joined = "\n".join(pieces).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert joined.replace("\n", "") == raw.replace("\n", "")


def test_link_refuses_urls_that_could_carry_markup() -> None:
    assert link("https://x.slack.com/archives/C1/p1", "open") == (
        "<https://x.slack.com/archives/C1/p1|open>"
    )
    assert link("https://x|<!channel>", "open") == "open"
    assert link("javascript:alert(1)", "<b>") == "&lt;b&gt;"


def test_file_size_is_human() -> None:
    assert file_size(512) == "512 B"
    assert file_size(48_213) == "47 KB"
    assert file_size(1_500_000) == "1.4 MB"
    assert file_size(None) == "size unknown"
