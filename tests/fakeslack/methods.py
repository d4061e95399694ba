"""The fake's Web API methods: each takes the workspace and the call's arguments, returns the answer.

Arguments arrive already merged from the query string, form or JSON body; values that Slack
takes as JSON strings in a form (blocks, view, attachments, metadata) are decoded here. A
handler raises ``SlackError`` for an error answer; the server adds ``"ok"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.fakeslack.blockkit import check_blocks, check_view
from tests.fakeslack.state import MODAL_STACK_LIMIT, SlackError, Workspace

Answer = dict[str, Any]
Handler = Callable[[Workspace, dict[str, Any]], Answer]
HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the Web API method ``name``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def json_arg(args: dict[str, Any], name: str, *, bad_format: str = "invalid_arguments") -> Any:
    """The argument decoded from JSON when it came as a string (form bodies), else as is."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(
                bad_format, f"{name}: not valid JSON ({exc})", violation=True
            ) from None
    return value


def flag(args: dict[str, Any], name: str) -> bool:
    """A boolean argument as Slack reads it (true/1 in forms, true in JSON)."""
    value = args.get(name)
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true"))


def message_content(args: dict[str, Any], *, require_content: bool = True) -> dict[str, Any]:
    """Text, blocks, attachments and metadata of a message, checked against Block Kit limits."""
    content: dict[str, Any] = {}
    if args.get("text") is not None:
        content["text"] = str(args["text"])
    if args.get("blocks") is not None:
        blocks = json_arg(args, "blocks", bad_format="invalid_blocks_format")
        problems = check_blocks(blocks, surface="message")
        if problems:
            raise SlackError("invalid_blocks", "; ".join(problems), violation=True)
        content["blocks"] = blocks
    for name in ("attachments", "metadata"):
        if args.get(name) is not None:
            content[name] = json_arg(args, name)
    if require_content and not (
        content.get("text") or content.get("blocks") or "attachments" in content
    ):
        raise SlackError("no_text", "a message needs text, blocks or attachments", violation=True)
    return content


def channel_arg(ws: Workspace, args: dict[str, Any], *, need_bot: bool = True) -> str:
    """The call's channel id; ``need_bot`` refuses channels the bot is not in (not_in_channel)."""
    channel_id = ws.resolve_channel(args.get("channel"))
    channel = ws.channels[channel_id]
    if need_bot and not channel["is_member"]:
        raise SlackError("not_in_channel", f"the bot is not a member of {channel_id}")
    return channel_id


def _message_or_error(ws: Workspace, channel_id: str, ts: Any) -> dict[str, Any]:
    msg = ws.find(channel_id, ts)
    if msg is None:
        raise SlackError("message_not_found", f"no message {ts!r} in {channel_id}")
    return msg


# -- identity ------------------------------------------------------------------------------


@method("auth.test")
def auth_test(ws: Workspace, args: dict[str, Any]) -> Answer:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.users[ws.bot_user_id]["name"],
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("team.info")
def team_info(ws: Workspace, args: dict[str, Any]) -> Answer:
    return {"team": {"id": ws.team_id, "name": ws.team_domain, "domain": ws.team_domain}}


@method("users.info")
def users_info(ws: Workspace, args: dict[str, Any]) -> Answer:
    user = ws.users.get(args["user"])
    if user is None:
        raise SlackError("user_not_found", f"user: no member {args['user']!r}")
    return {"user": user}


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: dict[str, Any]) -> Answer:
    wanted = str(args["email"]).lower()
    for user in ws.users.values():
        if user["profile"]["email"].lower() == wanted:
            return {"user": user}
    raise SlackError("users_not_found", f"email: no member with {wanted!r}")


@method("usergroups.users.list")
def usergroups_users_list(ws: Workspace, args: dict[str, Any]) -> Answer:
    users = ws.usergroups.get(args["usergroup"])
    if users is None:
        raise SlackError("no_such_subteam", f"usergroup: no group {args['usergroup']!r}")
    return {"users": list(users)}


# -- messages ------------------------------------------------------------------------------


@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args)
    if ws.channels[channel_id]["is_archived"]:
        raise SlackError("is_archived", f"{channel_id} is archived")
    content = message_content(args)
    msg = ws.post(
        channel_id,
        ws.bot_user_id,
        content,
        thread_ts=args.get("thread_ts") or None,
        broadcast=flag(args, "reply_broadcast"),
    )
    return {"channel": channel_id, "ts": msg["ts"], "message": msg}


@method("chat.update")
def chat_update(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    changes = message_content(args, require_content=False)
    if not changes:
        raise SlackError("no_text", "chat.update needs text, blocks or attachments", violation=True)
    msg = ws.update(channel_id, args["ts"], changes)
    return {"channel": channel_id, "ts": msg["ts"], "text": msg.get("text", ""), "message": msg}


@method("chat.delete")
def chat_delete(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    ws.delete(channel_id, args["ts"])
    return {"channel": channel_id, "ts": args["ts"]}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args)
    user_id = args["user"]
    if not ws.is_member(channel_id, user_id):
        raise SlackError("user_not_in_channel", f"user {user_id!r} is not in {channel_id}")
    content = message_content(args)
    entry = {
        "channel": channel_id,
        "user": user_id,
        "message_ts": ws.next_ts(),
        "thread_ts": args.get("thread_ts"),
        "source": "chat.postEphemeral",
        **content,
    }
    ws.ephemerals.append(entry)
    return {"message_ts": entry["message_ts"]}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    msg = _message_or_error(ws, channel_id, args["message_ts"])
    link = f"https://{ws.team_domain}.slack.com/archives/{channel_id}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts", msg["ts"]) != msg["ts"]:
        link += f"?thread_ts={msg['thread_ts']}&cid={channel_id}"
    return {"channel": channel_id, "permalink": link}


