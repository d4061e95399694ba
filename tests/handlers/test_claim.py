"""Claiming from the digest: the Claim button, `/care claim|release|assign|snooze|done`, races.

Every click and command goes to the bot's real /slack/events as Slack sends it; effects are
read back from the fake Slack (message edits, ephemerals) and from the store.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from bot.blocks import ids
from bot.models import TASK_CLAIMED, TASK_DONE, TASK_OPEN, Event
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    MANAGERS,
    MONDAY_MORNING,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    entry_buttons,
    entry_message,
    message_text,
    post_digest,
    tasks_of,
)
from tests.slackreq import block_actions_body, block_actions_payload, interactive_body
from tests.stored import edit_stored


def _digest(bot: CareBot) -> tuple[str, list[str]]:
    """Post a digest of three check-ins and one customer with a check-in and a churn risk.

    Returns:
        A lone check-in's task id, and the two task ids of the customer with both.
    """
    add_checkins(bot.repos, 3)
    add_subscriber(
        bot.repos, "cus_both", "Bo Both", "bo@example.com", DAY_30, cancel_at_period_end=True
    )
    post_digest(bot)
    lone = tasks_of(bot.repos, "cus_000")[0].id
    return lone, [t.id for t in tasks_of(bot.repos, "cus_both")]


def _updated(bot: CareBot, task_id: str, needle: str) -> dict:
    """Wait until the entry's message was edited to contain `needle`; return it."""
    return bot.fake.wait_for(
        lambda: (m := entry_message(bot, task_id)) and needle in message_text(m) and m
    )


def _parent_text(bot: CareBot) -> str:
    return message_text(bot.fake.messages(DIGEST)[0])


def _ephemerals_saying(bot: CareBot, needle: str) -> list[dict]:
    return [e for e in bot.fake.ephemerals() if needle in e.get("text", "")]


def test_claim_button_shows_claimant_and_time_and_swaps_the_buttons(care_bot):
    lone, _ = _digest(care_bot)

    status, _, body = click(care_bot, ids.ACTION_CLAIM, lone, user="U2")

    assert (status, body) == (200, "")
    message = _updated(care_bot, lone, "Claimed by <@U2>")
    task = care_bot.repos.tasks.require(lone)
    assert (task.status, task.claimed_by, task.claimed_at) == (
        TASK_CLAIMED,
        "U2",
        care_bot.clock.now(),
    )
    assert f"<!date^{int(care_bot.clock.now().timestamp())}^" in message_text(message)
    buttons = entry_buttons(message, lone)
    assert [b["text"]["text"] for b in buttons.values()] == ["Log outreach", "Email", "Release"]
    assert care_bot.fake.edits(DIGEST, task.slack["ts"])  # edited in place, not reposted


def test_second_managers_click_is_refused_privately_with_the_claimants_name(care_bot):
    lone, _ = _digest(care_bot)
    click(care_bot, ids.ACTION_CLAIM, lone, user="U1")
    _updated(care_bot, lone, "Claimed by <@U1>")
    stale = care_bot.fake.edits(DIGEST, entry_message(care_bot, lone)["ts"])[0]

    # Bob still sees the old message with its Claim button, and clicks it.
    status, _, body = care_bot.sender.action(
        ids.ACTION_CLAIM,
        entry_buttons(stale, lone)[ids.ACTION_CLAIM]["value"],
        user_id="U2",
        channel_id=DIGEST,
        message=stale,
    )

    assert (status, body) == (200, "")
    refusal = care_bot.fake.wait_for(lambda: care_bot.fake.ephemerals("U2"))
    assert "Already claimed by <@U1>" in refusal[0]["text"]
    assert refusal[0]["channel"] == DIGEST
    assert care_bot.repos.tasks.require(lone).claimed_by == "U1"


def test_twenty_simultaneous_claims_make_one_claim_and_nineteen_refusals(care_bot):
    lone, _ = _digest(care_bot)
    message = entry_message(care_bot, lone)
    value = entry_buttons(message, lone)[ids.ACTION_CLAIM]["value"]
    users = MANAGERS[3:23]
    bodies = [
        block_actions_body(
            ids.ACTION_CLAIM,
            value,
            user_id=user,
            channel_id=DIGEST,
            message=message,
            trigger_id=care_bot.fake.issue_trigger_id(user),
            response_url=care_bot.fake.new_response_url(DIGEST, user, message["ts"]),
        )
        for user in users
    ]
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, str]] = []

    def send(body: str) -> None:
        barrier.wait()
        status, _, text = care_bot.sender.post(body)
        answers.append((status, text))

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert answers == [(200, "")] * 20
    refused = care_bot.fake.wait_for(
        lambda: len(r := _ephemerals_saying(care_bot, "Already claimed")) >= 19 and r
    )
    winner = care_bot.repos.tasks.require(lone).claimed_by
    assert winner in users
    assert len(refused) == 19
    assert sorted(e["user"] for e in refused) == sorted(u for u in users if u != winner)
    assert all(f"<@{winner}>" in e["text"] for e in refused)
    _updated(care_bot, lone, f"Claimed by <@{winner}>")


