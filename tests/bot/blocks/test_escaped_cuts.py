"""Escaped text cut to a limit never ends in half an entity ("&am") nor passes the limit: the
shared `truncate`, and the builders that cut escaped text (carried-over fallback, card fields,
sections)."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks import cards, reply, report
from bot.blocks.carried import build_carried_message
from bot.blocks.digest import clip_text
from bot.blocks.limits import MAX_FIELD_TEXT, MAX_SECTION_TEXT
from bot.blocks.text import escape, truncate
from tests.bot.blocks.factories import TODAY, entry, subscriber, task

BROKEN = re.compile(r"&(?!amp;|lt;|gt;)")  # an "&" that does not start a whole entity
# Text heavy in the three characters Slack escapes, so cuts land inside entities often.
OUTSIDE = st.text(alphabet=st.sampled_from("&<>a ;"), max_size=3000) | st.text(max_size=300)


def whole(cut: str, limit: int) -> bool:
    return len(cut) <= limit and BROKEN.search(cut) is None


@settings(max_examples=300, deadline=None)
@given(text=OUTSIDE, limit=st.integers(min_value=1, max_value=3100))
def test_truncate_of_escaped_text_keeps_whole_entities_within_the_limit(text: str, limit: int):
    cut = truncate(escape(text), limit)
    assert whole(cut, limit), cut[-12:]
    if len(escape(text)) <= limit:
        assert cut == escape(text)


def over(text: str, shift: int, limit: int) -> str:
    """Escaped outside text longer than `limit`, shifted so the cut lands anywhere."""
    escaped = escape(text or "&")
    return "a" * shift + escaped * (limit // len(escaped) + 2)


@settings(max_examples=100, deadline=None)
@given(text=OUTSIDE, shift=st.integers(0, 5), label=st.sampled_from(["Plan", "Email"]))
def test_a_card_field_keeps_whole_entities_within_slacks_limit(text: str, shift: int, label: str):
    field = cards._field(label, over(text, shift, MAX_FIELD_TEXT))
    assert whole(field["text"], MAX_FIELD_TEXT), field["text"][-12:]


@settings(max_examples=100, deadline=None)
@given(text=OUTSIDE, shift=st.integers(0, 5))
def test_sections_and_fallbacks_keep_whole_entities_within_their_limits(text: str, shift: int):
    escaped = over(text, shift, MAX_SECTION_TEXT)
    for section in (reply._section(escaped), reply._context(escaped), report._section(escaped)):
        body = section.get("text") or section["elements"][0]
        assert whole(body["text"], MAX_SECTION_TEXT), body["text"][-12:]
    assert whole(clip_text(escaped), 3000)


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(
        st.text(alphabet=st.sampled_from("&<>b "), min_size=20, max_size=150),
        min_size=20,
        max_size=40,
    )
)
def test_the_carried_over_fallback_text_keeps_whole_entities_within_3000(names: list[str]):
    entries = [
        entry(task(f"t{n:04d}", due=TODAY - timedelta(days=3)), sub=subscriber(name, id=f"c{n}"))
        for n, name in enumerate(names)
    ]
    message = build_carried_message(entries, TODAY, first=True, total=len(entries))
    assert whole(message["text"], 3000), message["text"][-12:]
