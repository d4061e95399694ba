"""A digest entry says why now in one line, then the evidence, each sentence once."""

from __future__ import annotations

from bot.blocks.entry import EntryView, build_entry_blocks
from bot.models import Risk, RiskReason
from tests.bot.blocks.factories import NOW, TODAY, TZ, risk, subscriber, task


def _texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_a_churn_entry_says_why_now_in_one_line_and_each_reason_once() -> None:
    scored = Risk(
        65,
        "high",
        [
            RiskReason("cancel_request", 60, "Asked to cancel on 2026-06-12"),
            RiskReason("skips", 5, "2 skips in the last 3 cycles"),
        ],
    )
    churn = task(reason="Churn risk 65 (high): Asked to cancel on 2026-06-12; 2 skips")
    evidence = ["Asked to cancel on 2026-06-12", "2 skips in the last 3 cycles", "Tags: vip"]
    view = EntryView(subscriber(), [churn], scored, evidence=evidence)

    who, why, proof = _texts(build_entry_blocks(view, TODAY, TZ, NOW))

    assert "\n" not in why and why.startswith("*Why now*")
    assert "*Churn risk* :red_circle: 65 (high), due today `k7qx2`" in why
    assert "Churn risk: Churn risk" not in why and "Asked to cancel" not in why
    assert proof.startswith("*Evidence*\n")  # the band is on the why line: not said again
    all_text = "\n".join((who, why, proof))
    for sentence in evidence:
        assert all_text.count(sentence) == 1
    assert "*Risk*" not in all_text


def test_a_lifecycle_entry_keeps_its_reason_and_shows_the_risk_band_with_the_evidence() -> None:
    checkin = task("m4p8z", "checkin_30", reason="30 days since the first box")
    view = EntryView(subscriber(), [checkin], risk("1 support contact"), evidence=["Tags: gift"])

    _, why, proof = _texts(build_entry_blocks(view, TODAY, TZ, NOW))

    assert "*30-day check-in*: 30 days since the first box, due today" in why
    assert proof.startswith("*Evidence*  ·  risk ")
    assert "Tags: gift" in proof


def test_an_entry_without_risk_or_evidence_has_no_evidence_section() -> None:
    checkin = task("m4p8z", "checkin_30", reason="30 days since the first box", risk_score=0)
    view = EntryView(subscriber(), [checkin], Risk(0, "low", []), evidence=[])

    texts = _texts(build_entry_blocks(view, TODAY, TZ, NOW))

    assert len(texts) == 2 and "Evidence" not in "".join(texts) and "Risk" not in "".join(texts)


def test_evidence_from_outside_is_escaped_and_pings_nobody() -> None:
    view = EntryView(
        subscriber(),
        [task()],
        risk("x"),
        evidence=["Cancellation comment: \u201c<!channel> too <@U1> pricey\u201d"],
    )

    proof = _texts(build_entry_blocks(view, TODAY, TZ, NOW))[-1]

    assert "&lt;!channel&gt;" in proof and "<!channel>" not in proof and "<@U1>" not in proof


def test_a_save_task_that_carries_the_cancellation_reason_is_not_repeated_by_the_evidence() -> None:
    reason = (
        "Set to cancel on 2026-07-01: a save call before it ends. Reason: too expensive. "
        "Comment: \u201cthe price went up twice\u201d"
    )
    save = task("s1ave", "pre_renewal", reason=reason)
    evidence = [
        "Scheduled to cancel on 2026-07-01",
        "Cancellation reason: too expensive",
        "Cancellation comment: \u201cthe price went up twice\u201d",
        "Tags: box",
    ]
    view = EntryView(
        subscriber(), [save], risk("Scheduled to cancel on 2026-07-01"), evidence=evidence
    )

    text = "\n".join(_texts(build_entry_blocks(view, TODAY, TZ, NOW)))

    assert text.count("too expensive") == 1 and text.count("the price went up twice") == 1
    assert "Scheduled to cancel on 2026-07-01" in text and "Tags: box" in text