@method("reactions.add")
def reactions_add(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    msg = _message_or_error(ws, channel_id, args["timestamp"])
    name = str(args["name"]).strip(":")
    reactions = msg.setdefault("reactions", [])
    for reaction in reactions:
        if reaction["name"] == name:
            if ws.bot_user_id in reaction["users"]:
                raise SlackError("already_reacted", f":{name}: is already on {msg['ts']}")
            reaction["users"].append(ws.bot_user_id)
            reaction["count"] += 1
            return {}
    reactions.append({"name": name, "users": [ws.bot_user_id], "count": 1})
    return {}


# -- conversations -------------------------------------------------------------------------


def _page(messages: list[dict[str, Any]], args: dict[str, Any]) -> Answer:
    """Filter by oldest/latest/inclusive and cut one page at ``limit`` with a cursor."""
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    inclusive = flag(args, "inclusive")

    def within(m: dict[str, Any]) -> bool:
        ts = float(m["ts"])
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest or (ts == oldest == 0)

    selected = [m for m in messages if within(m)]
    cursor = args.get("cursor") or "0"
    if not str(cursor).isdigit():
        raise SlackError("invalid_cursor", f"cursor: {cursor!r} was not given by this API")
    start, limit = int(cursor), int(args.get("limit") or 100)
    page = selected[start : start + limit]
    more = start + limit < len(selected)
    return {
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


@method("conversations.history")
def conversations_history(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args)
    newest_first = list(reversed(ws.top_level(channel_id)))
    return _page(newest_first, args)


@method("conversations.replies")
def conversations_replies(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    thread = ws.thread(channel_id, args["ts"])
    if not thread:
        raise SlackError("thread_not_found", f"ts: no message {args['ts']!r} in {channel_id}")
    answer = _page(thread[1:], args)
    answer["messages"] = [thread[0], *answer["messages"]]
    return answer


@method("conversations.info")
def conversations_info(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    info = {k: v for k, v in ws.channels[channel_id].items() if k != "members"}
    return {"channel": info}


@method("conversations.join")
def conversations_join(ws: Workspace, args: dict[str, Any]) -> Answer:
    channel_id = channel_arg(ws, args, need_bot=False)
    channel = ws.channels[channel_id]
    if channel["is_archived"]:
        raise SlackError("is_archived", f"{channel_id} is archived")
    if channel["is_private"] or channel["is_im"]:
        raise SlackError("method_not_supported_for_channel_type", f"{channel_id} is not public")
    channel["is_member"] = True
    return {"channel": {k: v for k, v in channel.items() if k != "members"}}


# -- views ---------------------------------------------------------------------------------


def view_arg(args: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """The decoded view, checked against Block Kit limits (Slack answers invalid_arguments)."""
    view = json_arg(args, "view")
    problems = check_view(view)
    if not problems and kind and view.get("type") != kind:
        problems = [f"view.type: {view.get('type')!r}, this method takes a {kind}"]
    if problems:
        raise SlackError("invalid_arguments", "; ".join(problems), violation=True)
    return view


def _trigger(ws: Workspace, args: dict[str, Any]) -> str:
    return ws.exchange_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))


@method("views.open")
def views_open(ws: Workspace, args: dict[str, Any]) -> Answer:
    view = view_arg(args, "modal")
    user_id = _trigger(ws, args)
    stored = ws.store_view(view)
    ws.modal_stacks[user_id] = [stored["id"]]
    return {"view": stored}


@method("views.push")
def views_push(ws: Workspace, args: dict[str, Any]) -> Answer:
    view = view_arg(args, "modal")
    user_id = _trigger(ws, args)
    stack = ws.modal_stacks.setdefault(user_id, [])
    if len(stack) >= MODAL_STACK_LIMIT:
        raise SlackError("push_limit_reached", f"{user_id} already has {len(stack)} modals open")
    stored = ws.store_view(view)
    stored["previous_view_id"] = stack[-1] if stack else None
    stored["root_view_id"] = stack[0] if stack else stored["id"]
    stack.append(stored["id"])
    return {"view": stored}


@method("views.update")
def views_update(ws: Workspace, args: dict[str, Any]) -> Answer:
    if not args.get("view_id") and not args.get("external_id"):
        raise SlackError(
            "invalid_arguments", "views.update needs view_id or external_id", violation=True
        )
    current = ws.find_view(args.get("view_id"), args.get("external_id"))
    view = view_arg(args, current["type"])
    if args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict", "the view changed since that hash was read")
    return {"view": ws.store_view(view, view_id=current["id"])}


@method("views.publish")
def views_publish(ws: Workspace, args: dict[str, Any]) -> Answer:
    user_id = args["user_id"]
    if user_id not in ws.users:
        raise SlackError("invalid_arguments", f"user_id: no member {user_id!r}", violation=True)
    view = view_arg(args, "home")
    current = ws.views.get(ws.homes.get(user_id, ""))
    if args.get("hash") and current and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict", "the Home tab changed since that hash was read")
    stored = ws.store_view(view, view_id=current["id"] if current else None)
    ws.homes[user_id] = stored["id"]
    return {"view": stored}
