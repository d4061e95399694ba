"""The Reply modal and its thread note: within Slack's limits, escaped, parsed back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.blocks import ids
from bot.blocks.reply import (
    build_not_sent_view,
    build_reply_modal,
    build_reply_note,
    build_sending_view,
    build_sent_view,
    parse_reply,
)
from bot.models import Task
from bot.outbox.reply import MAX_DRAFT, ReplyDraft
from tests.fakeslack.blockkit import check_blocks, check_view

NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
HOSTILE = "<!channel> <@U999> &amp; *bold* " * 200


def _draft(**kw) -> ReplyDraft:
    values = dict(
        item_id="m9r2t", to="ann@example.com", to_name="Ann <!here> Lee", subject="Re: " + HOSTILE,
        quoted=HOSTILE, body="Hi Ann,\n\n" + "x" * 5000, received_at=NOW,
        open_task=Task(id="t1", key="k", kind="checkin_30", subscriber_id="s", due=date(2026, 6, 15), created_at=NOW),
    )  # fmt: skip
    values.update(kw)
    return ReplyDraft(**values)


def test_the_modal_shows_recipient_and_subject_escaped_and_fits_slack():
    modal = build_reply_modal(
        _draft(), "Acme <care@example.com>", '{"item":"m9r2t"}', error=HOSTILE
    )
    assert check_view(modal) == []
    sections = [b for b in modal["blocks"] if b["type"] != "input"]
    text = str(sections)
    assert "<!channel>" not in text and "<@U999>" not in text and "<!here>" not in text
    assert "*To:* Ann &lt;!here&gt; Lee &lt;ann@example.com&gt;" in text
    draft = next(b for b in modal["blocks"] if b.get("block_id") == ids.BLOCK_REPLY_TEXT)
    assert len(draft["element"]["initial_value"]) == MAX_DRAFT
    checks = next(b for b in modal["blocks"] if b.get("block_id") == ids.BLOCK_REPLY_OPTIONS)
    assert [o["value"] for o in checks["element"]["options"]] == [
        ids.REPLY_RESOLVE,
        ids.REPLY_CLOSE_TASK,
    ]
    assert [o["value"] for o in checks["element"]["initial_options"]] == [ids.REPLY_RESOLVE]


def test_without_an_open_task_there_is_nothing_to_close():
    modal = build_reply_modal(_draft(open_task=None), "care@example.com", "{}", resolve=False)
    checks = next(b for b in modal["blocks"] if b.get("block_id") == ids.BLOCK_REPLY_OPTIONS)
    assert [o["value"] for o in checks["element"]["options"]] == [ids.REPLY_RESOLVE]
    assert "initial_options" not in checks["element"]


def test_sending_and_sent_views_fit_and_offer_no_send_button():
    sending = build_sending_view(_draft(), "care@example.com", "{}")
    sent = build_sent_view("ann@example.com", HOSTILE, [HOSTILE])
    for view in (sending, sent):
        assert check_view(view) == [] and "submit" not in view
        assert "<!channel>" not in str(view)


def test_a_submission_is_read_back_and_empty_text_is_refused():
    def values(text, *chosen):
        return {
            ids.BLOCK_REPLY_TEXT: {ids.ACTION_REPLY_TEXT: {"value": text}},
            ids.BLOCK_REPLY_OPTIONS: {ids.ACTION_REPLY_OPTIONS: {"selected_options": [{"value": c} for c in chosen]}},
        }  # fmt: skip

    got, errors = parse_reply(values("Hello", ids.REPLY_CLOSE_TASK))
    assert errors == {} and (got.text, got.resolve, got.close_task) == ("Hello", False, True)
    assert parse_reply(values("  \n"))[1] == {ids.BLOCK_REPLY_TEXT: "Write your reply first."}
    assert ids.BLOCK_REPLY_TEXT in parse_reply(values("x" * (MAX_DRAFT + 1)))[1]


def test_the_thread_note_mentions_the_sender_and_escapes_the_text():
    note = build_reply_note("U1", "ann@example.com", "Re: hi", HOSTILE * 10)
    assert check_blocks(note["blocks"]) == []
    assert note["blocks"][0]["text"]["text"].startswith(":outbox_tray: <@U1> replied by email")
    assert "<!channel>" not in str(note) and "The rest is in the Sent folder." in str(note)


def test_a_reply_not_sent_after_the_form_went_gives_back_every_character_typed() -> None:
    text = ("Hi <@U1> & <!here>,\n" * 200)[:MAX_DRAFT]

    view = build_not_sent_view(text, "No inbox item with that id.")

    assert check_view(view) == [] and "submit" not in view
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "*Not sent*: No inbox item" in sections[0]
    shown = "\n".join(sections[1:]).removeprefix("*Your text:*\n")
    assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text
