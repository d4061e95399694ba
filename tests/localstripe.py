"""localstripe, a fake but stateful Stripe API, as a separate process on a loopback port.

localstripe (PyPI, GPL-3.0-or-later) is a test-time tool only: the dev extras install it and
the tests run it with `python -m localstripe`; nothing in the product imports it. It creates
customers and subscriptions through the real `stripe` SDK and delivers signed webhooks
(`t=<created>,v1=<hex HMAC-SHA256>`, Stripe's own scheme) to the URL it is configured with.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen[bytes]

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient("sk_test_local", base_addresses={"api": self.url})

    def deliver_to(self, url: str, secret: str, name: str = "care") -> None:
        """Have localstripe sign and POST every event to `url` (its `/_config/webhooks`)."""
        data = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/{name}", data=data)
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    if importlib.util.find_spec("localstripe") is None:
        pytest.fail("localstripe is not installed: run make install (it is in the dev extras)")
    port = _free_port()
    log = (tmp_path / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(
                    f"localstripe did not start: {(tmp_path / 'localstripe.log').read_text()}"
                )
            time.sleep(0.1)
    try:
        yield LocalStripe(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
