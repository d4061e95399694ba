"""Roles through Slack: who may claim, release, assign and snooze own, others' and free tasks.

Every case is sent as Slack sends it (a signed `/care` command, or a click on the digest's
buttons) to the running bot with `CARE_LEADS=U3`; the test checks the task afterwards, the
refusal's words and the audit entry the action left (or did not).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from bot.blocks import ids
from bot.models import TASK_CLAIMED, TASK_OPEN, Task
from tests.handlers.conftest import (
    DIGEST,
    CareBot,
    add_checkins,
    entry_message,
    post_digest,
    tasks_of,
)
from tests.slackreq import block_actions_payload, interactive_body

LEAD, MANAGER, OUTSIDER, HOLDER, ASSIGNEE = "U3", "U1", "U9", "U2", "UM00"
ROLES = {"lead": LEAD, "manager": MANAGER, "non-manager": OUTSIDER}
STATES = ("own", "other's", "unclaimed")


def expected(role: str, action: str, state: str) -> bool:
    """The rule under test: does `role` get to `action` a task in `state`?"""
    if role == "non-manager":
        return False
    if action == "claim":
        return state == "unclaimed"  # own: nothing to do; other's: one winner, always
    if action == "release":
        return state == "own" or (state == "other's" and role == "lead")
    if action == "assign":
        return state != "other's" or role == "lead"
    return state != "other's"  # snooze


@pytest.fixture
def lead_bot(bots) -> CareBot:
    bot = bots(CARE_LEADS=LEAD)
    bot.fake.add_user(OUTSIDER, "olly")
    return bot


def _prepare(bot: CareBot, actions: list[str]) -> dict[tuple[str, str, str], Task]:
    """One digest task per (role, action, state), claimed as the state says."""
    cases = list(itertools.product(ROLES, actions, STATES))
    add_checkins(bot.repos, len(cases))
    post_digest(bot)
    tasks = {}
    for n, (role, action, state) in enumerate(cases):
        task = tasks_of(bot.repos, f"cus_{n:03d}")[0]
        holder = {"own": ROLES[role], "other's": HOLDER}.get(state)
        if holder:

            def claim(t: Task, who: str = holder) -> None:
                t.status, t.claimed_by, t.claimed_at = TASK_CLAIMED, who, bot.clock.now()

            bot.repos.tasks.mutate(task.id, claim)
        tasks[(role, action, state)] = bot.repos.tasks.require(task.id)
    return tasks


def _changed(action: str, before: Task, after: Task, actor: str) -> bool:
    if action == "claim":
        return before.status == TASK_OPEN and after.claimed_by == actor
    if action == "release":
        return after.status == TASK_OPEN and before.status == TASK_CLAIMED
    if action == "assign":
        return after.claimed_by == ASSIGNEE
    return after.snoozed_until is not None and before.snoozed_until is None


def _check(
    bot: CareBot, case: tuple[str, str, str], before: Task, answer: str, surface: str
) -> None:
    role, action, state = case
    actor = ROLES[role]
    after = bot.repos.tasks.require(before.id)
    trail = bot.repos.audit.for_task(before.id, before.subscriber_id)
    if expected(role, action, state):
        assert _changed(action, before, after, actor), (case, after)
        assert [(e.action, e.by, e.surface) for e in trail] == [(action, actor, surface)], case
        if action in ("release", "assign") and state == "other's":
            assert trail[0].holder == HOLDER, case
        return
    assert (after.status, after.claimed_by, after.snoozed_until) == (
        before.status,
        before.claimed_by,
        before.snoozed_until,
    ), case
    assert trail == [], case
    if role == "non-manager":
        assert "Only care managers can" in answer, (case, answer)
    elif state == "other's":
        assert f"<@{HOLDER}>" in answer and "&lt;" not in answer, (case, answer)
        if action in ("release", "assign"):
            assert "care lead" in answer, (case, answer)
    elif action == "claim":
        assert "already have it" in answer, (case, answer)
    else:
        assert "not claimed" in answer, (case, answer)


def test_permissions_matrix_through_signed_slash_commands(lead_bot):
    bot = lead_bot
    tasks = _prepare(bot, ["claim", "release", "assign", "snooze"])
    for case, task in tasks.items():
        role, action, _ = case
        extra = {"assign": f" <@{ASSIGNEE}|um>", "snooze": " 3"}.get(action, "")
        status, _, body = bot.sender.command(
            f"{action} {task.id}{extra}", user_id=ROLES[role], channel_id="C1"
        )
        assert status == 200, body
        _check(bot, case, task, json.loads(body)["text"], "command")


def _click(bot: CareBot, action: str, task: Task, user: str) -> None:
    message = entry_message(bot, task.id)
    action_id = {"claim": ids.ACTION_CLAIM, "release": ids.ACTION_RELEASE}.get(
        action, ids.ACTION_SNOOZE
    )
    value = ids.encode_ids([task.id])
    payload: dict[str, Any] = block_actions_payload(
        action_id,
        value,
        user_id=user,
        channel_id=DIGEST,
        message=message,
        trigger_id=bot.fake.issue_trigger_id(user),
    )
    if action == "snooze":
        payload["actions"][0].pop("value", None)
        payload["actions"][0]["selected_option"] = {
            "text": {"type": "plain_text", "text": "3 days"},
            "value": ids.encode_choice(3, [task.id]),
        }
    status, _, text = bot.sender.post(interactive_body(payload))
    assert (status, text) == (200, "")


def test_permissions_matrix_through_digest_button_clicks(lead_bot):
    bot = lead_bot
    tasks = _prepare(bot, ["claim", "release", "snooze"])
    for case, task in tasks.items():
        role, action, state = case
        user = ROLES[role]
        told = len(bot.fake.ephemerals(user))
        _click(bot, action, task, user)
        if expected(role, action, state):
            bot.fake.wait_for(
                lambda t=task: bot.repos.audit.for_task(t.id, t.subscriber_id), timeout=5
            )
            if action == "snooze":  # says until when, privately
                bot.fake.wait_for(lambda u=user, n=told: bot.fake.ephemerals(u)[n:], timeout=5)
            answer = ""
        else:
            notes = bot.fake.wait_for(lambda u=user, n=told: bot.fake.ephemerals(u)[n:], timeout=5)
            answer = notes[0]["text"]
        _check(bot, case, task, answer, "button")
