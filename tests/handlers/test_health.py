"""`GET /healthz` on the running bot tells the truth: 200 when all is fine, 503 with what is not."""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.handlers.conftest import CareBot, post_digest
from tests.inbox_server import USERS


def health(bot: CareBot) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", bot.runtime.server.port, timeout=10)  # type: ignore[attr-defined]
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def refresh_slack_auth(bot: CareBot) -> None:
    """Run the scheduled auth.test refresh, as the scheduler does every 5 minutes."""
    (job,) = bot.runtime.scheduler.get_jobs("health")
    job.run()
    job.job_func.func.last_thread.join(timeout=10)  # the SingleFlight wrapper's worker


@pytest.fixture
def healthy_bot(care_bot: CareBot) -> CareBot:
    post_digest(care_bot)
    refresh_slack_auth(care_bot)
    return care_bot


def test_a_healthy_bot_answers_200_with_every_check(healthy_bot):
    status, body = health(healthy_bot)

    assert status == 200, body
    assert body["ok"] is True and body["problems"] == []
    checks = body["checks"]
    assert set(checks) == {"store", "scheduler", "digest", "slack", "inbox", "signals"}
    assert checks["digest"]["last_posted"] == "2026-06-15"
    assert checks["slack"]["bot_user_id"] == "UBOT"
    assert checks["scheduler"]["seconds_ago"] == 0


def test_a_stalled_scheduler_is_503_until_the_loop_ticks_again(healthy_bot):
    healthy_bot.clock.advance(minutes=3)

    status, body = health(healthy_bot)

    assert status == 503
    assert body["problems"] == ["scheduler: stalled: no tick for 180 s"]
    healthy_bot.runtime.tick()
    assert health(healthy_bot)[0] == 200


def test_slack_refusing_the_token_is_503_and_auth_test_is_not_called_per_request(healthy_bot):
    healthy_bot.fake.fail_next("auth.test", error="invalid_auth")
    refresh_slack_auth(healthy_bot)
    calls = len(healthy_bot.fake.calls("auth.test"))

    answers = [health(healthy_bot) for _ in range(5)]

    assert {status for status, _ in answers} == {503}
    assert answers[0][1]["problems"] == ["slack: auth.test failed: invalid_auth"]
    assert len(healthy_bot.fake.calls("auth.test")) == calls  # the cached answer
    refresh_slack_auth(healthy_bot)
    assert health(healthy_bot)[0] == 200


def test_slack_unreachable_is_503(healthy_bot):
    for handler in healthy_bot.services.client.retry_handlers:
        handler.max_retry_count = 0
    healthy_bot.fake.fail_next("auth.test", disconnect=True)
    refresh_slack_auth(healthy_bot)

    status, body = health(healthy_bot)

    assert status == 503 and body["problems"][0].startswith("slack: auth.test failed:")


def test_todays_digest_missing_long_after_its_time_is_503(care_bot):
    refresh_slack_auth(care_bot)
    care_bot.clock.advance(minutes=45)  # 10:15, the digest was due at 09:00
    care_bot.runtime.tick()

    status, body = health(care_bot)

    assert status == 503
    assert body["problems"] == ["digest: today's digest is not posted, 75 min after"]
    post_digest(care_bot)
    status, body = health(care_bot)
    assert status == 200 and body["checks"]["digest"]["detail"] == "today's digest is posted"


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make `path` refuse new files, for root too (chattr +i) where chmod is not enough."""
    path.chmod(0o555)
    immutable = False
    try:
        probe = path / ".probe"
        try:
            probe.touch()
            probe.unlink()
            writable = True
        except OSError:
            writable = False
        if writable:  # root ignores modes
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            immutable = done.returncode == 0
            if not immutable:
                pytest.skip(f"cannot make {path} read-only here: {done.stderr.decode().strip()}")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o755)


def test_a_data_directory_that_takes_no_writes_is_503(healthy_bot):
    with read_only(healthy_bot.data_dir):
        status, body = health(healthy_bot)

    assert status == 503
    (problem,) = body["problems"]
    assert problem.startswith(f"store: cannot write to {healthy_bot.data_dir}")
    assert health(healthy_bot)[0] == 200


def test_an_inbox_connector_stopped_by_wrong_credentials_is_503(bots, dovecot_server):
    bot = bots(
        CARE_TRIAGE_CHANNEL="C0TRIAGE",
        IMAP_HOST=dovecot_server.host,
        IMAP_PORT=str(dovecot_server.port),
        IMAP_USER="care",
        IMAP_PASSWORD=USERS["care"] + "-wrong",
        IMAP_SSL="false",
    )
    post_digest(bot)
    refresh_slack_auth(bot)
    statuses = bot.repos.inbox.connector_statuses
    bot.fake.wait_for(lambda: any(s.state == "stopped" for s in statuses()), timeout=20)

    status, body = health(bot)

    assert status == 503
    (problem,) = body["problems"]
    assert problem.startswith("inbox: care@") and "stopped" in problem
