"""The IMAP connector against a real Dovecot; the recording poster stands in for Slack."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.inbox.imap import HANDLED_FLAG, ImapConnector
from bot.inbox.ingest import Ingestor
from bot.repos import Repos
from config.settings import ImapSettings
from tests.bot.inbox.mail import SlackDown, make_email
from tests.inbox_server import USERS, free_port

pytestmark = pytest.mark.imap


@pytest.fixture
def repos(file_store):
    """IMAP tests keep their progress on real JSON files, as the bot does."""
    return Repos.open(file_store)


@pytest.fixture
def clock():
    """Dovecot stamps appended mail with the real time, so the connector's clock starts there."""
    return FixedClock(datetime.now(UTC))


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def emails(n: int, prefix: str = "Question") -> list[bytes]:
    return [make_email(subject=f"{prefix} {i}", sender=f"c{i}@example.org") for i in range(n)]


def test_new_messages_are_posted_once_in_uid_order_flagged_and_left_unread(
    dovecot, make_connector, poster, repos
):
    uids = [dovecot.append(raw) for raw in emails(3)]
    connector = make_connector()

    first = connector.poll_once()
    second = connector.poll_once()

    assert first.status == "ok" and [r.status for r in first.results] == ["posted"] * 3
    assert second.status == "ok" and second.results == ()
    assert poster.subjects == ["Question 0", "Question 1", "Question 2"]
    for uid in uids:
        flags = dovecot.flags(uid)
        assert HANDLED_FLAG in flags and "\\Seen" not in flags
    assert dovecot.uids() == uids  # nothing deleted or expunged
    assert repos.inbox.sync_state(dovecot.host, "care", "INBOX").last_uid == uids[-1]
    status = repos.inbox.connector_status(connector.key)
    assert (status.state, status.connected, status.handled) == ("connected", True, 3)


def test_restart_posts_nothing_twice(dovecot, make_connector, poster):
    for raw in emails(2):
        dovecot.append(raw)
    before = make_connector()
    before.poll_once()
    before.close()

    after = make_connector()
    assert after.poll_once().results == ()
    dovecot.append(make_email(subject="After the restart"))
    assert [r.status for r in after.poll_once().results] == ["posted"]

    assert poster.subjects == ["Question 0", "Question 1", "After the restart"]


def test_message_already_flagged_handled_is_not_fetched(dovecot, make_connector, poster):
    dovecot.append(make_email(subject="Handled long ago"), flags=HANDLED_FLAG)
    dovecot.append(make_email(subject="New"))

    make_connector().poll_once()

    assert poster.subjects == ["New"]


def test_first_sync_leaves_older_mail_alone(dovecot, make_connector, poster, repos, clock):
    now = clock.now()
    dovecot.append(make_email(subject="Last year"), received=now - timedelta(days=365))
    dovecot.append(make_email(subject="Last month"), received=now - timedelta(days=30))
    dovecot.append(make_email(subject="Yesterday"), received=now - timedelta(days=1))

    make_connector().poll_once()
    dovecot.append(
        make_email(subject="Old but new to the folder"), received=now - timedelta(days=30)
    )
    make_connector().poll_once()

    assert poster.subjects == ["Yesterday"]
    state = repos.inbox.sync_state(dovecot.host, "care", "INBOX")
    assert state.since == now.date() - timedelta(days=7)


def test_dropped_connection_reconnects_and_continues(dovecot, make_connector, poster):
    dovecot.append(make_email(subject="Before the drop"))
    connector = make_connector()
    connector.poll_once()

    connector._conn.shutdown()  # the network drops the connection under the connector
    dovecot.append(make_email(subject="After the drop"))
    result = connector.poll_once()

    assert result.status == "ok"
    assert poster.subjects == ["Before the drop", "After the drop"]


def test_server_outage_backs_off_is_visible_and_recovers(dovecot, make_connector, poster, repos):
    connector = make_connector()
    connector.poll_once()
    dovecot.stop()

    first, second = connector.poll_once(), connector.poll_once()

    assert first.status == second.status == "error"
    status = repos.inbox.connector_status(connector.key)
    assert (status.connected, status.consecutive_failures, status.state) == (False, 2, "retrying")
    assert status.last_error
    assert connector.backoff() == pytest.approx(0.1)  # 0.05 s doubled once

    dovecot.start()
    dovecot.append(make_email(subject="While it was down"))
    recovered = connector.poll_once()

    assert recovered.status == "ok" and poster.subjects == ["While it was down"]
    status = repos.inbox.connector_status(connector.key)
    assert (status.connected, status.consecutive_failures, status.last_error) == (True, 0, "")


