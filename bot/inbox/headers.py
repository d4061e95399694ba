"""An email's headers: the parser's policy, and reading the values the inbox uses.

`POLICY` is `email.policy.default` except that a header object, once parsed, is kept for
its (name, value) and handed out again. `email.policy.default` parses a header every time it
is read: `get_content_type`, `get_param`, `get_filename` and `get_payload(decode=True)` each
parse the part's Content-Type (or Content-Disposition, Content-Transfer-Encoding) again, and
the header registry builds a new class on every read. The parser and the reader read the same
few headers about ten times per email, and the same values ("text/plain; charset=utf-8") in
most emails, so that parsing was half the cost of reading an ordinary email. Header objects
are immutable (a `str` with read-only attributes), so sharing one changes nothing a reader can
see. Only values up to `CACHED_VALUE` characters are kept, and at most `CACHED_HEADERS` of
them (the cache is emptied when full): its memory is bounded whatever mail comes in. Safe
between threads: a race only parses a value twice.

The readers below (`raw_headers`, `first`, `first_id`, `addresses`, `sender`, `read_date`)
turn raw header values into what `bot.inbox.parse.ParsedEmail` holds: decoded (RFC 2047 and
raw UTF-8, `bot.inbox.text`), addresses normalised and Message-IDs kept short
(`bot.inbox.ids`), each value read up to `HEADER_LIMIT` characters. None of them raises on a
malformed header: what cannot be read is "" (or a date with a note saying why).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from bot.inbox.ids import clean_text, message_ids, normalize_address
from bot.inbox.text import HEADER_LIMIT, decode_header_value

CACHED_VALUE = 1_000  # characters; longer values are parsed each time, as before
CACHED_HEADERS = 256

_parsed: dict[tuple[str, str], Any] = {}


class _RememberingPolicy(EmailPolicy):
    """`EmailPolicy` whose `header_fetch_parse` reuses a header object parsed before."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name") or len(value) > CACHED_VALUE:
            return super().header_fetch_parse(name, value)
        key = (name, value)
        header = _parsed.get(key)
        if header is None:
            header = super().header_fetch_parse(name, value)
            if len(_parsed) >= CACHED_HEADERS:
                _parsed.clear()
            _parsed[key] = header
        return header


POLICY = _RememberingPolicy()


def safely(call: Callable[[], Any], default: Any) -> Any:
    """`call()`, or `default` when the `email` package raises on a malformed message."""
    try:
        return call()
    except Exception:
        return default


def raw_headers(msg: Message) -> dict[str, tuple[str, ...]]:
    """Every header of `msg` by lower-case name, values as sent (no lone surrogates)."""
    found: dict[str, list[str]] = {}
    for name, value in safely(msg.raw_items, []):
        key = clean_text(str(name)).strip().lower()
        found.setdefault(key, []).append(clean_text(str(value)))
    return {k: tuple(v) for k, v in found.items()}


def first(headers: Mapping[str, tuple[str, ...]], name: str) -> str:
    """The first value of a header, or ""."""
    values = headers.get(name, ())
    return values[0] if values else ""


def first_id(value: str) -> str:
    """The first Message-ID in a Message-ID or In-Reply-To value, or ""."""
    found = message_ids(value[:HEADER_LIMIT], first=True)
    return found[0] if found else ""


def addresses(values: tuple[str, ...]) -> list[str]:
    """The normalised addresses of address headers (To), [] when unreadable."""
    try:
        pairs = getaddresses([decode_header_value(v[:HEADER_LIMIT]) for v in values])
    except Exception:
        return []
    found = (normalize_address(addr) for _, addr in pairs)
    return [addr for addr in found if addr]


def sender(value: str) -> tuple[str, str]:
    """(display name, normalised address) of a From header; the name may be encoded."""
    value = value[:HEADER_LIMIT]
    if not value:
        return "", ""
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    for name, addr in pairs:
        address = normalize_address(addr)
        if address:
            return decode_header_value(name), address
    return decode_header_value(value), ""


def read_date(value: str) -> tuple[datetime | None, str]:
    """A Date header as aware UTC, and "" (or None and a note saying it could not be read)."""
    if not value:
        return None, ""
    try:
        parsed = parsedate_to_datetime(decode_header_value(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, f"unreadable Date header {value[:60]!r}: date unknown"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), ""