def test_claiming_an_entry_with_two_tasks_claims_both(care_bot):
    _, both = _digest(care_bot)

    click(care_bot, ids.ACTION_CLAIM, both[0], user="U3")

    _updated(care_bot, both[0], "Claimed by <@U3>")
    assert [care_bot.repos.tasks.require(t).claimed_by for t in both] == ["U3", "U3"]


def test_parent_counts_follow_claims_and_closes(care_bot):
    lone, both = _digest(care_bot)
    assert "*0* claimed  ·  *0* done  ·  *5* still open" in _parent_text(care_bot)

    click(care_bot, ids.ACTION_CLAIM, both[1], user="U1")
    care_bot.fake.wait_for(
        lambda: "*2* claimed  ·  *0* done  ·  *3* still open" in _parent_text(care_bot)
    )
    status, _, body = care_bot.sender.command(f"done {lone}", user_id="U2")
    assert status == 200, body
    care_bot.fake.wait_for(
        lambda: "*2* claimed  ·  *1* done  ·  *2* still open" in _parent_text(care_bot)
    )


def _command(bot: CareBot, text: str, user: str = "U1") -> dict:
    status, headers, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return answer


def test_claim_command_claims_the_whole_entry_and_edits_its_message(care_bot):
    _, both = _digest(care_bot)

    answer = _command(care_bot, f"claim {both[1].upper()}", user="U2")

    assert "You claimed" in answer["text"] and "Bo Both" in answer["text"]
    _updated(care_bot, both[0], "Claimed by <@U2>")
    assert {care_bot.repos.tasks.require(t).claimed_by for t in both} == {"U2"}
    again = _command(care_bot, f"claim {both[0]}", user="U3")
    assert "Already claimed by <@U2>" in again["text"]


def test_release_command_reopens_the_entry_with_its_claim_button(care_bot):
    lone, _ = _digest(care_bot)
    _command(care_bot, f"claim {lone}")
    _updated(care_bot, lone, "Claimed by <@U1>")

    refused = _command(care_bot, f"release {lone}", user="U2")
    assert "claimed by <@U1>" in refused["text"]

    answer = _command(care_bot, f"release {lone}")

    assert "Released" in answer["text"]
    # Wait for this entry's Claim button: "Unclaimed" alone may be another entry's line.
    message = care_bot.fake.wait_for(
        lambda: (
            (m := entry_message(care_bot, lone))
            and ids.ACTION_CLAIM in entry_buttons(m, lone)
            and m
        )
    )
    assert "Unclaimed" in message_text(message)
    task = care_bot.repos.tasks.require(lone)
    assert (task.status, task.claimed_by) == (TASK_OPEN, "")


def test_assign_command_claims_for_the_mentioned_manager(care_bot):
    lone, _ = _digest(care_bot)

    answer = _command(care_bot, f"assign {lone} <@U3|carol>")

    assert "to <@U3>" in answer["text"]
    _updated(care_bot, lone, "Claimed by <@U3>")
    assert care_bot.repos.tasks.require(lone).claimed_by == "U3"
    usage = _command(care_bot, f"assign {lone} carol")
    assert "Usage" in usage["text"]


def test_snooze_command_hides_the_task_for_the_given_days(care_bot):
    lone, _ = _digest(care_bot)

    answer = _command(care_bot, f"snooze {lone} 3")

    assert "Snoozed" in answer["text"]
    assert care_bot.repos.tasks.require(lone).snoozed_until == TODAY + timedelta(days=3)
    _updated(care_bot, lone, ":zzz: Snoozed until")
    too_long = _command(care_bot, f"snooze {lone} 90")
    assert "1 to 30 days" in too_long["text"]


def test_snooze_select_in_the_digest_snoozes_privately(care_bot):
    lone, _ = _digest(care_bot)
    message = entry_message(care_bot, lone)
    select = entry_buttons(message, lone)[ids.ACTION_SNOOZE]
    option = select["options"][1]  # 3 days

    payload = block_actions_payload(
        ids.ACTION_SNOOZE,
        user_id="U1",
        channel_id=DIGEST,
        message=message,
        trigger_id=care_bot.fake.issue_trigger_id("U1"),
    )
    payload["actions"][0]["selected_option"] = option
    status, _, text = care_bot.sender.post(interactive_body(payload))

    assert (status, text) == (200, "")
    care_bot.fake.wait_for(lambda: _ephemerals_saying(care_bot, "Snoozed"))
    assert care_bot.repos.tasks.require(lone).snoozed_until == TODAY + timedelta(days=3)


def test_done_command_closes_the_task_and_its_buttons_go(care_bot):
    lone, _ = _digest(care_bot)

    answer = _command(care_bot, f"done {lone}", user="U2")

    assert "Closed" in answer["text"]
    task = care_bot.repos.tasks.require(lone)
    assert (task.status, task.closed_by) == (TASK_DONE, "U2")
    message = _updated(care_bot, lone, ":white_check_mark:")
    assert entry_buttons(message, lone) == {}
    again = _command(care_bot, f"claim {lone}")
    assert "already done" in again["text"]


