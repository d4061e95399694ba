"""docs/slack-surfaces.md is generated from the builders and must not go stale."""

from __future__ import annotations

from bot.blocks.examples import DOC, render_markdown, surfaces
from bot.blocks.limits import check_message
from bot.blocks.plain import to_text


def test_the_doc_matches_what_the_builders_produce() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/slack-surfaces.md is stale: run `python -m bot.blocks.examples --write`"
    )


def test_the_doc_shows_digest_entry_claimed_entry_and_modal() -> None:
    titles = [title for title, _, _ in surfaces()]
    assert titles[:4] == [
        "The digest parent message",
        "A task entry in the digest thread",
        "The same entry, claimed",
        "The Log outreach modal",
    ]
    for _, _, payload in surfaces():
        check_message(payload)


def test_plain_text_rendering_reads_like_slack() -> None:
    _, _, claimed = surfaces()[2]
    text = to_text(claimed)
    assert "Claimed by @U04MAYA at Jun 15 09:42 EDT" in text
    assert "[Log outreach]  [Email]  [Release]" in text
    _, _, modal = surfaces()[3]
    assert to_text(modal).splitlines()[0] == "=== Log outreach ==="
