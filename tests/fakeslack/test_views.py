"""The fake's modals, Home tab, trigger ids and response URLs, driven by the real slack_sdk clients."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.fakeslack import FakeSlack


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def modal(title: str = "Log outreach", **extra) -> dict:
    return {
        "type": "modal",
        "callback_id": "log_outreach",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "note"},
            }
        ],
        **extra,
    }


def home(text: str = "Your tasks") -> dict:
    return {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def slack_error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


# -- trigger ids and modals -----------------------------------------------------------------


def test_views_open_with_an_issued_trigger_opens_a_modal_for_that_user(fake_slack, client):
    trigger = fake_slack.issue_trigger_id("U2")
    view = client.views_open(trigger_id=trigger, view=modal(private_metadata="T12"))["view"]

    assert view["id"].startswith("V") and view["callback_id"] == "log_outreach"
    assert view["state"] == {"values": {}}
    assert [m["id"] for m in fake_slack.modals("U2")] == [view["id"]]
    assert fake_slack.views[view["id"]]["private_metadata"] == "T12"


def test_a_used_trigger_id_is_refused(fake_slack, client):
    trigger = fake_slack.issue_trigger_id("U1")
    client.views_open(trigger_id=trigger, view=modal())

    data = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal()))
    assert data["error"] == "exchanged_trigger_id"
    assert "already used" in fake_slack.take_violations()[0]


def test_a_trigger_id_older_than_three_seconds_is_expired(fake_slack, client):
    trigger = fake_slack.issue_trigger_id("U1")
    real_now = fake_slack.ws.now
    fake_slack.ws.now = lambda: real_now() + 3.5

    data = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal()))
    assert data["error"] == "expired_trigger_id"
    assert "3.5s old" in fake_slack.take_violations()[0]


def test_a_trigger_id_the_fake_never_issued_is_invalid(fake_slack, client):
    data = slack_error(lambda: client.views_open(trigger_id="123.456.made-up", view=modal()))
    assert data["error"] == "invalid_trigger_id"
    assert fake_slack.take_violations()


def test_modal_title_over_24_characters_is_refused(fake_slack, client):
    trigger = fake_slack.issue_trigger_id("U1")
    data = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal("x" * 25)))
    assert data["error"] == "invalid_arguments"
    assert "view.title.text: 25 characters, the limit is 24" in fake_slack.take_violations()[0]


def test_modal_with_inputs_and_no_submit_button_is_refused(fake_slack, client):
    view = modal()
    del view["submit"]
    trigger = fake_slack.issue_trigger_id("U1")
    assert slack_error(lambda: client.views_open(trigger_id=trigger, view=view))["error"] == (
        "invalid_arguments"
    )
    assert "submit" in fake_slack.take_violations()[0]


def test_views_push_stacks_modals_and_the_fourth_is_refused(fake_slack, client):
    root = client.views_open(trigger_id=fake_slack.issue_trigger_id("U1"), view=modal())["view"]
    pushed = client.views_push(trigger_id=fake_slack.issue_trigger_id("U1"), view=modal("Two"))
    client.views_push(trigger_id=fake_slack.issue_trigger_id("U1"), view=modal("Three"))

    assert pushed["view"]["previous_view_id"] == root["id"]
    assert pushed["view"]["root_view_id"] == root["id"]
    fourth = slack_error(
        lambda: client.views_push(trigger_id=fake_slack.issue_trigger_id("U1"), view=modal("4"))
    )
    assert fourth["error"] == "push_limit_reached"
    assert len(fake_slack.modals("U1")) == 3


def test_views_update_replaces_a_view_and_a_stale_hash_is_a_conflict(fake_slack, client):
    opened = client.views_open(trigger_id=fake_slack.issue_trigger_id("U1"), view=modal())["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Saved"))

    assert updated["view"]["id"] == opened["id"]
    assert fake_slack.views[opened["id"]]["title"]["text"] == "Saved"
    stale = slack_error(
        lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Again"))
    )
    assert stale["error"] == "hash_conflict"
    missing = slack_error(lambda: client.views_update(view_id="V404", view=modal()))
    assert missing["error"] == "not_found"


def test_views_publish_keeps_one_home_tab_per_user(fake_slack, client):
    client.views_publish(user_id="U1", view=home("Alice's tasks"))
    client.views_publish(user_id="U2", view=home("Bob's tasks"))
    client.views_publish(user_id="U1", view=home("Alice, refreshed"))

    assert fake_slack.home("U1")["blocks"][0]["text"]["text"] == "Alice, refreshed"
    assert fake_slack.home("U2")["blocks"][0]["text"]["text"] == "Bob's tasks"
    assert fake_slack.home("U3") is None


def test_home_tab_allows_100_blocks_and_refuses_101(fake_slack, client):
    block = {"type": "divider"}
    client.views_publish(user_id="U1", view={"type": "home", "blocks": [block] * 100})
    data = slack_error(
        lambda: client.views_publish(user_id="U1", view={"type": "home", "blocks": [block] * 101})
    )
    assert data["error"] == "invalid_arguments"
    assert "101 blocks, the limit in a home is 100" in fake_slack.take_violations()[0]


def test_private_metadata_over_3000_characters_is_refused(fake_slack, client):
    trigger = fake_slack.issue_trigger_id("U1")
    view = modal(private_metadata="m" * 3001)
    assert slack_error(lambda: client.views_open(trigger_id=trigger, view=view))["error"] == (
        "invalid_arguments"
    )
    assert "private_metadata: 3001 characters" in fake_slack.take_violations()[0]


# -- response URLs --------------------------------------------------------------------------


def test_response_url_posts_are_recorded_and_default_to_ephemeral(fake_slack):
    url = fake_slack.new_response_url(channel="C1", user="U2")
    answer = WebhookClient(url).send(text="Only you can see this")

    assert answer.status_code == 200
    assert fake_slack.responses(url) == [{"text": "Only you can see this"}]
    assert [e["text"] for e in fake_slack.ephemerals("U2")] == ["Only you can see this"]
    assert fake_slack.messages("C1") == []


def test_response_url_in_channel_posts_for_everyone(fake_slack):
    url = fake_slack.new_response_url(channel="C1", user="U2")
    WebhookClient(url).send(text="Bob claimed T12", response_type="in_channel")
    assert [m["text"] for m in fake_slack.messages("C1")] == ["Bob claimed T12"]


def test_response_url_replace_original_edits_the_message_clicked_on(fake_slack, client):
    ts = client.chat_postMessage(channel="C0DIGEST", text="open task")["ts"]
    url = fake_slack.new_response_url(channel="C0DIGEST", user="U1", message_ts=ts)
    WebhookClient(url).send(text="claimed by Alice", replace_original=True)

    assert fake_slack.message("C0DIGEST", ts)["text"] == "claimed by Alice"
    assert [m["text"] for m in fake_slack.edits("C0DIGEST", ts)] == ["open task"]


def test_response_url_delete_original_removes_the_message(fake_slack, client):
    ts = client.chat_postMessage(channel="C0DIGEST", text="to go")["ts"]
    url = fake_slack.new_response_url(channel="C0DIGEST", user="U1", message_ts=ts)
    WebhookClient(url).send_dict({"delete_original": True})
    assert fake_slack.message("C0DIGEST", ts) is None


def test_response_url_takes_five_posts_and_refuses_the_sixth(fake_slack):
    url = fake_slack.new_response_url()
    webhook = WebhookClient(url)
    statuses = [webhook.send(text=f"n{i}").status_code for i in range(6)]

    assert statuses == [200] * 5 + [404]
    assert "more than 5 posts" in fake_slack.take_violations()[0]


def test_response_url_with_too_many_blocks_is_invalid_blocks(fake_slack):
    url = fake_slack.new_response_url()
    blocks = [{"type": "divider"}] * 51
    answer = WebhookClient(url).send(text="x", blocks=blocks)
    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert "51 blocks" in fake_slack.take_violations()[0]


# -- socket mode url ------------------------------------------------------------------------


def test_apps_connections_open_needs_the_app_token_and_returns_the_socket_url(fake_slack):
    fake_slack.socket_mode_url = "ws://127.0.0.1:1/link/?ticket=t"
    app_client = WebClient(token=fake_slack.app_token, base_url=fake_slack.api_url)
    bot_client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)

    assert app_client.apps_connections_open(app_token=fake_slack.app_token)["url"] == (
        fake_slack.socket_mode_url
    )
    assert slack_error(lambda: bot_client.api_call("apps.connections.open"))["error"] == (
        "invalid_auth"
    )
    assert fake_slack.take_violations()
