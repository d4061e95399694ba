"""The fake Web API, driven by the real slack_sdk WebClient: messages, threads, errors, retries."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from tests.fakeslack import FakeSlack


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {**block, "block_id": block_id} if block_id else block


def slack_error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


# -- messages and threads --------------------------------------------------------------------


def test_posted_messages_get_unique_increasing_ts_and_are_kept_per_channel(fake_slack, client):
    first = client.chat_postMessage(channel="C0DIGEST", text="one")
    second = client.chat_postMessage(channel="C0DIGEST", text="two", blocks=[section("two")])
    client.chat_postMessage(channel="C1", text="elsewhere")

    assert first["channel"] == "C0DIGEST" and first["message"]["text"] == "one"
    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in fake_slack.messages("C0DIGEST")] == ["one", "two"]
    assert fake_slack.message("C0DIGEST", second["ts"])["blocks"] == [section("two")]
    assert len(fake_slack.calls("chat.postMessage")) == 3


def test_channel_can_be_named_by_hash_name(fake_slack, client):
    posted = client.chat_postMessage(channel="#care-digest", text="by name")
    assert posted["channel"] == "C0DIGEST"


def test_thread_replies_count_on_parent_and_a_reply_to_a_reply_joins_the_thread(fake_slack, client):
    parent = client.chat_postMessage(channel="C0DIGEST", text="digest")["ts"]
    reply = client.chat_postMessage(channel="C0DIGEST", text="r1", thread_ts=parent)["ts"]
    client.chat_postMessage(channel="C0DIGEST", text="r2", thread_ts=reply)

    thread = fake_slack.thread("C0DIGEST", parent)
    assert [m["text"] for m in thread] == ["digest", "r1", "r2"]
    assert all(m["thread_ts"] == parent for m in thread)
    assert thread[0]["reply_count"] == 2
    assert [m["text"] for m in fake_slack.messages("C0DIGEST")] == ["digest"]
    replies = client.conversations_replies(channel="C0DIGEST", ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["digest", "r1", "r2"]


def test_reply_to_a_missing_thread_is_refused_as_a_violation(fake_slack, client):
    data = slack_error(
        lambda: client.chat_postMessage(channel="C0DIGEST", text="x", thread_ts="1.000001")
    )
    assert data["error"] == "invalid_arguments"
    assert "thread_ts" in fake_slack.take_violations()[0]


def test_update_edits_in_place_and_keeps_the_earlier_version(fake_slack, client):
    ts = client.chat_postMessage(channel="C0DIGEST", text="open", blocks=[section("open")])["ts"]
    updated = client.chat_update(channel="C0DIGEST", ts=ts, text="claimed by Alice")

    message = fake_slack.message("C0DIGEST", ts)
    assert updated["ts"] == ts and message["text"] == "claimed by Alice"
    assert message["blocks"] == [section("open")], "blocks not given to chat.update are kept"
    assert "edited" in message
    assert [m["text"] for m in fake_slack.edits("C0DIGEST", ts)] == ["open"]
    assert len(fake_slack.messages("C0DIGEST")) == 1


def test_update_of_a_missing_message_is_message_not_found(fake_slack, client):
    data = slack_error(lambda: client.chat_update(channel="C0DIGEST", ts="1.000001", text="x"))
    assert data["error"] == "message_not_found"
    assert fake_slack.violations == []


def test_update_of_a_persons_message_is_cant_update_message(fake_slack, client):
    ts = fake_slack.post_as_user("C1", "U2", "my own words")
    data = slack_error(lambda: client.chat_update(channel="C1", ts=ts, text="rewritten"))
    assert data["error"] == "cant_update_message"
    assert fake_slack.message("C1", ts)["text"] == "my own words"


def test_delete_removes_a_reply_and_lowers_the_parents_reply_count(fake_slack, client):
    parent = client.chat_postMessage(channel="C1", text="p")["ts"]
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=parent)["ts"]
    client.chat_delete(channel="C1", ts=reply)

    assert fake_slack.message("C1", reply) is None
    assert fake_slack.message("C1", parent)["reply_count"] == 0
    assert [m["text"] for _, m in fake_slack.deleted()] == ["r"]


def test_ephemeral_messages_are_kept_per_user(fake_slack, client):
    client.chat_postEphemeral(channel="C1", user="U2", text="only for bob")
    client.chat_postEphemeral(channel="C1", user="U3", text="only for carol")

    assert [e["text"] for e in fake_slack.ephemerals("U2")] == ["only for bob"]
    assert len(fake_slack.ephemerals()) == 2
    assert fake_slack.messages("C1") == []


def test_ephemeral_to_someone_outside_the_channel_is_user_not_in_channel(fake_slack, client):
    fake_slack.add_channel("C9", "private", is_private=True, members=["U1"])
    data = slack_error(lambda: client.chat_postEphemeral(channel="C9", user="U2", text="x"))
    assert data["error"] == "user_not_in_channel"


def test_permalink_history_users_and_reactions(fake_slack, client):
    ts = client.chat_postMessage(channel="C0DIGEST", text="digest")["ts"]
    link = client.chat_getPermalink(channel="C0DIGEST", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0DIGEST/p{ts.replace('.', '')}")

    client.reactions_add(channel="C0DIGEST", timestamp=ts, name="white_check_mark")
    assert fake_slack.message("C0DIGEST", ts)["reactions"][0]["count"] == 1
    again = slack_error(
        lambda: client.reactions_add(channel="C0DIGEST", timestamp=ts, name="white_check_mark")
    )
    assert again["error"] == "already_reacted"

    assert client.users_info(user="U1")["user"]["profile"]["email"] == "alice@example.com"
    assert slack_error(lambda: client.users_info(user="U404"))["error"] == "user_not_found"
    assert client.conversations_info(channel="C0DIGEST")["channel"]["name"] == "care-digest"


def test_history_is_newest_first_and_pages_with_a_cursor(fake_slack, client):
    for n in range(5):
        client.chat_postMessage(channel="C1", text=f"m{n}")
    page1 = client.conversations_history(channel="C1", limit=3)
    page2 = client.conversations_history(
        channel="C1", limit=3, cursor=page1["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in page1["messages"]] == ["m4", "m3", "m2"]
    assert page1["has_more"] is True
    assert [m["text"] for m in page2["messages"]] == ["m1", "m0"]
    assert page2["has_more"] is False


def test_text_over_40000_characters_is_truncated_as_slack_does(fake_slack, client):
    ts = client.chat_postMessage(channel="C1", text="x" * 40_010)["ts"]
    assert len(fake_slack.message("C1", ts)["text"]) == 40_000


# -- the contract ---------------------------------------------------------------------------


def test_missing_required_argument_is_refused_with_the_methods_own_error(fake_slack, client):
    no_ts = slack_error(lambda: client.api_call("chat.update", json={"channel": "C1", "text": "x"}))
    no_channel = slack_error(lambda: client.api_call("chat.postMessage", json={"text": "x"}))
    no_user = slack_error(
        lambda: client.api_call("views.publish", json={"view": {"type": "home", "blocks": []}})
    )

    assert no_ts["error"] == "message_not_found"
    assert no_channel["error"] == "channel_not_found"
    assert no_user["error"] == "invalid_arguments"
    violations = fake_slack.take_violations()
    assert len(violations) == 3
    assert "'ts' is missing" in violations[0] and "'channel' is missing" in violations[1]


def test_message_without_text_or_blocks_is_no_text(fake_slack, client):
    data = slack_error(lambda: client.api_call("chat.postMessage", json={"channel": "C1"}))
    assert data["error"] == "no_text"
    assert fake_slack.take_violations()


def test_unknown_method_and_undocumented_argument_are_violations(fake_slack, client):
    assert slack_error(lambda: client.api_call("chat.postMessages"))["error"] == "unknown_method"
    client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "thread_id": "1"})

    violations = fake_slack.take_violations()
    assert "chat.postMessages: unknown_method" in violations[0]
    assert "thread_id" in violations[1]


def test_missing_token_is_not_authed_and_wrong_token_is_invalid_auth(fake_slack):
    anonymous = WebClient(base_url=fake_slack.api_url)
    impostor = WebClient(token="xoxb-wrong", base_url=fake_slack.api_url)

    assert slack_error(anonymous.auth_test)["error"] == "not_authed"
    assert slack_error(impostor.auth_test)["error"] == "invalid_auth"
    assert len(fake_slack.take_violations()) == 2


def test_form_and_query_string_bodies_are_read_like_json_ones(fake_slack):
    ts = fake_slack.post_as_user("C1", "U1", "hello")
    host, port = fake_slack.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request(
        "GET",
        f"/api/conversations.replies?channel=C1&ts={ts}&token={fake_slack.bot_token}",
    )
    answer = json.loads(conn.getresponse().read())
    conn.close()
    assert answer["ok"] is True and answer["messages"][0]["text"] == "hello"


# -- failures and retries -------------------------------------------------------------------


def test_injected_error_is_answered_once_then_calls_succeed(fake_slack, client):
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    assert slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))["error"] == (
        "channel_not_found"
    )
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True
    assert fake_slack.violations == [], "an injected failure is not the bot's fault"


def test_fail_next_refuses_an_error_slack_never_gives_for_that_method(fake_slack):
    with pytest.raises(ValueError, match="never answers auth.test with 'channel_not_found'"):
        fake_slack.fail_next("auth.test", error="channel_not_found")


def test_429_with_retry_after_is_waited_out_by_the_rate_limit_retry_handler(fake_slack):
    client = WebClient(
        token=fake_slack.bot_token,
        base_url=fake_slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)

    assert client.chat_postMessage(channel="C1", text="after the wait")["ok"] is True
    calls = fake_slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0, "the client did not wait Retry-After"
    assert len(fake_slack.messages("C1")) == 1


def test_500_is_retried_by_the_server_error_retry_handler(fake_slack):
    client = WebClient(
        token=fake_slack.bot_token,
        base_url=fake_slack.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    fake_slack.fail_next("chat.update", status=500, times=2)
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]

    assert client.chat_update(channel="C1", ts=ts, text="v2")["ok"] is True
    assert [c.status for c in fake_slack.calls("chat.update")] == [500, 500, 200]


def test_500_without_a_retry_handler_reaches_the_caller(fake_slack, client):
    fake_slack.fail_next("chat.postMessage", status=503)
    data = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert data == {"ok": False, "error": "internal_error"}


def test_after_store_failure_keeps_the_message_and_answers_500(fake_slack, client):
    fake_slack.fail_next("chat.postMessage", status=500, after_store=True, times=2)
    for text in ("stored anyway", "and again"):
        data = slack_error(lambda text=text: client.chat_postMessage(channel="C1", text=text))
        assert data == {"ok": False, "error": "internal_error"}

    assert [m["text"] for m in fake_slack.messages("C1")] == ["stored anyway", "and again"]
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [500, 500]


def test_dropped_connection_is_retried_by_the_connection_error_handler(fake_slack):
    client = WebClient(
        token=fake_slack.bot_token,
        base_url=fake_slack.api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
        ],
    )
    fake_slack.fail_next("auth.test", disconnect=True)
    assert client.auth_test()["ok"] is True
    assert [c.error for c in fake_slack.calls("auth.test")] == ["disconnected", None]


def test_enforced_rate_limit_answers_429_past_a_burst_per_channel():
    with FakeSlack(enforce_rate_limit=True, rate_limit_burst=2) as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        client.chat_postMessage(channel="C1", text="1")
        client.chat_postMessage(channel="C1", text="2")
        limited = slack_error(lambda: client.chat_postMessage(channel="C1", text="3"))
        other_channel = client.chat_postMessage(channel="C0DIGEST", text="elsewhere")

        assert limited["error"] == "ratelimited"
        assert fake.calls("chat.postMessage")[2].status == 429
        assert other_channel["ok"] is True
        assert [m["text"] for m in fake.messages("C1")] == ["1", "2"]


def test_wait_for_returns_the_first_truthy_value_or_fails_after_the_timeout(fake_slack, client):
    client.chat_postMessage(channel="C1", text="there")
    assert fake_slack.wait_for(lambda: fake_slack.messages("C1"), timeout=1)[0]["text"] == "there"
    started = time.monotonic()
    with pytest.raises(AssertionError, match="nothing after 0.2s"):
        fake_slack.wait_for(lambda: fake_slack.messages("C0TRIAGE"), timeout=0.2)
    assert time.monotonic() - started >= 0.2


def test_twenty_simultaneous_calls_are_all_answered(fake_slack, client):
    ts = client.chat_postMessage(channel="C0DIGEST", text="task")["ts"]
    for n in range(4, 21):
        fake_slack.add_user(f"U{n}")
    users = ["U1", "U2", "U3"] + [f"U{n}" for n in range(4, 21)]
    barrier = threading.Barrier(len(users))

    def click(user: str) -> bool:
        barrier.wait()
        client.chat_postEphemeral(channel="C0DIGEST", user=user, text="taken")
        return client.chat_update(channel="C0DIGEST", ts=ts, text=f"claimed by {user}")["ok"]

    with ThreadPoolExecutor(len(users)) as pool:
        results = list(pool.map(click, users))

    assert results == [True] * 20
    assert len(fake_slack.ephemerals()) == 20
    assert len(fake_slack.edits("C0DIGEST", ts)) == 20
