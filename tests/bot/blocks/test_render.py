"""DigestRenderer: what the digest publisher calls to draw its messages."""

from __future__ import annotations

from bot.blocks.limits import check_message
from bot.blocks.render import DigestRenderer
from bot.clock import FixedClock
from tests.bot.blocks.factories import ALICE, NOW, TODAY, TZ, claimed, entry, task


def test_parent_uses_the_publishers_counts_and_progress() -> None:
    renderer = DigestRenderer(TZ, FixedClock(NOW))
    msg = renderer.parent(
        TODAY, {"churn_risk": 2, "overdue": 1}, {"claimed": 1, "done": 0, "open": 1, "expired": 0}
    )
    check_message(msg)
    assert "*2 proactive touches due today*" in msg["blocks"][1]["text"]["text"]
    assert "*1* claimed" in msg["blocks"][2]["text"]["text"]


def test_batch_heads_only_the_first_message_of_a_kind() -> None:
    renderer = DigestRenderer(TZ, FixedClock(NOW))
    entries = [entry(task("k7qx2")), claimed(entry(task("a3b4c")))]
    first = renderer.batch("churn_risk", entries, first_of_kind=True)
    later = renderer.batch("churn_risk", entries, first_of_kind=False)
    check_message(first)
    assert first["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Churn risk"},
    }
    assert later["blocks"] == first["blocks"][2:]
    assert f"<@{ALICE}>" in str(later["blocks"])
