"""Rendered examples of the Slack surfaces, for docs/slack-surfaces.md.

The doc is generated from the real builders, fed the sample story of `bot/blocks/samples.py`,
so it cannot drift from them:

    python -m bot.blocks.examples --write      # rewrite docs/slack-surfaces.md
    python -m bot.blocks.examples              # print it

`tests/bot/blocks/test_examples.py` fails when the file is stale.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.blocks.audit import build_task_history
from bot.blocks.carried import build_carried_message
from bot.blocks.digest import DigestProgress, build_digest_parent, build_entry_message
from bot.blocks.modal import build_log_outreach_modal
from bot.blocks.outreach_post import build_outreach_post
from bot.blocks.plain import to_text
from bot.blocks.queue import build_queue
from bot.blocks.reply import build_reply_modal, build_reply_note
from bot.blocks.samples import (
    NOW,
    TODAY,
    TZ,
    claimed,
    later_entry,
    queued_entries,
    sample_entry,
    sample_history,
    sample_outreach,
    sample_pending_triage,
    sample_reply,
    sample_triage,
)
from bot.blocks.triage_message import build_triage_message

DOC = Path(__file__).resolve().parents[2] / "docs" / "slack-surfaces.md"


def surfaces() -> list[tuple[str, str, dict[str, Any]]]:
    """(title, what it is, payload) for each example in the doc."""
    entry = sample_entry()
    counts = {"churn_risk": 3, "pre_renewal": 2, "win_back": 1, "checkin_30": 4, "overdue": 2}
    counts.update({"queued": 214, "queued_entries": 187, "limit": 150})
    progress = DigestProgress(claimed=4, done=3, open=3)
    return [
        (
            "The digest parent message",
            "Posted at 09:00 in the digest channel; its counts are `chat.update`d as tasks "
            "are claimed and done. The day is sized to the team (`[digest] capacity` x "
            "managers): the rest wait in the queue, and the parent says how many.",
            build_digest_parent(TODAY, counts, progress),
        ),
        (
            "A task entry in the digest thread",
            "One customer with all of its due tasks, unclaimed, in the first churn-risk message "
            "(so it opens with the kind's header; a message holds up to "
            "`tasks_per_message` customers). Claim claims both tasks.",
            build_entry_message(entry, TODAY, TZ, NOW, header_kind="churn_risk"),
        ),
        (
            "The same entry, claimed",
            "After Claim, the message is updated in place: claimant, time, Log outreach / "
            "Release. The time is a Slack date token, shown in each reader's timezone.",
            build_entry_message(claimed(entry), TODAY, TZ, NOW, header_kind="churn_risk"),
        ),
        (
            "The Log outreach modal",
            "Opened by Log outreach. Field errors (no channel, a follow-up without a date, a "
            "date in the past) are shown under each field. Stored too slowly for Slack, it closes "
            "and a private message follows: logged, or not saved with what was entered.",
            build_log_outreach_modal(["k7qx2", "a3b4c"], entry.subscriber),
        ),
        (
            "The next morning: still open from earlier days",
            "Customers an earlier digest listed and nobody finished are not posted in full "
            "again: they open the next day's thread as one line each, oldest first, with Claim "
            "(or Log outreach once claimed). They belong to that day's digest now: claims and "
            "logs edit this message and that day's parent. The parent says how many there are.",
            build_carried_message(
                [claimed(entry), later_entry(entry)], TODAY + timedelta(days=1), first=True, total=3
            ),
        ),
        (
            "An earlier day's entry whose tasks moved on",
            "When the next digest lists them, the earlier message says so and loses its "
            "buttons; that day's parent counts them as moved on, so it stays equal to what "
            "its own thread shows.",
            build_entry_message(
                replace(entry, moved_to=TODAY + timedelta(days=1)), TODAY, TZ, NOW, "churn_risk"
            ),
        ),
        (
            "A triage message from the shared inbox",
            "One email conversation, with who the sender is as a subscriber.",
            build_triage_message(sample_triage(), NOW, TZ),
        ),
        (
            "The Reply modal",
            "Opened by Reply on a triage message: the exact recipient and subject, the "
            "customer's message, a draft. Only Send emails the customer; a failed send comes "
            "back here with the reason on top and the text kept.",
            build_reply_modal(sample_reply(), "Acme Support <support@acme.example>", "{}"),
        ),
        (
            "A reply in the triage thread",
            "Posted in the conversation's thread once the mail server took the email.",
            build_reply_note(
                "U04MAYA",
                "ann.lee@example.com",
                "Re: Please cancel my subscription",
                "Hi Ann,\n\nSorry about the double charge: I have refunded it. Would a pause "
                "for a month help instead of cancelling?\n\nMaya",
            ),
        ),
        (
            "An outreach email in the triage channel",
            "Posted when an email is sent from a digest entry; no buttons until the customer "
            "answers. The answer lands in this thread and the message becomes a triage message "
            "for it.",
            build_outreach_post(sample_outreach(), NOW, TZ),
        ),
        (
            "A cancel request waiting for a person",
            "Below `[triage] cancel_confidence` a cancel request is not counted until someone "
            "confirms it; a negated mention is shown as not counted, with its words.",
            build_triage_message(sample_pending_triage(), NOW, TZ),
        ),
        (
            "`/care history k7qx2`",
            "Everything done to a task, oldest first: who, when, from which surface, and where "
            "it stands now. A lead reassigned it here; the trail says whose it was.",
            build_task_history(
                claimed(entry, "U05BEN").tasks[0],
                entry.subscriber.display_name,
                sample_history(),
                TODAY,
                TZ,
            ),
        ),
        (
            "`/care queue`",
            "What is due beyond today's digest, best first (overdue, risk, value at stake, "
            "longest since reached), each with its value, risk and why; Claim works as in the "
            "digest. `/care queue churn_risk` lists one kind. The Home tab shows the same list.",
            build_queue(queued_entries(entry), 187, 214, TODAY),
        ),
    ]


def render_markdown() -> str:
    """The whole of docs/slack-surfaces.md."""
    out = [
        "# What Proactive Care looks like in Slack",
        "",
        "Generated by `python -m bot.blocks.examples --write` from the real Block Kit builders "
        "in `bot/blocks/` (do not edit by hand; a test fails when this file is stale). Each "
        "surface is shown as text (roughly what Slack displays) and as the Block Kit JSON the "
        "bot sends; paste the JSON into Slack's Block Kit Builder to see it rendered.",
        "",
    ]
    for title, what, payload in surfaces():
        out += [f"## {title}", "", what, "", "```text", to_text(payload), "```", ""]
        out += ["<details><summary>Block Kit JSON</summary>", "", "```json"]
        out += [json.dumps(payload, indent=2, ensure_ascii=False), "```", "", "</details>", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the doc, or write it with --write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