def test_unknown_task_id_is_explained(care_bot):
    _digest(care_bot)

    answer = _command(care_bot, "claim zzzzz")

    assert "No task 'zzzzz'" in answer["text"] and "/care mine" in answer["text"]


def test_simultaneous_claims_of_different_entries_in_one_message_all_show(care_bot):
    add_checkins(care_bot.repos, 5)  # one thread reply with five entries
    post_digest(care_bot)
    tasks = [tasks_of(care_bot.repos, f"cus_{i:03d}")[0].id for i in range(5)]
    message = entry_message(care_bot, tasks[0])
    users = MANAGERS[3:8]
    bodies = [
        block_actions_body(
            ids.ACTION_CLAIM,
            entry_buttons(message, task)[ids.ACTION_CLAIM]["value"],
            user_id=user,
            channel_id=DIGEST,
            message=message,
            trigger_id=care_bot.fake.issue_trigger_id(user),
        )
        for task, user in zip(tasks, users, strict=True)
    ]
    barrier = threading.Barrier(len(bodies))

    def send(body: str) -> None:
        barrier.wait()
        care_bot.sender.post(body)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    care_bot.fake.wait_for(  # claims run after the ack
        lambda: [care_bot.repos.tasks.require(t).claimed_by for t in tasks] == users
    )
    # Whatever order the edits land in, the last one shows every claim.
    care_bot.fake.wait_for(
        lambda: all(
            f"Claimed by <@{u}>" in message_text(entry_message(care_bot, tasks[0])) for u in users
        )
    )
    care_bot.fake.wait_for(lambda: "*5* claimed" in _parent_text(care_bot))


def test_assigning_to_someone_who_is_not_a_manager_is_refused(care_bot):
    lone, _ = _digest(care_bot)

    answer = _command(care_bot, f"assign {lone} <@U9|olly>")

    assert "<@U9> is not one of the care team's managers" in answer["text"]
    assert care_bot.repos.tasks.require(lone).status == TASK_OPEN


def test_claim_click_on_an_entry_closed_meanwhile_says_so_privately(care_bot):
    lone, _ = _digest(care_bot)
    stale = entry_message(care_bot, lone)
    _command(care_bot, f"done {lone}", user="U2")

    care_bot.sender.action(
        ids.ACTION_CLAIM,
        entry_buttons(stale, lone)[ids.ACTION_CLAIM]["value"],
        user_id="U1",
        channel_id=DIGEST,
        message=stale,
    )

    note = care_bot.fake.wait_for(lambda: care_bot.fake.ephemerals("U1"))[0]
    assert f"Task {lone} is already done by <@U2>" in note["text"]


def _beside_damage(bots, folder: str, record_id: str, **damage: object) -> tuple[CareBot, str]:  # noqa: ANN001
    """Customers 000 and 001 in one digest message, then `record_id` damaged in its file (the
    bot stopped and started again); 001's task is claimed by U2 first when `claimed`."""
    bot = bots()
    add_checkins(bot.repos, 2)
    order = Event("ev_old", "cus_001", "order", MONDAY_MORNING - timedelta(days=3), source="csv")
    bot.repos.events.add(order)
    post_digest(bot)
    first, second = (tasks_of(bot.repos, sid)[0] for sid in ("cus_000", "cus_001"))
    assert first.slack["ts"] == second.slack["ts"]  # one digest message shows both
    assert bot.sender.command(f"claim {second.id}", user_id="U2")[0] == 200
    bot.stop()
    edit_stored(bot.data_dir, folder, record_id.replace("{task}", second.id), **damage)
    return bots(clock=bot.clock, data_dir=bot.data_dir), first.id


def test_a_stored_event_in_year_1_stops_neither_the_digest_edits_nor_the_lookup(bots):
    bot, first = _beside_damage(bots, "events", "ev_old", at="0001-01-01T00:00:00Z")

    assert click(bot, ids.ACTION_CLAIM, first)[0] == 200
    bot.fake.wait_for(lambda: "Claimed by <@U1>" in message_text(entry_message(bot, first)))
    status, _, card = bot.sender.command("lookup c001@example.com", user_id="U1")
    assert status == 200 and "Customer 001" in card


def test_an_entry_the_digest_message_cannot_show_is_named_and_the_others_still_change(bots):
    year_1 = "0001-01-01T00:00:00Z"  # a hand edit of the claim's time
    bot, first = _beside_damage(bots, "tasks", "{task}", claimed_at=year_1)
    second = tasks_of(bot.repos, "cus_001")[0].id

    assert click(bot, ids.ACTION_CLAIM, first)[0] == 200
    bot.fake.wait_for(lambda: "Claimed by <@U1>" in message_text(entry_message(bot, first)))
    shown = message_text(entry_message(bot, first))
    assert f"1 entry could not be shown (id `{second}`): see the bot's log" in shown
