"""HTTP plumbing of the fake: one request in (method, arguments, token), one answer out.

The handler only parses and writes; ``FakeSlack.dispatch`` and ``FakeSlack.respond`` decide.
Arguments are merged from the query string and a form, JSON or multipart body, the way Slack
accepts them; the token comes from ``Authorization: Bearer`` or a ``token`` argument.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.fakeslack.server import FakeSlack


@dataclass
class Answer:
    """What the fake answers: a status, headers and a JSON (or text) body; or a dropped connection."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False


class BadRequest(ValueError):
    """The body could not be read as Slack reads it."""


def _flat(pairs: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[-1] for k, v in pairs.items()}


def parse_args(query: str, content_type: str, raw: bytes) -> dict[str, Any]:
    """Merge query string and body arguments (body wins).

    Raises:
        BadRequest: When a JSON body is not a JSON object or a body cannot be decoded.
    """
    args = _flat(parse_qs(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if not raw:
        return args
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 ({exc})") from None
    if ctype == "application/json":
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise BadRequest(f"the JSON body does not parse ({exc})") from None
        if not isinstance(body, dict):
            raise BadRequest("the JSON body must be an object")
        args.update(body)
    elif ctype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True) or b""
                args[str(name)] = payload.decode("utf-8", "replace")
    else:  # application/x-www-form-urlencoded, and what Slack reads as such
        args.update(_flat(parse_qs(text, keep_blank_values=True)))
    return args


def bearer(authorization: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output quiet; the fake records every call instead."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve()

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        if parts.path.startswith("/api/"):
            method = parts.path.removeprefix("/api/").strip("/")
            try:
                args = parse_args(parts.query, ctype, raw)
            except BadRequest as exc:
                answer = fake.refuse(method, str(exc))
            else:
                token = bearer(self.headers.get("Authorization"))
                answer = fake.dispatch(method, args, token)
        elif parts.path.startswith("/upload/"):
            answer = fake.receive_upload(parts.path.removeprefix("/upload/"), raw)
        elif parts.path.startswith("/commands/"):
            answer = fake.respond(f"{fake.url}{parts.path}", raw)
        elif parts.path == "/healthz":
            answer = Answer(200, "ok")
        else:
            answer = Answer(404, "not found")
        self._write(answer)

    def _write(self, answer: Answer) -> None:
        if answer.disconnect:
            self.close_connection = True
            return
        if isinstance(answer.body, str):
            data, ctype = answer.body.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(answer.body).encode(), "application/json; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128  # 20 simultaneous clicks must not overflow the listen backlog

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


def make_server(host: str, fake: FakeSlack) -> _Server:
    """A threading HTTP server for ``fake`` on ``host`` and a free port."""
    return _Server((host, 0), fake)
