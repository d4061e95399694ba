"""Signed webhook routes: every request that changes something comes in through one of these.

A route is a path, a verifier, a body limit and a handler. For each request it

1. refuses a body over the limit with 413, from `Content-Length`, before reading the body;
2. reads the raw bytes and asks the verifier whether they are authentic: 401 if not, before
   anything decodes or parses the body;
3. calls the handler. A handler that raises `Malformed` answers 400 with its message and logs
   one line; any other exception is logged with its traceback and answers 500 with a JSON body
   telling the sender to retry (webhook senders retry on 5xx, so nothing is lost).

A route whose secret is not configured is simply not registered: the path answers 404.

Example: a receiver for a vendor that signs with a hex HMAC-SHA256 in `X-Vendor-Signature`::

    from handlers.webhooks import Malformed, SignedRequest, hmac_sha256_verifier, reply

    def on_vendor_event(request: SignedRequest) -> Reply:
        try:
            event = json.loads(request.body)
        except ValueError as exc:
            raise Malformed(f"The body is not JSON: {exc}") from None
        service.record(event)
        return reply(200, ok=True)

    if settings.vendor_secret:
        web.signed_route(
            "/hooks/vendor",
            verifier=hmac_sha256_verifier(settings.vendor_secret, "X-Vendor-Signature"),
            max_body=1024 * 1024,
            handler=on_vendor_event,
        )

`web` is the `WebApp` that `app.build` creates (`runtime.web`); the HTTP server serves it.
A verifier is any `(body: bytes, headers) -> str | None`: None when the body is authentic,
else the reason, which is sent back with the 401. Vendors with their own scheme (Stripe's
`t=...,v1=...`, Shopify's base64 HMAC) get their own small verifier, ideally the vendor SDK's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

# (raw body, headers) -> None when authentic, else why not (sent back with the 401).
Verifier = Callable[[bytes, Mapping[str, str]], "str | None"]
RETRY = "internal error; the request was not processed, the sender should retry"


class Malformed(Exception):
    """Raised by a verifier or handler for a request that can never be processed: answers 400."""


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a status, a body (a dict is sent as JSON) and extra headers."""

    status: int
    body: dict[str, Any] | str | bytes
    headers: Sequence[tuple[str, str]] = ()


def reply(status: int, /, **fields: Any) -> Reply:
    """A JSON answer: `reply(200, ok=True, item="I1")`."""
    return Reply(status, fields)


@dataclass(frozen=True)
class SignedRequest:
    """A request whose body passed the route's verifier. Header lookups ignore case."""

    path: str
    body: bytes
    headers: Mapping[str, str]
    query: str


Handler = Callable[[SignedRequest], Reply]


@dataclass(frozen=True)
class SignedRoute:
    path: str
    verifier: Verifier
    max_body: int
    handler: Handler

    def __call__(self, request: Request) -> Reply:
        length = request.content_length or 0  # the server answers 400 to a bad Content-Length
        if length > self.max_body:
            return _error(413, f"The body is over {self.max_body} bytes.")
        body = request.get_data(cache=False)
        headers = cast(Mapping[str, str], request.headers)  # werkzeug's: .get ignores case
        signed = SignedRequest(self.path, body, headers, request.query_string.decode("latin-1"))
        try:
            refused = self.verifier(body, signed.headers)
            if refused:
                log.info("%s: refused (401): %s", self.path, refused)
                return _error(401, refused)
            return self.handler(signed)
        except Malformed as exc:
            log.info("%s: malformed request (400): %s", self.path, exc)
            return _error(400, str(exc))
        except Exception:
            log.exception("%s: the handler failed; answered 500 so the sender retries", self.path)
            return _error(500, RETRY)


class WebApp:
    """The bot's WSGI application: signed webhook routes (POST) plus plain GET routes.

    A plain WSGI app on Werkzeug's request and response objects: a path is matched exactly, an
    unknown path is 404 and a wrong method 405, every answer is JSON, and nothing reaches the
    log as a traceback except a handler's own failure.
    """

    def __init__(self) -> None:
        self.routes: dict[str, SignedRoute] = {}
        self.gets: dict[str, Callable[[], Reply]] = {}

    def signed_route(
        self, path: str, *, verifier: Verifier, max_body: int, handler: Handler
    ) -> SignedRoute:
        """Serve `POST path`: body limit, then `verifier`, then `handler` (see the module doc)."""
        if path in self.routes or path in self.gets:
            raise ValueError(f"{path} is already served")
        route = SignedRoute(path, verifier, max_body, handler)
        self.routes[path] = route
        return route

    def get(self, path: str, handler: Callable[[], Reply]) -> None:
        """Serve `GET path` with `handler()`; an exception is logged and answers 500."""
        if path in self.routes or path in self.gets:
            raise ValueError(f"{path} is already served")
        self.gets[path] = handler

    @property
    def max_body(self) -> int:
        """The largest body any route accepts: the server refuses bigger ones before reading."""
        return max((r.max_body for r in self.routes.values()), default=64 * 1024)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        answer = self._answer(request)
        return _response(answer)(environ, start_response)

    def _answer(self, request: Request) -> Reply:
        path, method = request.path, request.method
        route, getter = self.routes.get(path), self.gets.get(path)
        if route is None and getter is None:
            return _error(404, "not_found")
        if route is not None and method == "POST":
            return route(request)
        if getter is not None and method in ("GET", "HEAD"):
            try:
                return getter()
            except Exception:
                log.exception("GET %s failed", path)
                return _error(500, "internal error")
        return _error(405, "method_not_allowed")


def hmac_sha256_verifier(
    secret: str, header: str, *, prefix: str = "sha256=", encoding: str = "hex"
) -> Verifier:
    """A verifier for `header: <prefix><HMAC-SHA256 of the raw body keyed with secret>`.

    Args:
        secret: The shared secret; must not be empty (a route without one is not registered).
        header: The header carrying the signature, e.g. `X-Care-Signature`.
        prefix: What precedes the digest in the header ("" for none).
        encoding: "hex" or "base64" (Shopify sends base64 with no prefix).
    """
    if not secret:
        raise ValueError(f"no secret for {header}: do not register the route")
    key = secret.encode()

    def verify(body: bytes, headers: Mapping[str, str]) -> str | None:
        given = (headers.get(header) or "").strip()
        if not given:
            return f"Missing {header} header: sign the body with HMAC-SHA256."
        digest = hmac.new(key, body, hashlib.sha256).digest()
        expected = prefix + (
            digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
        )
        if encoding == "hex":
            given = given.lower()
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            return f"Wrong {header}: expected {prefix}<HMAC-SHA256 of the body>."
        return None

    return verify


def _response(answer: Reply) -> Response:
    if isinstance(answer.body, dict):
        body = json.dumps(answer.body, ensure_ascii=False)
        return Response(body, answer.status, list(answer.headers), mimetype="application/json")
    return Response(answer.body, answer.status, list(answer.headers))


def _error(status: int, message: str) -> Reply:
    return reply(status, ok=False, error=message)
