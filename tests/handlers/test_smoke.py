import urllib.request
from datetime import date

from tests.handlers.conftest import add_subscriber


def test_healthz_answers_200(care_bot):
    with urllib.request.urlopen(f"{care_bot.url}/healthz", timeout=5) as resp:
        assert resp.status == 200


def test_digest_now_posts_parent_and_thread(care_bot):
    add_subscriber(care_bot.repos, "cus_1", "Ada <!channel>", "ada@example.com", date(2026, 5, 16))
    status, _, text = care_bot.sender.command("digest now", user_id="U1", channel_id="C1")
    assert status == 200, text
    fake = care_bot.fake
    assert fake.wait_for(
        lambda: (
            care_bot.repos.digests.get(date(2026, 6, 15))
            and care_bot.repos.digests.get(date(2026, 6, 15)).status == "posted"
        ),
        timeout=10,
    )
    msgs = fake.messages("C0DIGEST")
    print(msgs)
