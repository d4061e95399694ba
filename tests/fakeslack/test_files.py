"""The fake's file uploads, driven by slack_sdk's own files_upload_v2 (three calls)."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakeslack.contract import load_full_contract
from tests.fakeslack.server import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url)


def test_files_upload_v2_uploads_and_shares_in_a_thread(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    parent = web.chat_postMessage(channel="C0DIGEST", text="Weekly report")["ts"]
    done = web.files_upload_v2(
        channel="C0DIGEST", thread_ts=parent, file_uploads=[
            {"content": PNG, "filename": "churn.png", "title": "Churn per week", "alt_txt": "chart"},
            {"content": PNG + b"1", "filename": "nps.png", "title": "NPS"},
        ],
    )  # fmt: skip
    assert [f["title"] for f in done["files"]] == ["Churn per week", "NPS"]
    assert [c.method for c in fake_slack.calls()][1:] == [
        "files.getUploadURLExternal", "files.getUploadURLExternal", "files.completeUploadExternal",
    ]  # fmt: skip
    first, second = fake_slack.uploaded()
    assert (first.data, first.filename, first.alt_txt) == (PNG, "churn.png", "chart")
    assert second.data == PNG + b"1"
    (reply,) = fake_slack.thread("C0DIGEST", parent)[1:]
    assert [f["title"] for f in reply["files"]] == ["Churn per week", "NPS"]


def test_sharing_into_a_channel_the_bot_cannot_use_is_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        client(fake_slack).files_upload_v2(channel="C0NOWHERE", content=PNG, filename="x.png")
    assert err.value.response["error"] == "invalid_channel"


def test_a_file_completed_without_its_upload_is_not_found(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    ticket = web.files_getUploadURLExternal(filename="x.png", length=len(PNG))
    with pytest.raises(SlackApiError) as err:
        web.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "x"}])
    assert err.value.response["error"] == "file_not_found"


def test_a_zero_length_upload_breaks_the_contract(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        client(fake_slack).files_getUploadURLExternal(filename="x.png", length=0)
    assert err.value.response["error"] == "missing_argument"
    assert fake_slack.take_violations()


def test_the_upload_methods_come_from_slacks_descriptions() -> None:
    contract = load_full_contract()
    assert contract["files.getUploadURLExternal"].required == ("filename", "length")
    assert contract["files.completeUploadExternal"].allows("file_not_found")
    assert "chat.postMessage" in contract
