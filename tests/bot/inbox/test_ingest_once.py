"""Write-ahead records and parking: a failed write or a bad email never posts twice or blocks."""

from __future__ import annotations

import pytest

from bot.inbox.ingest import PARKED, Ingestor
from tests.bot.inbox.mail import RecordingPoster, SlackDown, make_email


@pytest.fixture
def poster():
    return RecordingPoster()


class Flaky:
    """A churn refresh that fails `times` times (a bug in the engine, not Slack)."""

    def __init__(self, times: int) -> None:
        self.times = times

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        if self.times:
            self.times -= 1
            raise RuntimeError("engine bug")
        return None


@pytest.fixture
def subscriber(repos):
    from bot.models import Subscriber

    repos.subscribers.put(Subscriber(id="cus_ann", email="ann@example.com", name="Ann"))


def test_an_email_failing_for_another_reason_is_parked_after_max_attempts(
    repos, settings, clock, poster, subscriber
):
    ingestor = Ingestor(repos, settings, clock, poster, refresh_churn=Flaky(99), max_attempts=3)
    raw = make_email(subject="Please cancel", body="Cancel my subscription.")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            ingestor.ingest(raw, "imap:h/INBOX", uid=7)
    parked = ingestor.ingest(raw, "imap:h/INBOX", uid=7)

    assert parked.status == PARKED and poster.posts == []
    [letter] = repos.inbox.dead.all()
    assert (letter.id, letter.attempts, letter.uid) == (parked.item_id, 3, 7)
    assert "engine bug" in letter.error and letter.subject == "Please cancel"
    assert repos.inbox.dead.raw(letter) == raw
    assert ingestor.ingest(raw, "webhook").status == PARKED  # not run again by itself
    assert ingestor.ingest(make_email(subject="Next"), "webhook").status == "posted"


def test_retrying_a_parked_email_posts_it_and_empties_the_list(
    repos, settings, clock, poster, subscriber
):
    flaky = Flaky(4)
    ingestor = Ingestor(repos, settings, clock, poster, refresh_churn=flaky, max_attempts=3)
    raw = make_email(subject="Please cancel", body="Cancel my subscription.")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            ingestor.ingest(raw, "webhook")
    letter_id = ingestor.ingest(raw, "webhook").item_id

    assert ingestor.retry_parked(letter_id).status == PARKED  # fails again: stays parked
    assert repos.inbox.dead.count() == 1
    assert ingestor.retry_parked(letter_id).status == "posted"
    assert repos.inbox.dead.count() == 0 and len(poster.posts) == 1


def test_slack_outages_are_never_counted_towards_parking(repos, settings, clock, poster):
    ingestor = Ingestor(repos, settings, clock, poster, max_attempts=2)
    raw = make_email(subject="Hello")
    poster.fail_next = 5

    for _ in range(5):
        with pytest.raises(SlackDown):
            ingestor.ingest(raw, "webhook")

    assert repos.inbox.dead.count() == 0
    assert ingestor.ingest(raw, "webhook").status == "posted"