def test_crash_between_post_and_mark_does_not_post_twice(dovecot, make_connector, poster, repos):
    uid = dovecot.append(make_email(subject="Cancel please"))
    crashing = make_connector()

    def die_before_store(conn, uid):
        raise RuntimeError("process died before STORE")

    crashing._mark = die_before_store
    assert crashing.poll_once().status == "error"
    assert len(poster.posts) == 1 and HANDLED_FLAG not in dovecot.flags(uid)
    crashing.close()

    restarted = make_connector()
    result = restarted.poll_once()

    assert [r.status for r in result.results] == ["duplicate"]
    assert len(poster.posts) == 1
    assert HANDLED_FLAG in dovecot.flags(uid)
    assert repos.inbox.sync_state(dovecot.host, "care", "INBOX").last_uid == uid


def test_uidvalidity_change_resyncs_without_reposting(
    dovecot, make_connector, poster, repos, imap_settings
):
    dovecot.create_folder("Support")
    support = replace(imap_settings, folder="Support")
    old_mail = emails(2)
    for raw in old_mail:
        dovecot.append(raw, folder="Support")
    connector = make_connector(support)
    connector.poll_once()
    old_validity = dovecot.uidvalidity("Support")

    dovecot.recreate_folder("Support")  # e.g. the host rebuilt the mailbox
    for raw in [*old_mail, make_email(subject="Genuinely new")]:
        dovecot.append(raw, folder="Support")
    result = connector.poll_once()

    assert [r.status for r in result.results] == ["duplicate", "duplicate", "posted"]
    assert poster.subjects == ["Question 0", "Question 1", "Genuinely new"]
    state = repos.inbox.sync_state(dovecot.host, "care", "Support")
    assert state.uidvalidity == dovecot.uidvalidity("Support") != old_validity
    assert state.last_uid == 3


def test_slack_outage_stops_the_poll_at_that_message_and_posts_it_later(
    dovecot, make_connector, poster, repos
):
    uids = [dovecot.append(raw) for raw in emails(2)]
    connector = make_connector()
    poster.fail_next = 1

    failed = connector.poll_once()

    assert failed.status == "error" and "Slack answered 500" in failed.error
    assert poster.posts == []
    assert all(HANDLED_FLAG not in dovecot.flags(uid) for uid in uids)
    assert repos.inbox.sync_state(dovecot.host, "care", "INBOX").last_uid == 0

    retried = connector.poll_once()

    assert [r.status for r in retried.results] == ["posted", "posted"]
    assert poster.subjects == ["Question 0", "Question 1"]


def test_progress_is_written_once_per_poll_and_up_to_a_failure(
    dovecot, make_connector, poster, repos, monkeypatch
):
    uids = [dovecot.append(raw) for raw in emails(5)]
    connector = make_connector()
    saved: list[int] = []
    save = repos.inbox.save_sync
    monkeypatch.setattr(repos.inbox, "save_sync", lambda s: (saved.append(s.last_uid), save(s)))
    fail_third = poster.post_item

    def post_item(item, parsed, context, check_first):  # noqa: ANN001, ANN202
        if parsed.subject == "Question 2" and not check_first:
            raise SlackDown("Slack answered 500")
        return fail_third(item, parsed, context, check_first)

    monkeypatch.setattr(poster, "post_item", post_item)
    failed = connector.poll_once()

    assert failed.status == "error" and poster.subjects == ["Question 0", "Question 1"]
    assert repos.inbox.sync_state(dovecot.host, "care", "INBOX").last_uid == uids[1]
    monkeypatch.setattr(poster, "post_item", fail_third)
    retried = connector.poll_once()

    assert [r.status for r in retried.results] == ["posted"] * 3
    assert repos.inbox.sync_state(dovecot.host, "care", "INBOX").last_uid == uids[-1]
    # the first sync's start, then one write per poll (not one per email: each is a file write)
    assert saved[-2:] == [uids[1], uids[-1]] and len(saved) <= 3


