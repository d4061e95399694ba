"""Signed webhook routes on the real server (port 0): limit, then verify, then the handler."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
from collections.abc import Iterator

import pytest

from bot.inbox.webhook import sign
from handlers.http import HttpServer
from handlers.webhooks import (
    RETRY,
    Malformed,
    SignedRequest,
    WebApp,
    hmac_sha256_verifier,
    reply,
)
from tests.bot.inbox.mail import make_email

SECRET = "whsec-test-secret"
HEADER = "X-Care-Signature"


class Hook:
    """A test route's handler: records what it was given, answers or raises as told."""

    def __init__(self) -> None:
        self.seen: list[SignedRequest] = []
        self.raises: Exception | None = None

    def __call__(self, request: SignedRequest):  # noqa: ANN204
        self.seen.append(request)
        if self.raises is not None:
            raise self.raises
        return reply(200, ok=True, size=len(request.body))


@pytest.fixture
def hook() -> Hook:
    return Hook()


@pytest.fixture
def port(hook: Hook) -> Iterator[int]:
    web = WebApp()
    web.signed_route(
        "/hooks/test", verifier=hmac_sha256_verifier(SECRET, HEADER), max_body=1000, handler=hook
    )
    web.signed_route(  # a larger limit elsewhere: the server itself lets 1001 bytes through
        "/hooks/big", verifier=hmac_sha256_verifier(SECRET, HEADER), max_body=5000, handler=hook
    )
    web.get("/ping", lambda: reply(200, ok=True))
    server = HttpServer(web, "127.0.0.1", 0)
    server.start()
    yield server.port
    server.stop()


def post(port: int, body: bytes, headers: dict[str, str] | None = None, path: str = "/hooks/test"):  # noqa: ANN201
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers or {})
        resp = conn.getresponse()
        text = resp.read()
        is_json = resp.getheader("Content-Type", "").startswith("application/json")
        return resp.status, json.loads(text) if is_json else text.decode()
    finally:
        conn.close()


def signed(body: bytes) -> dict[str, str]:
    return {HEADER: sign(body, SECRET)}


# -- the HMAC-SHA256 verifier ----------------------------------------------------------------


def verify(body: bytes, header: str, secret: str = SECRET) -> str | None:
    return hmac_sha256_verifier(secret, HEADER)(body, {HEADER: header} if header else {})


def test_signed_body_verifies():
    body = make_email()
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    assert sign(body, SECRET) == header
    assert verify(body, header) is None


def test_upper_case_hex_and_spaces_are_accepted():
    body = make_email()

    assert verify(body, "  " + sign(body, SECRET).upper()) is None


def test_unsigned_request_is_refused_saying_what_is_missing():
    assert "Missing X-Care-Signature" in (verify(make_email(), "") or "")


def test_signature_with_another_secret_or_a_changed_body_is_refused():
    body = make_email(body="Please refund me")

    assert verify(body, sign(body, "another-secret"))
    assert verify(body.replace(b"refund", b"charge"), sign(body, SECRET))
    assert verify(body, sign(body, SECRET).removeprefix("sha256="))
    assert verify(body, "sha256=not-hex-ÿ")


def test_a_route_without_a_secret_cannot_be_built():
    with pytest.raises(ValueError, match="do not register"):
        hmac_sha256_verifier("", HEADER)


def test_base64_without_prefix_as_shopify_signs():
    body = b'{"id": 1}'
    digest = base64.b64encode(hmac.new(b"shp", body, hashlib.sha256).digest()).decode()
    check = hmac_sha256_verifier("shp", "X-Shopify-Hmac-Sha256", prefix="", encoding="base64")

    assert check(body, {"X-Shopify-Hmac-Sha256": digest}) is None
    assert check(body + b" ", {"X-Shopify-Hmac-Sha256": digest})


# -- the route on the server ------------------------------------------------------------------


def test_signed_request_reaches_the_handler_with_the_raw_body(port, hook):
    body = b"\xff\xfe raw bytes, not UTF-8"

    assert post(port, body, signed(body)) == (200, {"ok": True, "size": len(body)})
    assert [r.body for r in hook.seen] == [body]
    assert hook.seen[0].headers.get(HEADER.lower()) == sign(body, SECRET)  # any case


def test_unsigned_or_wrongly_signed_request_gets_401_and_the_handler_never_runs(port, hook):
    status, answer = post(port, b"hello")
    assert status == 401 and "X-Care-Signature" in answer["error"]
    assert post(port, b"hello", {HEADER: sign(b"hello", "x")})[0] == 401
    assert hook.seen == []


def test_body_over_the_limit_gets_413_before_it_is_verified_or_handled(port, hook):
    body = b"x" * 1001

    status, answer = post(port, body, signed(body))

    assert status == 413 and "1000 bytes" in answer["error"]
    assert hook.seen == []


def test_body_over_every_route_limit_is_refused_by_the_server_itself(port, hook):
    body = b"x" * 5001

    status, answer = post(port, body, signed(body), path="/hooks/big")

    assert status == 413 and "Too Large" in answer
    assert hook.seen == []


def test_malformed_request_gets_400_with_the_reason_and_no_traceback(port, hook, caplog):
    hook.raises = Malformed("The body is not JSON.")

    with caplog.at_level(logging.DEBUG):
        status, answer = post(port, b"{", signed(b"{"))

    assert (status, answer) == (400, {"ok": False, "error": "The body is not JSON."})
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_handler_failure_is_logged_and_answers_500_asking_the_sender_to_retry(port, hook, caplog):
    hook.raises = RuntimeError("disk full")

    status, answer = post(port, b"{}", signed(b"{}"))

    assert (status, answer) == (500, {"ok": False, "error": RETRY})
    assert "retry" in RETRY
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert failures and "/hooks/test" in failures[0].getMessage()


def test_unknown_path_is_404_and_wrong_method_405_as_json(port):
    assert post(port, b"{}", path="/hooks/nope") == (404, {"ok": False, "error": "not_found"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/hooks/test")
        resp = conn.getresponse()
        assert resp.status == 405
        assert json.loads(resp.read())["ok"] is False
        conn.request("GET", "/ping")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_the_server_limit_is_the_largest_route_limit():
    web = WebApp()
    web.signed_route("/a", verifier=lambda b, h: None, max_body=10, handler=Hook())
    web.signed_route("/b", verifier=lambda b, h: None, max_body=500, handler=Hook())

    assert web.max_body == 500
