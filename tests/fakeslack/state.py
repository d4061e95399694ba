"""The fake Slack workspace's state: users, channels, messages and threads, ephemerals, views.

Plain data and the few operations the Web API methods share (post, edit, delete, open a view).
Not thread-safe on its own: the server holds one lock around every request.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

TRIGGER_TTL = 3.0  # seconds a trigger_id stays valid, as in Slack
MAX_MESSAGE_TEXT = 40_000  # Slack truncates longer message text
MODAL_STACK_LIMIT = 3  # views.push refuses a fourth modal

DEFAULT_USERS: tuple[dict[str, Any], ...] = (
    {"id": "U1", "name": "alice", "real_name": "Alice Ahmed", "email": "alice@example.com"},
    {"id": "U2", "name": "bob", "real_name": "Bob Brown", "email": "bob@example.com"},
    {"id": "U3", "name": "carol", "real_name": "Carol Chen", "email": "carol@example.com"},
)
DEFAULT_CHANNELS: tuple[dict[str, Any], ...] = (
    {"id": "C1", "name": "general"},
    {"id": "C0DIGEST", "name": "care-digest"},
    {"id": "C0TRIAGE", "name": "care-inbox"},
)


class SlackError(Exception):
    """An answer of ``{"ok": false, "error": code}``.

    Args:
        code: Slack's error code.
        detail: What was wrong, for the answer's ``response_metadata.messages`` and violations.
        violation: True when the call broke Slack's contract (a bot bug the tests must see).
    """

    def __init__(self, code: str, detail: str = "", *, violation: bool = False) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.violation = violation


def _ts_from_micros(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class Workspace:
    """One team: its people, channels, the bot's messages and views.

    Args:
        team_id: The team's id (``T...``).
        bot_user_id: The bot's user id; messages posted through the API are from it.
        bot_id: The bot's ``B...`` id.
        app_id: The app's ``A...`` id.
        now: Wall clock in epoch seconds (message ts and trigger expiry).
    """

    def __init__(
        self,
        *,
        team_id: str = "T0CARE",
        team_domain: str = "proactive-care",
        bot_user_id: str = "UBOT",
        bot_id: str = "B0CARE",
        app_id: str = "A0CARE",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.team_id, self.team_domain = team_id, team_domain
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.now = now
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> all messages, ts order
        self._index: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.edits: dict[tuple[str, str], list[dict[str, Any]]] = {}  # earlier versions
        self.deleted: list[tuple[str, dict[str, Any]]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.homes: dict[str, str] = {}  # user -> view id of their Home tab
        self.modal_stacks: dict[str, list[str]] = {}  # user -> open modal view ids
        self.triggers: dict[str, dict[str, Any]] = {}
        self._last_micros = 0
        self._ids = itertools.count(1)
        self.add_user(bot_user_id, "proactive_care", real_name="Proactive Care", is_bot=True)

    # -- people and places -------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Add (or replace) a member and their IM channel; returns Slack's user object."""
        name = name or user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name.title(),
            "deleted": False,
            "tz": tz,
            "is_bot": is_bot,
            "is_admin": False,
            "profile": {
                "real_name": real_name or name.title(),
                "display_name": name,
                "email": email or f"{name}@example.com",
            },
        }
        self.users[user_id] = user
        self._add_channel(f"D{user_id}", name, is_im=True, user=user_id)
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] | None = None,
        bot_is_member: bool = True,
        is_archived: bool = False,
    ) -> dict[str, Any]:
        """Add a channel; ``members=None`` means every user is in it."""
        return self._add_channel(
            channel_id,
            name,
            is_private=is_private,
            members=None if members is None else set(members),
            is_member=bot_is_member,
            is_archived=is_archived,
        )

    def _add_channel(self, channel_id: str, name: str, **extra: Any) -> dict[str, Any]:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not extra.get("is_im", False),
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_member": True,
            "created": int(self.now()),
            "members": None,
            **extra,
        }
        self.channels[channel_id] = channel
        self.history.setdefault(channel_id, [])
        return channel

    def resolve_channel(self, ref: Any) -> str:
        """A channel id from an id, ``#name``/name, or a user id (their IM with the bot)."""
        if not isinstance(ref, str) or not ref:
            raise SlackError("channel_not_found", f"channel: {ref!r} is not a channel id")
        if ref in self.channels:
            return ref
        if ref in self.users and f"D{ref}" in self.channels:
            return f"D{ref}"
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel["name"] == name and not channel["is_im"]:
                return channel["id"]
        raise SlackError("channel_not_found", f"channel: no channel {ref!r} in the workspace")

    def is_member(self, channel_id: str, user_id: str) -> bool:
        """True when ``user_id`` may see ``channel_id``."""
        channel = self.channels[channel_id]
        if channel["is_im"]:
            return user_id == channel["user"]
        members = channel["members"]
        return user_id in self.users and (members is None or user_id in members)

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id such as ``V0000000007``."""
        return f"{prefix}{next(self._ids):010d}"

    # -- messages ----------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A unique ts, increasing across the whole workspace, from the wall clock."""
        micros = max(self._last_micros + 1, int(self.now() * 1_000_000))
        self._last_micros = micros
        return _ts_from_micros(micros)

    def find(self, channel_id: str, ts: Any) -> dict[str, Any] | None:
        """The message with ``ts`` in the channel (a thread reply too), or None."""
        return self._index.get((channel_id, ts)) if isinstance(ts, str) else None

    def post(
        self,
        channel_id: str,
        user_id: str,
        content: dict[str, Any],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Add a message (a thread reply when ``thread_ts``) and return it."""
        msg: dict[str, Any] = {"type": "message", "ts": self.next_ts(), "user": user_id}
        if self.users.get(user_id, {}).get("is_bot"):
            msg.update(bot_id=self.bot_id, app_id=self.app_id)
        msg["team"] = self.team_id
        msg.update(content)
        if "text" in msg and len(msg["text"]) > MAX_MESSAGE_TEXT:
            msg["text"] = msg["text"][:MAX_MESSAGE_TEXT]
        if thread_ts is not None:
            parent = self.find(channel_id, thread_ts)
            if parent is None:
                raise SlackError(
                    "invalid_arguments",
                    f"thread_ts: no message {thread_ts} in {channel_id} to reply to",
                    violation=True,
                )
            parent = self.find(channel_id, parent.get("thread_ts", parent["ts"])) or parent
            msg.update(thread_ts=parent["ts"], parent_user_id=parent["user"])
            if broadcast:
                msg["subtype"] = "thread_broadcast"
            self._count_reply(parent, msg)
        self.history[channel_id].append(msg)
        self._index[(channel_id, msg["ts"])] = msg
        return msg

    def _count_reply(self, parent: dict[str, Any], reply: dict[str, Any]) -> None:
        users = parent.setdefault("reply_users", [])
        if reply["user"] not in users:
            users.append(reply["user"])
        parent.update(
            thread_ts=parent["ts"],
            reply_count=parent.get("reply_count", 0) + 1,
            reply_users_count=len(users),
            latest_reply=reply["ts"],
        )

    def update(self, channel_id: str, ts: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Edit a bot message in place, keeping its earlier version in ``edits``."""
        msg = self.find(channel_id, ts)
        if msg is None:
            raise SlackError("message_not_found", f"ts: no message {ts} in {channel_id}")
        if msg["user"] != self.bot_user_id:
            raise SlackError("cant_update_message", f"message {ts} was not posted by the bot")
        self.edits.setdefault((channel_id, ts), []).append(copy.deepcopy(msg))
        msg.update(changes)
        if "text" in msg and len(msg["text"]) > MAX_MESSAGE_TEXT:
            msg["text"] = msg["text"][:MAX_MESSAGE_TEXT]
        msg["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return msg

    def delete(self, channel_id: str, ts: str) -> None:
        """Remove a bot message; a reply's parent loses one from its reply_count."""
        msg = self.find(channel_id, ts)
        if msg is None:
            raise SlackError("message_not_found", f"ts: no message {ts} in {channel_id}")
        if msg["user"] != self.bot_user_id:
            raise SlackError("cant_delete_message", f"message {ts} was not posted by the bot")
        self.history[channel_id].remove(msg)
        del self._index[(channel_id, ts)]
        self.deleted.append((channel_id, msg))
        parent_ts = msg.get("thread_ts")
        parent = self.find(channel_id, parent_ts) if parent_ts not in (None, ts) else None
        if parent is not None:
            parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)

    def top_level(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages as people see them in it (threads folded), oldest first."""
        return [
            m
            for m in self.history.get(channel_id, ())
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        """The parent and its replies, oldest first; empty when there is no such message."""
        msg = self.find(channel_id, ts)
        if msg is None:
            return []
        root = msg.get("thread_ts", msg["ts"])
        return [m for m in self.history[channel_id] if m.get("thread_ts", m["ts"]) == root]

    # -- triggers and views ------------------------------------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A trigger_id as Slack puts in an interaction payload: single use, valid 3 seconds."""
        trigger = f"{next(self._ids)}.{int(self.now())}.{secrets.token_hex(16)}"
        self.triggers[trigger] = {"user": user_id, "issued": self.now(), "used": False}
        return trigger

    def exchange_trigger(self, trigger_id: Any) -> str:
        """Use up a trigger_id; returns the user it was issued for."""
        entry = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if entry is None:
            raise SlackError(
                "invalid_trigger_id",
                f"trigger_id: {trigger_id!r} was not issued by Slack (use fake.issue_trigger_id())",
                violation=True,
            )
        if entry["used"]:
            raise SlackError("exchanged_trigger_id", "trigger_id: already used", violation=True)
        age = self.now() - entry["issued"]
        if age > TRIGGER_TTL:
            raise SlackError(
                "expired_trigger_id",
                f"trigger_id: {age:.1f}s old, Slack allows {TRIGGER_TTL:.0f}s",
                violation=True,
            )
        entry["used"] = True
        return entry["user"]

    def store_view(self, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        """Save a view as Slack answers it (ids, hash, empty state) and return it."""
        old = self.views.get(view_id) if view_id else None
        view_id = view_id or self.new_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": old["root_view_id"] if old else view_id,
            "previous_view_id": old.get("previous_view_id") if old else None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                stored[key] = view[key]
        self.views[view_id] = stored
        return stored

    def find_view(self, view_id: Any = None, external_id: Any = None) -> dict[str, Any]:
        """The stored view by id or external_id, or ``not_found``."""
        for view in self.views.values():
            if (view_id and view["id"] == view_id) or (
                external_id and view["external_id"] == external_id
            ):
                return view
        raise SlackError(
            "not_found", f"no view with view_id={view_id!r} external_id={external_id!r}"
        )
