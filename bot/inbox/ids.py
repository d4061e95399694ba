"""Addresses and Message-IDs as the inbox stores and compares them (RFC 5322, RFC 6532).

The standard library reads header bytes as ASCII with `surrogateescape`, so a raw UTF-8
address (`josé@exämple.com`, sent over SMTPUTF8) arrives as lone surrogates that no JSON
encoder will write. `clean_text` turns them back into text (UTF-8 as RFC 6532 says, else
Windows-1252 for legacy 8-bit headers) and guarantees a storable string whatever came in. Addresses and ids are then normalised (Unicode NFC, lower-cased addresses, IDNA
domains in Unicode), so the same sender or thread is recognised however it was encoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata

MAX_ADDRESS = 320  # RFC 5321: 64 + 1 + 255
MAX_ID = 250  # longer Message-IDs are replaced by a digest of themselves
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_RUN = re.compile("[\udc80-\udcff]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")
_ANGLED = re.compile(r"<[^<>\s]+>")


def clean_text(value: str) -> str:
    """`value` made storable: surrogate-escaped bytes (raw header bytes the stdlib parser read)
    decoded as UTF-8, else Windows-1252, and any other lone surrogate replaced."""
    if not _SURROGATE.search(value):
        return value
    return _SURROGATE.sub("\ufffd", _ESCAPED_RUN.sub(_decode_run, value))


def _decode_run(match: re.Match[str]) -> str:
    raw = match.group(0).encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def normalize_address(address: str) -> str:
    """`Local@Domain` as compared and stored: NFC, lower case, IDNA domain in Unicode.

    Returns "" for something that is not an address (no "@", spaces, control characters, or
    longer than RFC 5321 allows).
    """
    address = clean_text(address).strip().strip("<>").strip()
    if "@" not in address or len(address) > MAX_ADDRESS or _CONTROL.search(address):
        return ""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return ""
    local = unicodedata.normalize("NFC", local).lower()
    return f"{local}@{_domain(domain)}"


def _domain(domain: str) -> str:
    labels = []
    for label in unicodedata.normalize("NFC", domain).lower().strip(".").split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError, ValueError):  # bad punycode: keep it
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return ".".join(labels)


def normalize_id(message_id: str) -> str:
    """A Message-ID as a dedupe and threading key: `<...>`, NFC, no spaces, at most MAX_ID."""
    inner = _CONTROL.sub("", unicodedata.normalize("NFC", clean_text(message_id))).strip("<>")
    if not inner:
        return ""
    if len(inner) + 2 > MAX_ID:
        digest = hashlib.sha256(inner.encode("utf-8")).hexdigest()[:32]
        return f"<{digest}@long-id.proactive-care>"
    return f"<{inner}>"


def message_ids(value: str, first: bool = False) -> list[str]:
    """The normalised Message-IDs in a header value (Message-ID, In-Reply-To, References).

    With `first`, only the first one, and a bare id without angle brackets is accepted too.
    """
    value = clean_text(value).strip()
    if not value:
        return []
    if first:
        match = _ANGLED.search(value)
        token = match.group(0) if match else value.split()[0]
        normalized = normalize_id(token)
        return [normalized] if normalized else []
    found = (normalize_id(m) for m in _ANGLED.findall(value))
    return [m for m in found if m]
