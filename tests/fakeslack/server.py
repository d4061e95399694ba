"""FakeSlack: a stateful fake of Slack's Web API on a real loopback port, for end-to-end tests.

    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        client.chat_postMessage(channel="C0DIGEST", text="hi")
        assert fake.messages("C0DIGEST")[0]["text"] == "hi"
        assert fake.violations == []

Every call is checked against Slack's method descriptions in ../shared/slack-contract and against
Block Kit limits, and answered with Slack's own error codes. A call that breaks the contract (an
unknown method, a missing argument, too many blocks, a reused trigger_id...) is also recorded in
``fake.violations``, which the ``fake_slack`` fixture checks is empty after each test.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from tests.fakeslack.contract import load_full_contract
from tests.fakeslack.files import Uploads
from tests.fakeslack.methods import HANDLERS
from tests.fakeslack.responses import ResponseUrls
from tests.fakeslack.state import DEFAULT_CHANNELS, DEFAULT_USERS, SlackError, Workspace
from tests.fakeslack.wire import Answer, make_server

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
T = TypeVar("T")
HOLD_LIMIT_S = 30.0  # a held call is answered after this long, whatever happens


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received and answered it."""

    method: str
    args: dict[str, Any]
    time: float
    status: int
    error: str | None


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int
    disconnect: bool
    after_store: bool = False


