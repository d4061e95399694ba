"""Text helpers for Block Kit: escaping untrusted text, trimming, mentions, dates, tenure.

Money is put into words by `bot.money`, for every surface.

Slack parses `<...>` in mrkdwn (and in a message's fallback `text`) as mentions, channel
broadcasts and links. Anything that comes from outside the bot (subscriber names, emails,
plans, notes, email subjects and bodies, CSV fields) must go through `escape` before it is put
into a block, or a subscriber named `<!channel>` pings the whole channel.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")  # a cut-off "&amp;", "&lt;" or "&gt;"


def escape(text: object) -> str:
    """Escape untrusted text for Slack: `&`, then `<`, then `>`, exactly Slack's rule.

    Args:
        text: any value; None becomes "".

    Returns:
        The text with `&amp;`, `&lt;`, `&gt;` in place of the three control characters, so
        `<!channel>`, `<@U123>` and `<http://x|link>` ping and link nobody.
    """
    if text is None:
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, suffix: str = "…") -> str:
    """Shorten already-escaped text to at most `limit` characters, ending with `suffix`.

    A cut never splits an `&amp;`/`&lt;`/`&gt;` entity (that would show a stray `&am`).

    Args:
        text: text, usually the output of `escape`.
        limit: the maximum length of the result, suffix included.
        suffix: appended when the text was cut.
    """
    if len(text) <= limit:
        return text
    if limit <= len(suffix):
        return suffix[:limit]
    head = text[: limit - len(suffix)]
    head = _ENTITY_TAIL.sub("", head)
    return head.rstrip() + suffix


def clip(text: object, limit: int, suffix: str = "…") -> str:
    """Escape untrusted text and trim it to `limit` characters: `truncate(escape(text))`."""
    return truncate(escape(text), limit, suffix)


def one_line(text: object) -> str:
    """Collapse whitespace (newlines included) in untrusted text to single spaces; not escaped."""
    return " ".join(str(text or "").split())


def mention(user_id: str) -> str:
    """A mention of one of OUR Slack users (a claimant, a manager); never for outside text.

    Raises:
        ValueError: when `user_id` does not look like a Slack user id (U… or W…).
    """
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise ValueError(
            f"Not a Slack user id: {user_id!r}. Expected U or W followed by capitals/digits."
        )
    return f"<@{user_id}>"


def user_ref(user_id: str) -> str:
    """`mention(user_id)` when it is a user id, else the escaped text (never raises)."""
    if isinstance(user_id, str) and USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id) or "someone"


def channel_ref(channel: str) -> str:
    """A channel link `<#C123>` for a channel id, else the escaped name."""
    if CHANNEL_ID.match(channel or ""):
        return f"<#{channel}>"
    return escape(channel)


def link(url: str, label: str) -> str:
    """A mrkdwn link to a URL we trust (a Slack permalink); the label is escaped.

    An http(s) URL with `<`, `>`, `|` or whitespace in it is refused: the label is returned
    escaped, without a link.
    """
    safe_label = escape(label).replace("|", "/") or "link"
    if not re.match(r"^https?://[^\s<>|]+$", url or ""):
        return safe_label
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    """`dt` (naive means UTC) in the team's timezone."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


def slack_date(
    dt: datetime,
    fmt: str = "{date_short_pretty} at {time}",
    fallback: str | None = None,
    tz: ZoneInfo | None = None,
) -> str:
    """A `<!date^…>` token: Slack shows the time in each reader's own timezone.

    Args:
        dt: the moment; naive means UTC.
        fmt: Slack's date tokens, e.g. "{date_short} {time}".
        fallback: what old clients show; by default `dt` in `tz` (or UTC), e.g. "Jun 15 10:00 EDT".
        tz: the team's timezone for the default fallback.
    """
    aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    if fallback is None:
        shown = aware.astimezone(tz or UTC)
        fallback = shown.strftime("%b %d %H:%M ") + (shown.tzname() or "UTC")
    safe_fmt = fmt.replace("|", "").replace("<", "").replace(">", "").replace("^", "")
    return f"<!date^{int(aware.timestamp())}^{safe_fmt}|{escape(fallback).replace('|', '/')}>"


