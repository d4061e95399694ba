"""The body of one email: its MIME tree walked for text, attachments and reports.

`BodyReader` walks a parsed message once: inline text parts (HTML made readable text,
`bot.inbox.htmltext`; charsets decoded or guessed with a note, `bot.inbox.text`) in order,
the best part of each `multipart/alternative`, attached messages rendered as forwards with
their sender, attachments listed by name and size (their content is not kept), and
machine-readable report parts (bounces, read receipts) kept for the filters, never shown as
text. Malformed structure becomes a note, never an exception; the walk stops `MAX_DEPTH`
parts down and reads `MAX_TEXT_PART` characters of a text part. `bot.inbox.parse` puts
these together with the headers (`bot.inbox.headers`) into a `ParsedEmail`.
"""

from __future__ import annotations

from email.message import Message
from typing import NamedTuple

from bot.inbox.headers import first, raw_headers, safely, sender
from bot.inbox.htmltext import html_to_text
from bot.inbox.shrink import SIZE_HEADER
from bot.inbox.text import decode_bytes, decode_header_value

# Machine-readable report parts: read by the filters, never shown as text.
REPORT_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
    }
)
MAX_TEXT_PART = 100_000  # characters of one text part that are read (Slack shows 40,000)
MAX_DEPTH = 12

_DEFECT_WORDS = {
    "StartBoundaryNotFoundDefect": "a multipart boundary is missing",
    "CloseBoundaryNotFoundDefect": "a multipart section is not closed",
    "NoBoundaryInMultipartDefect": "a multipart part declares no boundary",
    "MultipartInvariantViolationDefect": "the multipart structure is inconsistent",
    "MissingHeaderBodySeparatorDefect": "the headers run into the body",
    "FirstHeaderLineIsContinuationDefect": "the first header line is a continuation",
    "InvalidBase64PaddingDefect": "base64 padding is damaged",
    "InvalidBase64CharactersDefect": "base64 data has invalid characters",
    "InvalidBase64LengthDefect": "base64 data has an invalid length",
    "MisplacedEnvelopeHeaderDefect": "an envelope line sits among the headers",
}


class Attachment(NamedTuple):
    """An attachment as listed in triage: name and size in bytes (content is not kept)."""

    filename: str
    size: int


class BodyReader:
    """One pass over a message's MIME tree, collecting text, attachments, reports and notes."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.bodies: list[str] = []  # inline text parts, in order
        self.forwards: list[tuple[str, str]] = []  # (rendered forwarded message, its sender)
        self.attachments: list[Attachment] = []
        self.reports: list[tuple[str, str]] = []
        self.part_types: set[str] = set()
        self.counter = 0

    def walk(self, part: Message, depth: int) -> None:
        """Read `part` and everything inside it, `depth` levels down the tree."""
        self.counter += 1
        label = f"part {self.counter}"
        ctype = safely(part.get_content_type, "application/octet-stream")
        self.part_types.add(ctype)
        if depth > MAX_DEPTH:
            self.notes.append(f"{label} is nested too deeply: skipped")
            return
        if ctype in REPORT_TYPES:
            self.reports.append((ctype, _report_text(part)))
            return
        if ctype in ("message/rfc822", "message/global"):
            self._forwarded(part, depth)
            return
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative" and children:
                children = [_best_alternative(children)]
            for child in children:
                self.walk(child, depth + 1)
            return
        disposition = safely(part.get_content_disposition, None)
        filename = safely(part.get_filename, None)
        inline = disposition == "inline" or (disposition is None and not filename)
        if ctype.startswith("multipart/"):  # a multipart whose boundary is lost: read it raw
            inline, ctype = True, "text/plain"
        if ctype in ("text/plain", "text/html") and inline:
            text = self._text(part, label)
            if text.strip():
                self.bodies.append(html_to_text(text) if ctype == "text/html" else text)
            return
        self._attachment(part, label, ctype, filename)

    def _text(self, part: Message, label: str) -> str:
        data = _payload_bytes(part)
        text, note = decode_bytes(data, safely(part.get_content_charset, None), label)
        if note:
            self.notes.append(note)
        if len(text) > MAX_TEXT_PART:
            self.notes.append(
                f"{label} is very long: only the first {MAX_TEXT_PART:,} characters are read"
            )
            text = text[:MAX_TEXT_PART]
        return text

    def _attachment(self, part: Message, label: str, ctype: str, filename: str | None) -> None:
        size = len(_payload_bytes(part))
        original = str(safely(lambda: part.get(SIZE_HEADER, ""), "")).strip()
        # Cut by shrink(): estimate the decoded size from the encoded one. A sender may write
        # the header too: only a plain number of up to 12 digits (under 1 TB) is read.
        if original.isascii() and original.isdigit() and len(original) <= 12:
            encoded = int(original)
            base64 = str(safely(lambda: part.get("content-transfer-encoding", ""), "")).lower()
            size = encoded * 57 // 78 if "base64" in base64 else encoded
        name = decode_header_value(filename) if filename else f"unnamed {ctype} ({label})"
        self.attachments.append(Attachment(name, size))

    def _forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self.notes.append(f"part {self.counter} is an attached message that could not be read")
            return
        headers = raw_headers(inner)
        sub = BodyReader()
        sub.counter = self.counter
        sub.walk(inner, depth + 1)
        self.counter = sub.counter
        self.notes.extend(sub.notes)
        self.attachments.extend(sub.attachments)
        self.reports.extend(sub.reports)
        self.part_types |= sub.part_types
        lines = ["---------- Forwarded message ----------"]
        for name in ("from", "date", "subject", "to"):
            value = decode_header_value(first(headers, name))
            if value:
                lines.append(f"{name.capitalize()}: {value}")
        body = "\n\n".join(b.strip() for b in sub.bodies + [f for f, _ in sub.forwards])
        self.forwards.append(("\n".join(lines) + "\n\n" + body, sender(first(headers, "from"))[1]))

    def note_defects(self, msg: Message) -> None:
        """A note for each structural defect the parser found in any part of `msg`."""
        for i, part in enumerate(safely(lambda: list(msg.walk()), [msg]), start=1):
            for defect in getattr(part, "defects", ()):
                words = _DEFECT_WORDS.get(type(defect).__name__)
                if words:
                    where = "the message" if i == 1 else f"part {i}"
                    self.notes.append(
                        f"malformed MIME in {where}: {words}; showing what could be read"
                    )


def _best_alternative(children: list[Message]) -> Message:
    """The plain-text alternative when it has text, else HTML, else the richest part."""
    by_type: dict[str, Message] = {}
    for child in children:
        by_type.setdefault(safely(child.get_content_type, ""), child)
    plain = by_type.get("text/plain")
    if plain is not None and _payload_bytes(plain).strip():
        return plain
    for kind in ("text/html", "multipart/related", "multipart/mixed"):
        if kind in by_type:
            return by_type[kind]
    return children[-1]


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = safely(part.get_payload, "")
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _report_text(part: Message) -> str:
    """A report part as "Name: value" lines, one blank-line-separated block per recipient."""
    payload = safely(part.get_payload, "")
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append("\n".join(f"{k}: {v}" for k, v in safely(block.raw_items, [])))
        return "\n\n".join(blocks)
    data = _payload_bytes(part)
    return data.decode("utf-8", errors="replace")