def test_wrong_credentials_stop_the_connector_with_a_clear_message(
    dovecot, make_connector, repos, imap_settings, caplog
):
    connector = make_connector(replace(imap_settings, password="wrong"))

    with caplog.at_level(logging.ERROR, logger="bot.inbox.imap"):
        result = connector.poll_once()

    assert result.status == "stopped"
    expected = "IMAP login for care at 127.0.0.1 failed: check IMAP_USER / IMAP_PASSWORD"
    assert expected in result.error and "app password" in result.error
    assert any(expected in r.getMessage() for r in caplog.records)
    status = repos.inbox.connector_status(connector.key)
    assert status.state == "stopped" and expected in status.last_error
    runner = threading.Thread(target=connector.run, daemon=True)
    runner.start()
    runner.join(timeout=5)
    assert not runner.is_alive()  # run() returns instead of hammering the server


def test_noise_is_counted_not_posted_and_still_flagged(dovecot, make_connector, poster, repos):
    uid = dovecot.append(make_email(subject="Out of Office: Your box", body="Back on Monday"))

    result = make_connector().poll_once()

    assert [r.status for r in result.results] == ["noise"]
    assert poster.posts == []
    assert repos.inbox.noise_counts() == {"auto_reply": 1}
    assert HANDLED_FLAG in dovecot.flags(uid)


def test_run_polls_in_the_background_until_stopped(dovecot, make_connector, poster):
    stop = threading.Event()
    connector = make_connector(stop_event=stop)
    runner = threading.Thread(target=connector.run, daemon=True)
    runner.start()

    dovecot.append(make_email(subject="Picked up by the loop"))
    wait_for(lambda: poster.subjects == ["Picked up by the loop"])
    stop.set()
    runner.join(timeout=5)

    assert not runner.is_alive()


@pytest.mark.parametrize("mode", ["true", "starttls"])
def test_tls_modes_connect_and_verify_the_certificate(
    tls_dovecot, mode, repos, settings, clock, poster
):
    port = tls_dovecot.tls_port if mode == "true" else tls_dovecot.port
    imap = ImapSettings(
        host=tls_dovecot.host, port=port, user="care", password=USERS["care"], ssl=mode
    )
    tls_dovecot.append(make_email(subject=f"Over {mode}"))
    trusting = ssl.create_default_context(cafile=str(tls_dovecot.cert))
    ingestor = Ingestor(repos, settings, clock, poster)

    secure = ImapConnector(imap, ingestor, repos.inbox, clock, timeout=5, ssl_context=trusting)
    untrusted = ImapConnector(imap, ingestor, repos.inbox, clock, timeout=5)
    try:
        assert untrusted.poll_once().status == "error"  # a certificate nobody vouches for
        assert "CERTIFICATE_VERIFY_FAILED" in repos.inbox.connector_status(untrusted.key).last_error
        assert secure.poll_once().status == "ok"
    finally:
        secure.close()
        untrusted.close()

    assert poster.subjects == [f"Over {mode}"]


def test_missing_folder_is_retried_with_a_message_naming_imap_folder(
    dovecot, make_connector, imap_settings
):
    connector = make_connector(replace(imap_settings, folder="Does Not Exist"))

    result = connector.poll_once()

    assert result.status == "error" and "check IMAP_FOLDER" in result.error
    assert not connector.stopped


def test_unreachable_server_is_retried_not_stopped(repos, settings, clock, poster):
    imap = ImapSettings(host="127.0.0.1", port=free_port(), user="care", password="x", ssl="false")
    connector = ImapConnector(
        imap, Ingestor(repos, settings, clock, poster), repos.inbox, clock, timeout=2
    )

    result = connector.poll_once()

    assert result.status == "error" and not connector.stopped
    assert repos.inbox.connector_status(connector.key).consecutive_failures == 1


def test_backoff_doubles_from_five_seconds_up_to_five_minutes(repos, settings, clock, poster):
    imap = ImapSettings(host="imap.example.com", user="care")
    connector = ImapConnector(imap, Ingestor(repos, settings, clock, poster), repos.inbox, clock)
    waits = []
    for failures in (1, 2, 3, 6, 7, 50):
        connector.status.consecutive_failures = failures
        waits.append(connector.backoff())

    assert waits == [5, 10, 20, 160, 300, 300]
