"""Block Kit as readable plain text: for terminal previews and the docs.

`to_text(payload)` shows roughly what Slack would: date tokens as their fallback, `<@U1>` as
`@U1`, entities unescaped, buttons as `[Claim]`, selects as `[Snooze… ▾]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_TOKEN = re.compile(r"<([^<>]*)>")


def unmark(text: str) -> str:
    """mrkdwn to plain text: tokens resolved, then `&lt;`, `&gt;`, `&amp;` unescaped."""

    def token(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!date^"):
            return inner.rsplit("|", 1)[-1]
        if inner.startswith("@"):
            return "@" + inner[1:]
        if inner.startswith("#"):
            return "#" + inner[1:].split("|")[0]
        if "|" in inner:
            url, label = inner.split("|", 1)
            return f"{label} ({url})"
        return inner

    text = _TOKEN.sub(token, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    return unmark(obj.get("text", "")) if isinstance(obj, Mapping) else ""


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind in ("static_select", "overflow"):
        return f"[{_text(element.get('placeholder')) or '…'} ▾]"
    if kind == "datepicker":
        return "[pick a date ▾]"
    if kind == "plain_text_input":
        return "[text…]"
    return f"[{kind}]"


def _block(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"## {_text(block.get('text'))}"]
    if kind == "divider":
        return ["----"]
    if kind == "section":
        lines = _text(block.get("text")).split("\n") if "text" in block else []
        for field in block.get("fields", []):
            lines.extend(_text(field).split("\n"))
        if "accessory" in block:
            lines[-1:] = [f"{lines[-1] if lines else ''}  {_element(block['accessory'])}"]
        return lines
    if kind == "context":
        return ["  " + line for e in block.get("elements", []) for line in _text(e).split("\n")]
    if kind == "actions":
        return ["  ".join(_element(e) for e in block.get("elements", []))]
    if kind == "input":
        optional = " (optional)" if block.get("optional") else ""
        return [f"{_text(block.get('label'))}{optional}: {_element(block.get('element', {}))}"]
    return [f"[{kind}]"]


def to_text(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
    """A message, view or list of blocks as plain text lines."""
    lines: list[str] = []
    if isinstance(payload, Mapping):
        if payload.get("type") == "modal":
            lines.append(f"=== {_text(payload.get('title'))} ===")
        blocks = payload.get("blocks", [])
    else:
        blocks = payload
    for block in blocks:
        lines.extend(_block(block))
    if isinstance(payload, Mapping) and payload.get("type") == "modal":
        buttons = [_text(payload.get(k)) for k in ("close", "submit") if k in payload]
        lines.append("  ".join(f"[{b}]" for b in buttons))
    return "\n".join(lines)
