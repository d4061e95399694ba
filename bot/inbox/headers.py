"""The standard library's modern email policy, with each parsed header value remembered.

`email.policy.default` parses a header every time it is read: `get_content_type`,
`get_param`, `get_filename` and `get_payload(decode=True)` each parse the part's
Content-Type (or Content-Disposition, Content-Transfer-Encoding) again, and the header
registry builds a new class on every read. The parser and the reader read the same few
headers about ten times per email, and the same values ("text/plain; charset=utf-8") in
most emails, so that parsing was half the cost of reading an ordinary email.

`POLICY` is `email.policy.default` except that a header object, once parsed, is kept for
its (name, value) and handed out again: header objects are immutable (a `str` with
read-only attributes), so sharing one changes nothing a reader can see. Only values up to
`CACHED_VALUE` characters are kept, and at most `CACHED_HEADERS` of them (the cache is
emptied when full): its memory is bounded whatever mail comes in. Safe between threads:
a race only parses a value twice.
"""

from __future__ import annotations

from email.policy import EmailPolicy
from typing import Any

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
