"""Safety: signatures, managers only, hostile text pings nobody, listeners ack before slow work."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks import ids
from bot.models import TASK_OPEN
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    post_digest,
    tasks_of,
)
from tests.slackreq import (
    app_home_opened,
    command_body,
    datepicker,
    static_select,
    text_input,
)

OUTSIDER = "U9"  # a workspace member who is not in CARE_MANAGERS


def _lone_task(bot: CareBot) -> str:
    add_checkins(bot.repos, 2)
    post_digest(bot)
    return tasks_of(bot.repos, "cus_000")[0].id


def _unchanged(bot: CareBot, task_id: str, updates_before: int) -> None:
    task = bot.repos.tasks.require(task_id)
    assert (task.status, task.claimed_by, task.snoozed_until) == (TASK_OPEN, "", None)
    assert list(bot.repos.outreach.all()) == []
    assert len(bot.fake.calls("chat.update")) == updates_before


def test_health_check_answers_200(care_bot):
    with urllib.request.urlopen(f"{care_bot.url}/healthz", timeout=5) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong-signature", "stale-timestamp"],
)
def test_requests_not_signed_by_slack_are_refused_and_change_nothing(care_bot, how):
    task = _lone_task(care_bot)
    updates = len(care_bot.fake.calls("chat.update"))
    body = command_body("/care", f"claim {task}", user_id="U1")
    sender = care_bot.sender
    if how == "unsigned":
        status, _, _ = sender.post(body, signed=False)
    elif how == "wrong-signature":
        status, _, _ = type(sender)(sender.bot_url, "not-the-secret").post(body)
    else:
        status, _, _ = sender.post(body, timestamp=int(time.time()) - 6 * 60)

    assert status == 401
    _unchanged(care_bot, task, updates)
    assert care_bot.fake.ephemerals() == []


def test_a_non_manager_is_refused_politely_and_privately_and_nothing_changes(care_bot):
    care_bot.fake.add_user(OUTSIDER, "olly")
    task = _lone_task(care_bot)
    updates = len(care_bot.fake.calls("chat.update"))

    answers = [
        json.loads(care_bot.sender.command(text, user_id=OUTSIDER)[2])
        for text in (f"claim {task}", f"log {task} call reached", f"snooze {task} 3", "digest now")
    ]
    click(care_bot, ids.ACTION_CLAIM, task, user=OUTSIDER)
    click(care_bot, ids.ACTION_LOG, task, user=OUTSIDER)

    for answer in answers:
        assert answer["response_type"] == "ephemeral"
        assert "Only care managers can" in answer["text"]
    notes = care_bot.fake.wait_for(lambda: len(e := care_bot.fake.ephemerals(OUTSIDER)) == 2 and e)
    assert all("Only care managers can" in n["text"] for n in notes)
    assert care_bot.fake.modals(OUTSIDER) == []
    _unchanged(care_bot, task, updates)


HOSTILE_NOTE = "<@U123> <!everyone> <http://x|link>"
FORBIDDEN = re.compile(r"<!(?!date\^)|<@U123|<http")


def _every_text_sent(bot: CareBot, answers: list[str]) -> str:
    """Everything the bot sent to Slack: API call arguments, response_url posts, ack bodies."""
    calls = [json.dumps(c.args, ensure_ascii=False) for c in bot.fake.calls()]
    posts = [json.dumps(p, ensure_ascii=False) for p in bot.fake.responses()]
    return "\n".join([*calls, *posts, *answers])


def test_hostile_names_plans_and_notes_ping_nobody_anywhere(care_bot):
    repos = care_bot.repos
    add_subscriber(
        repos,
        "cus_evil",
        "<!channel> Bob",
        "bob@example.com",
        DAY_30,
        plan="<!here>",
        owner="<@U123|boss>",
        cancel_at_period_end=True,
    )
    add_subscriber(repos, "cus_evil2", "<!subteam^S1> Eve", "eve@example.com", DAY_30)
    answers: list[str] = []

    def command(text: str, user: str = "U1") -> dict[str, Any]:
        status, _, body = care_bot.sender.command(text, user_id=user)
        assert status == 200
        answers.append(body)
        return json.loads(body)

    command("digest now")
    care_bot.fake.wait_for(lambda: len(care_bot.fake.calls("chat.postMessage")) == 3)
    bob = tasks_of(repos, "cus_evil")[0].id
    eve = tasks_of(repos, "cus_evil2")[0].id
    care_bot.sender.event(app_home_opened("U1"))
    click(care_bot, ids.ACTION_CLAIM, bob)
    click(care_bot, ids.ACTION_LOG, bob)
    modal = care_bot.fake.wait_for(lambda: care_bot.fake.modals("U1"))[0]
    values = {
        ids.BLOCK_LOG_CHANNEL: {ids.ACTION_LOG_CHANNEL: static_select("call")},
        ids.BLOCK_LOG_OUTCOME: {ids.ACTION_LOG_OUTCOME: static_select("follow_up")},
        ids.BLOCK_LOG_NOTE: {ids.ACTION_LOG_NOTE: text_input(HOSTILE_NOTE)},
        ids.BLOCK_LOG_FOLLOW_UP: {
            ids.ACTION_LOG_FOLLOW_UP: datepicker(str(care_bot.clock.now().date() + timedelta(2)))
        },
    }
    status, _, body = care_bot.sender.submit(ids.VIEW_LOG_OUTREACH, values, view=modal)
    assert status == 200
    answers.append(body)
    # What Slack sends for typed <, > and & in an escaped command: entities.
    typed = HOSTILE_NOTE.replace("<", "&lt;").replace(">", "&gt;")
    command(f"log {eve} email reached {typed}", user="U2")
    command(f"log {eve} pigeon {typed}", user="U2")
    command("lookup bob@example.com")
    command("lookup <!channel>")
    command(f"claim {typed}")
    command(f"{typed}")
    command("mine")
    command("stats 7d")
    parent = care_bot.fake.messages(DIGEST)[0]["ts"]
    care_bot.fake.wait_for(  # parent, two digest replies (two kinds), two outreach replies
        lambda: len(care_bot.fake.thread(DIGEST, parent)) == 5
    )

    sent = _every_text_sent(care_bot, answers)
    assert "&lt;!channel&gt; Bob" in sent and "&lt;!here&gt;" in sent  # shown, escaped
    assert FORBIDDEN.findall(sent) == []
    notes = [o.note for o in repos.outreach.all()]
    assert sorted(notes) == [HOSTILE_NOTE, HOSTILE_NOTE]  # stored as typed, escaped on display


def _gate(monkeypatch: pytest.MonkeyPatch, bot: CareBot) -> threading.Event:
    """Hold the publisher's message edits until the returned event is set."""
    gate = threading.Event()
    real = bot.publisher.refresh

    def held(tasks):  # noqa: ANN001, ANN202
        gate.wait(10)
        return real(tasks)

    monkeypatch.setattr(bot.publisher, "refresh", held)
    return gate


def test_claim_button_is_acked_before_the_message_is_edited(care_bot, monkeypatch):
    task = _lone_task(care_bot)
    updates = len(care_bot.fake.calls("chat.update"))
    gate = _gate(monkeypatch, care_bot)

    status, _, body = click(care_bot, ids.ACTION_CLAIM, task)

    assert (status, body) == (200, "")
    assert len(care_bot.fake.calls("chat.update")) == updates  # the edit waits; the ack did not
    gate.set()
    care_bot.fake.wait_for(lambda: len(care_bot.fake.calls("chat.update")) > updates)


def test_claim_command_answers_before_the_message_is_edited(care_bot, monkeypatch):
    task = _lone_task(care_bot)
    updates = len(care_bot.fake.calls("chat.update"))
    gate = _gate(monkeypatch, care_bot)

    status, _, body = care_bot.sender.command(f"claim {task}")

    assert status == 200 and "You claimed" in json.loads(body)["text"]
    assert len(care_bot.fake.calls("chat.update")) == updates
    gate.set()
    care_bot.fake.wait_for(lambda: len(care_bot.fake.calls("chat.update")) > updates)
