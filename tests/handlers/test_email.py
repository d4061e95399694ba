"""The Email button of a digest entry, end to end: signed clicks and submissions, the fake Slack."""

from __future__ import annotations

import json

from bot.blocks import ids
from bot.models import TASK_OPEN
from tests.handlers.conftest import (
    DAY_30,
    CareBot,
    add_subscriber,
    click,
    message_text,
    post_digest,
    tasks_of,
)
from tests.slackreq import text_input


def seed(bot: CareBot, name: str = "Ann Lee", email: str = "ann@example.com") -> list[str]:
    add_subscriber(bot.repos, "cus_ann", name, email, DAY_30, plan="Coffee Club", amount=29.0)
    post_digest(bot)
    return [t.id for t in tasks_of(bot.repos, "cus_ann")]


def open_modal(bot: CareBot, task_id: str, user: str = "U1") -> dict:
    status, _, body = click(bot, ids.ACTION_EMAIL, task_id, user=user)
    assert (status, body) == (200, "")
    [modal] = bot.fake.wait_for(lambda: bot.fake.modals(user))
    return modal


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def values(subject: str, body: str, after: str = ids.EMAIL_CLOSE) -> dict:
    return {
        ids.BLOCK_EMAIL_SUBJECT: {ids.ACTION_EMAIL_SUBJECT: text_input(subject)},
        ids.BLOCK_EMAIL_BODY: {ids.ACTION_EMAIL_BODY: text_input(body)},
        ids.BLOCK_EMAIL_AFTER: {
            ids.ACTION_EMAIL_AFTER: {"type": "radio_buttons", "selected_option": {"value": after}}
        },
    }


def test_email_button_opens_the_drafted_email_to_the_exact_recipient(care_bot):
    [task_id] = seed(care_bot)

    modal = open_modal(care_bot, task_id)

    assert modal["callback_id"] == ids.VIEW_EMAIL
    assert modal["blocks"][0]["text"]["text"].startswith("*To:* Ann Lee &lt;ann@example.com&gt;")
    fields = inputs(modal)
    assert fields[ids.BLOCK_EMAIL_SUBJECT]["initial_value"] == (
        "A month in with Coffee Club: how are we doing?"
    )
    body = fields[ids.BLOCK_EMAIL_BODY]["initial_value"]
    assert body.startswith("Hi Ann,\n\nIt has been about a month since you started Coffee Club")
    assert "checkin_30.txt" in message_text(modal)
    assert json.loads(modal["private_metadata"])["task_ids"] == [task_id]


def test_a_hostile_name_is_shown_escaped_and_never_greets_the_customer(care_bot):
    [task_id] = seed(care_bot, name="<!channel> {{ 7*7 }}", email="x@example.com")

    modal = open_modal(care_bot, task_id)

    assert "&lt;!channel&gt; {{ 7*7 }} &lt;x@example.com&gt;" in modal["blocks"][0]["text"]["text"]
    assert inputs(modal)[ids.BLOCK_EMAIL_BODY]["initial_value"].startswith("Hi there,")


def test_someone_outside_the_team_gets_no_modal(care_bot):
    [task_id] = seed(care_bot)
    care_bot.fake.add_user("U9", "olly")

    status, _, _ = click(care_bot, ids.ACTION_EMAIL, task_id, user="U9")

    assert status == 200
    [note] = care_bot.fake.wait_for(lambda: care_bot.fake.ephemerals("U9"))
    assert "manager" in message_text(note)
    assert care_bot.fake.modals("U9") == []


def test_an_empty_body_is_an_error_under_it_and_nothing_changes(care_bot):
    [task_id] = seed(care_bot)
    modal = open_modal(care_bot, task_id)

    status, _, body = care_bot.sender.submit(ids.VIEW_EMAIL, values("Hi", "  "), view=modal)

    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {ids.BLOCK_EMAIL_BODY: "Write the message."},
    }
    assert care_bot.repos.tasks.require(task_id).status == TASK_OPEN
    assert list(care_bot.repos.outreach.all()) == []