class FakeSlack:
    """A fake Slack workspace and Web API on ``http://127.0.0.1:<port>/api/``.

    Args:
        bot_token: The token Web API calls must carry.
        app_token: The token apps.connections.open must carry (Socket Mode).
        users: Members to create instead of the defaults (U1 alice, U2 bob, U3 carol); dicts
            with id, name, real_name, email, tz.
        channels: Channels instead of the defaults (C1 general, C0DIGEST, C0TRIAGE); dicts with
            id, name and optionally is_private, members, bot_is_member.
        enforce_rate_limit: Answer 429 when chat.postMessage exceeds about 1 per second per
            channel (after a burst of ``rate_limit_burst``).
        host: Interface to bind (loopback).
    """

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        users: Iterable[dict[str, Any]] | None = None,
        channels: Iterable[dict[str, Any]] | None = None,
        enforce_rate_limit: bool = False,
        rate_limit_burst: int = 3,
        host: str = "127.0.0.1",
    ) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.enforce_rate_limit, self.rate_limit_burst = enforce_rate_limit, rate_limit_burst
        self.socket_mode_url: str | None = None
        self.contract = load_full_contract()
        self.ws = Workspace()
        self.violations: list[str] = []
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._holds: dict[str, threading.Event] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._responses = ResponseUrls(self.ws)
        for user in DEFAULT_USERS if users is None else users:
            self.add_user(**user)
        for channel in DEFAULT_CHANNELS if channels is None else channels:
            self.add_channel(**channel)
        self._server = make_server(host, self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.api_url = f"{self.url}/api/"
        self.ws.uploads = Uploads(self.url)  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Serve requests in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},  # stop() waits at most this long
                name="fakeslack",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- set-up --------------------------------------------------------------------------------

    def add_user(self, id: str, name: str | None = None, **fields: Any) -> dict[str, Any]:  # noqa: A002
        """Add a member (real_name, email, tz, is_bot); returns Slack's user object."""
        with self._lock:
            return copy.deepcopy(self.ws.add_user(id, name, **fields))

    def add_channel(self, id: str, name: str, **fields: Any) -> dict[str, Any]:  # noqa: A002
        """Add a channel (is_private, members, bot_is_member, is_archived)."""
        with self._lock:
            return copy.deepcopy(self.ws.add_channel(id, name, **fields))

    def add_usergroup(self, group_id: str, users: Iterable[str]) -> None:
        """Add a user group (``S...``) for usergroups.users.list."""
        with self._lock:
            self.ws.usergroups[group_id] = list(users)

    def post_as_user(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
        """A message written by a person (not the bot); returns its ts."""
        with self._lock:
            return self.ws.post(channel, user, {"text": text}, thread_ts=thread_ts)["ts"]

    def issue_trigger_id(self, user: str = "U1") -> str:
        """A trigger_id as Slack sends with an interaction: one views.open, within 3 seconds."""
        with self._lock:
            return self.ws.issue_trigger_id(user)

    def new_response_url(
        self, channel: str = "C1", user: str = "U1", message_ts: str | None = None
    ) -> str:
        """A response_url on this server for an interaction in ``channel`` (on ``message_ts``)."""
        with self._lock:
            return self._responses.new(self.url, channel, user, message_ts)

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        disconnect: bool = False,
        after_store: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        Args:
            method: e.g. ``chat.postMessage``.
            status: 429 (with ``Retry-After: retry_after``), 500, 503...; default 200 with ``error``.
            error: Slack's error code for the body; must be one the method can answer with.
            retry_after: Seconds in the Retry-After header of a 429.
            times: How many calls fail.
            disconnect: Close the connection without answering (a network error).
            after_store: Carry the call out first (the message is stored, the edit made), then
                answer with the failure: Slack's answer was lost after it did the work.

        Raises:
            ValueError: For an unknown method, an error Slack never answers it with, or no failure.
        """
        spec = self.contract.get(method)
        if spec is None:
            raise ValueError(f"fail_next: {method!r} is not in the slack-contract methods")
        if error is not None and not spec.allows(error):
            raise ValueError(f"fail_next: Slack never answers {method} with {error!r}")
        if status is None and error is None and not disconnect:
            raise ValueError("fail_next: give a status, an error or disconnect=True")
        if status is None:
            status = 200
        if error is None:
            error = "ratelimited" if status == 429 else "internal_error"
        with self._lock:
            for _ in range(times):
                self._failures[method].append(
                    _Failure(status, error, retry_after, disconnect, after_store)
                )

    def hold(self, method: str) -> threading.Event:
        """Keep every call of ``method`` unanswered, as a slow Slack would, until the returned
        event is set (or ``HOLD_LIMIT_S`` pass); other methods are answered meanwhile."""
        release = threading.Event()
        with self._lock:
            self._holds[method] = release
        return release

    # -- serving -------------------------------------------------------------------------------

    def dispatch(self, method: str, args: dict[str, Any], token: str | None) -> Answer:
        """Answer one Web API call (called by the HTTP handler)."""
        with self._lock:
            held = self._holds.get(method)
        if held is not None:
            held.wait(HOLD_LIMIT_S)
        with self._lock:
            token = token or args.pop("token", None)
            args.pop("token", None)
            answer = self._answer(method, args, token)
            body = answer.body if isinstance(answer.body, dict) else {}
            error = None if body.get("ok") else body.get("error", "disconnected")
            self._calls.append(Call(method, copy.deepcopy(args), time.time(), answer.status, error))
            return answer

    def refuse(self, method: str, problem: str) -> Answer:
        """Answer a request whose body could not be read."""
        with self._lock:
            self.violations.append(f"{method}: {problem}")
            self._calls.append(Call(method, {}, time.time(), 200, "invalid_arguments"))
            return _error("invalid_arguments", problem)

    def respond(self, url: str, raw: bytes) -> Answer:
        """Answer a POST to a response_url."""
        try:
            body: Any = json.loads(raw.decode("utf-8") or "null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            status, text, violation = self._responses.handle(url, body)
            if violation:
                self.violations.append(violation)
            return Answer(status, text)

    def receive_upload(self, file_id: str, raw: bytes) -> Answer:
        """Take the bytes POSTed to an upload URL that files.getUploadURLExternal issued."""
        with self._lock:
            status, text = self.ws.uploads.receive(file_id, raw)  # type: ignore[attr-defined]
            if status != 200:
                self.violations.append(f"upload {file_id}: {text}")
            return Answer(status, text)

    def uploaded(self) -> list[Any]:
        """Every file issued for upload (tests.fakeslack.files.Upload), in order."""
        return self._copy(lambda: list(self.ws.uploads.files.values()))  # type: ignore[attr-defined]

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> Answer:
        spec = self.contract.get(method)
        if spec is None:
            return self._violate(method, "unknown_method", "not a method in slack-contract")
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            if failure.after_store:
                self._serve(method, args, token, spec)  # done, and then the answer is lost
            return _injected(failure)
        return self._serve(method, args, token, spec)

    def _serve(self, method: str, args: dict[str, Any], token: str | None, spec: Any) -> Answer:
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return self._violate(method, "not_authed", "no token in Authorization or arguments")
        if token != wanted:
            return self._violate(method, "invalid_auth", f"token {token[:5]}... is not accepted")
        unknown = sorted(set(args) - spec.known_args)
        if unknown:
            self.violations.append(f"{method}: arguments Slack does not document: {unknown}")
        for arg in spec.required:
            if args.get(arg) in (None, ""):
                code = spec.missing_arg_error(arg)
                return self._violate(method, code, f"required argument {arg!r} is missing")
        limited = self._rate_limited(method, args)
        if limited is not None:
            return limited
        try:
            if method == "apps.connections.open":
                return self._connections_open()
            result = HANDLERS[method](self.ws, args)
        except SlackError as err:
            if err.violation or not spec.allows(err.code):
                self._record(method, err.code, err.detail)
            return _error(err.code, err.detail)
        except Exception:  # a bug in the fake: make it as loud as a bot bug
            return self._violate(method, "internal_error", traceback.format_exc())
        return Answer(200, {"ok": True, **copy.deepcopy(result)})

    def _record(self, method: str, code: str, detail: str) -> None:
        spec = self.contract.get(method)
        note = "" if spec is None or spec.allows(code) else " (fakeslack bug: not a listed error)"
        self.violations.append(f"{method}: {code}: {detail}{note}")

    def _violate(self, method: str, code: str, detail: str) -> Answer:
        self._record(method, code, detail)
        return _error(code, detail)

    def _connections_open(self) -> Answer:
        if not self.socket_mode_url:
            raise SlackError("internal_error", "set fake.socket_mode_url first", violation=True)
        return Answer(200, {"ok": True, "url": self.socket_mode_url})

    def _rate_limited(self, method: str, args: dict[str, Any]) -> Answer | None:
        """A token bucket per channel for chat.postMessage: 1 a second after a small burst."""
        if not self.enforce_rate_limit or method != "chat.postMessage":
            return None
        key, now = str(args.get("channel")), time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.rate_limit_burst), now))
        tokens = min(float(self.rate_limit_burst), tokens + (now - last))
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = max(1, math.ceil(1.0 - tokens))
            return Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        self._buckets[key] = (tokens - 1.0, now)
        return None

    # -- inspection ----------------------------------------------------------------------------

    def _copy(self, fn: Callable[[], T]) -> T:
        with self._lock:
            return copy.deepcopy(fn())

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received (or those of one method), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's top-level messages (thread replies folded away), oldest first."""
        return self._copy(lambda: self.ws.top_level(self.ws.resolve_channel(channel)))

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """A thread: its parent then its replies, oldest first."""
        return self._copy(lambda: self.ws.thread(self.ws.resolve_channel(channel), ts))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message (a reply too) by ts, or None."""
        return self._copy(lambda: self.ws.find(self.ws.resolve_channel(channel), ts))

    def edits(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Earlier versions of an edited message, oldest first."""
        return self._copy(lambda: self.ws.edits.get((self.ws.resolve_channel(channel), ts), []))

    def deleted(self) -> list[tuple[str, dict[str, Any]]]:
        """Messages removed by chat.delete or delete_original, as (channel, message)."""
        return self._copy(lambda: self.ws.deleted)

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and response_url), oldest first."""
        return self._copy(
            lambda: [e for e in self.ws.ephemerals if user is None or e["user"] == user]
        )

    def responses(self, url: str | None = None) -> list[Any]:
        """The bodies POSTed to a response_url (or to any), oldest first."""
        return self._copy(
            lambda: [p["body"] for p in self._responses.posts if url is None or p["url"] == url]
        )

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home tab view last published for ``user``, or None."""
        return self._copy(lambda: self.ws.views.get(self.ws.homes.get(user, "")))

    def modals(self, user: str) -> list[dict[str, Any]]:
        """The modals open for ``user`` (views.open then views.push), bottom first."""
        return self._copy(lambda: [self.ws.views[v] for v in self.ws.modal_stacks.get(user, [])])

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Every view opened, pushed, updated or published, by view id."""
        return self._copy(lambda: self.ws.views)

    def take_violations(self) -> list[str]:
        """Return the violations recorded so far and forget them (for tests that provoke them)."""
        with self._lock:
            found, self.violations = self.violations, []
            return found

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.01
    ) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that.

        Raises:
            AssertionError: When ``timeout`` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"fake Slack: nothing after {timeout}s waiting for {predicate}"
                )
            time.sleep(interval)


def _error(code: str, detail: str = "") -> Answer:
    body: dict[str, Any] = {"ok": False, "error": code}
    if detail:
        body["response_metadata"] = {"messages": [f"[ERROR] {detail}"]}
    return Answer(200, body)


def _injected(failure: _Failure) -> Answer:
    if failure.disconnect:
        return Answer(disconnect=True)
    headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
    return Answer(failure.status, {"ok": False, "error": failure.error}, headers)