def day_label(day: date, today: date | None = None) -> str:
    """A short date: "today", "tomorrow", "yesterday", else "Mon Jun 15" (or with the year)."""
    if today is not None:
        delta = (day - today).days
        named = {0: "today", 1: "tomorrow", -1: "yesterday"}
        if delta in named:
            return named[delta]
        if today.year != day.year:
            return f"{day:%a %b} {day.day} {day.year}"
    return f"{day:%a %b} {day.day}"


def tenure(start: date | None, today: date) -> str:
    """How long someone has been a customer: "1 yr 3 mo", "5 mo", "12 days", "new".

    Args:
        start: first subscription start; None gives "unknown".
        today: the day to count to.
    """
    if start is None:
        return "unknown"
    if start > today:
        return "starts " + day_label(start)
    months = (today.year - start.year) * 12 + today.month - start.month
    if today.day < start.day:
        months -= 1
    if months <= 0:
        days = (today - start).days
        if days == 0:
            return "new today"
        return f"{days} day" + ("" if days == 1 else "s")
    years, months = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} yr")
    if months:
        parts.append(f"{months} mo")
    return " ".join(parts)


def file_size(size: int | None) -> str:
    """Bytes as "512 B", "1.2 KB", "3.4 MB"; None as "size unknown"."""
    if size is None or size < 0:
        return "size unknown"
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"  # pragma: no cover


def duration_minutes(minutes: float) -> str:
    """Minutes as "45 min", "3 h 10 min", "2 d 4 h"."""
    minutes = max(0, int(round(minutes)))
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def bullet_list(items: list[str], limit: int, more: str = "and {n} more") -> str:
    """Join already-escaped lines as "• a\\n• b", cut to `limit` chars with "and N more".

    Whole lines are dropped from the end until the rest and the "and N more" line fit; a
    single line too long on its own is trimmed.
    """
    lines = [f"• {item}" for item in items]
    if not lines:
        return ""
    total = sum(len(line) for line in lines) + len(lines) - 1
    if total <= limit:
        return "\n".join(lines)
    used = 0
    kept = 0
    for line in lines:
        dropped = len(lines) - kept - 1
        cost = len(line) + (1 if kept else 0)
        if used + cost + 1 + len(more.format(n=dropped)) > limit:
            break
        used += cost
        kept += 1
    if kept == 0:  # the first line alone is too long: trim it
        if len(lines) == 1:
            return truncate(lines[0], limit)
        tail = more.format(n=len(lines) - 1)
        return truncate(lines[0], max(limit - len(tail) - 1, 1)) + "\n" + tail
    return "\n".join(lines[:kept]) + "\n" + more.format(n=len(lines) - kept)


def unshown_note(failed: list[str], noun: str = "item", plural: str = "") -> str:
    """What a list view says of the records it could not show (`bot.guard.each_record`).

    "1 item could not be shown (id `q4m7x`): see the bot's log.", naming at most 5 ids.
    """
    count = len(failed)
    named = ", ".join("`" + clip(one_line(rid), 40).replace("`", "'") + "`" for rid in failed[:5])
    more = f" and {count - 5} more" if count > 5 else ""
    ids = f"id {named}" if count == 1 else f"ids {named}{more}"
    what = noun if count == 1 else plural or f"{noun}s"
    return f":warning: {count} {what} could not be shown ({ids}): see the bot's log."


def split_escaped(text: str, limit: int) -> list[str]:
    """Escape untrusted text and cut it into pieces of at most `limit` characters each.

    Pieces end at line breaks where possible; a line longer than `limit` is cut inside. No
    entity is ever split, and joining the pieces (unescaped) gives back every character.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in (text or "").split("\n"):
        for part in _hard_split(escape(line), line, limit):
            extra = len(part) + (1 if current else 0)
            if current and size + extra > limit:
                pieces.append("\n".join(current))
                current, size = [], 0
                extra = len(part)
            current.append(part)
            size += extra
    if current and any(current):
        pieces.append("\n".join(current))
    return pieces


def _hard_split(escaped: str, raw: str, limit: int) -> list[str]:
    if len(escaped) <= limit:
        return [escaped]
    parts = []
    start = 0
    while start < len(raw):
        n = min(limit, len(raw) - start)
        piece = escape(raw[start : start + n])
        while len(piece) > limit and n > 1:  # entities made it longer: shrink in proportion
            n = max(1, min(n - 1, n * limit // len(piece)))
            piece = escape(raw[start : start + n])
        parts.append(piece)
        start += n
    return parts
