"""SIGKILL after the 2xx: `python app.py` is killed while deliveries it answered may not be
applied yet; started again on the same data, it applies every one of them, once."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from bot.models import Subscriber, Subscription
from bot.repos import Repos
from bot.store import Store
from tests.fakeslack.fixtures import SIGNING_SECRET
from tests.fakeslack.server import FakeSlack
from tests.hooks import STRIPE_SECRET, stripe_event, stripe_signature

ROOT = Path(__file__).resolve().parents[2]
COUNT = 40


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bot(fake: FakeSlack, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CARE_", "STRIPE_"))}
    env.update(
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        CARE_DIGEST_CHANNEL="C0DIGEST",
        CARE_DATA_DIR=str(data_dir),
        PORT=str(port),
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=data_dir.parent,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the bot did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)


def _post(port: int, n: int) -> int:
    event = stripe_event(
        "invoice.payment_failed",
        f"evt_kill_{n}",
        1781530200 + n,
        customer="cus_ada",
        attempt_count=1,
        next_payment_attempt=None,
    )
    body = json.dumps(event).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/hooks/stripe",
        body=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": stripe_signature(body)},
    )
    return conn.getresponse().status


def _health(port: int) -> dict:
    """The live-signal sources in /healthz (200, or 503 for a check this test does not set up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/healthz")
    body = json.loads(conn.getresponse().read())
    return {"signals": body["checks"]["signals"]["sources"]}


def test_sigkill_after_the_answer_loses_nothing(fake_slack: FakeSlack, tmp_path: Path):
    data_dir = tmp_path / "data"
    with Store(data_dir) as store:
        Repos.open(store).subscribers.put(
            Subscriber(
                id="cus_ada",
                email="ada@example.com",
                name="Ada",
                first_started=date(2025, 1, 1),
                subscriptions=[Subscription(id="sub_ada", plan="Pro", amount=49.0, currency="usd")],
            )
        )
    port, log = _port(), tmp_path / "bot.log"
    bot = _bot(fake_slack, data_dir, port, log)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: _post(port, n), range(COUNT)))
        bot.send_signal(signal.SIGKILL)  # at once after the last 200: the worker may lag
        bot.wait(10)
    finally:
        if bot.poll() is None:
            bot.kill()
    assert statuses == [200] * COUNT
    with Store(data_dir, read_only=True) as store:
        at_kill = Repos.open(store).journal.counts()["stripe"]
    assert sum(v for k, v in at_kill.items() if k != "last_received") == COUNT

    bot = _bot(fake_slack, data_dir, port, log)
    try:
        deadline = time.monotonic() + 60
        while _health(port)["signals"]["stripe"]["applied"] < COUNT:
            assert time.monotonic() < deadline, f"not all applied; at kill: {at_kill}"
            time.sleep(0.2)
    finally:
        bot.terminate()
        bot.wait(20)
    with Store(data_dir, read_only=True) as store:
        events = Repos.open(store).events.for_subscriber("cus_ada")
    assert sorted(e.type for e in events).count("payment_failed") == COUNT
    print("pending at the SIGKILL:", at_kill.get("pending", 0))
