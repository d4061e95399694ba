"""Turn email bytes into readable text: charsets, HTML, encoded headers, quotes and signatures.

HTML bodies are converted in `htmltext`. Everything here is forgiving: a wrong or unknown charset is guessed (charset-normalizer) or
decoded with replacement characters, never raised, and the caller gets a note saying so.
`split_new_text` keeps only what the sender wrote this time: quoted replies and the
signature are stripped (mail-parser-reply, plus a pass for bottom-posted and non-English
quotes), while forwarded content is kept, because in a shared inbox the forwarded customer
email is usually the point.

Every scan of outside text here is bounded: each pattern is linear in what it reads (no nested
or adjacent quantifiers over the same characters; the address pattern only starts a match at
the start of a run) and sees a capped slice (`SCAN_LIMIT`, `LINE_LIMIT`). mail-parser-reply's
own patterns are worse than quadratic (1,000 blank lines took 1.5 s), so it only ever sees a
short head of whole, short lines (`REPLY_SCAN_LIMIT`, `REPLY_LINE_LIMIT`).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email.header import decode_header
from functools import lru_cache
from typing import Any

from mailparser_reply.parser import EmailMessage

from bot.inbox.ids import clean_text

# Languages whose "On ... wrote:" / "From: ... Sent: ..." headers and signatures are recognised.
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "sv", "da")
# mail-parser-reply sees at most this head of the body, in whole lines of at most
# REPLY_LINE_LIMIT characters (its cost grows faster than the square of its input).
REPLY_SCAN_LIMIT = 1_500
REPLY_LINE_LIMIT = 200
# What any other pattern reads of a body, a header or one line.
SCAN_LIMIT = 100_000
HEADER_LIMIT = 2_000
LINE_LIMIT = 1_000

_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw)\s*:\s*)*(?:fwd?|fw|wg|tr|rv|vs|doorst)\s*:", re.I
)
_FORWARD_MARKER = re.compile(
    r"^[ \t>]*(?:-{2,}[ \t]*(?:forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]"
    r"|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande)"
    r"[ \t]*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:"
    r"|d[ée]but du message r[ée]exp[ée]di[ée]\s*:)[ \t]*$",
    re.I | re.M,
)
_ORIGINAL_MARKER = re.compile(
    r"^[ \t>]*(?:-{3,}[ \t]*original message[ \t]*-{3,}|_{20,})[ \t]*$|^[ \t>]*from:[ \t]+\S.*\n"
    r"(?:[ \t>]*\S.*\n){0,2}?[ \t>]*(?:sent|date|to|subject):",
    re.I | re.M,
)
_FROM_LINE = re.compile(r"^[ \t>*]*(?:from|von|de|da|van|fr[åa]n)[ \t*]*:[ \t]*(.+)$", re.I | re.M)
# An address starts where a run of address characters starts (the lookbehind), so a long run
# without "@" costs its length once, not its length squared.
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
ADDRESS = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@[\w-]+(?:\.[\w-]+)+")
_REPLY_PREFIX = re.compile(
    r"^[ \t]*(?:(?:re|aw|sv|vs|antw|antwort|r|rif|odp|fwd?|fw|wg|tr|rv|doorst)[ \t]*"
    r"(?:\[\d+\][ \t]*)?[:：][ \t]*)+",
    re.I,
)
_SPACES = re.compile(r"\s+")
_ASCII = bytes(range(128))
_BLANK_RUN = re.compile(r"\n{3,}")
_WRAPPED = re.compile(r"[ \t]*(?:<|[a-z]|[^\s@]+@)")
_DIGIT_OR_AT = re.compile(r"[\d@]")


def decode_bytes(data: bytes, charset: str | None, label: str) -> tuple[str, str]:
    """Decode body bytes, trusting the declared charset only when it works.

    Args:
        data: the transfer-decoded bytes of one part.
        charset: the declared charset, or None when the part declares none.
        label: how notes name the part, e.g. "part 2".

    Returns:
        The text and a human-readable note ("" when nothing was guessed or replaced).
    """
    declared = (charset or "").strip().strip('"').lower()
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            guessed = _guess(data)
            if guessed is not None:
                return guessed[
                    0
                ], f"{label} declares an unknown charset ({declared}): read as {guessed[1]}"
            return (
                data.decode("utf-8", errors="replace"),
                f"could not decode {label} (charset {declared}): shown with replacement characters",
            )
        try:
            return data.decode(declared), ""
        except UnicodeDecodeError:
            guessed = _guess(data)
            if guessed is not None:
                return guessed[0], f"{label} is not valid {declared}: read as {guessed[1]}"
            return (
                data.decode(declared, errors="replace"),
                f"could not decode {label} (charset {declared}): shown with replacement characters",
            )
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        pass
    guessed = _guess(data)
    if guessed is not None:
        return guessed[0], f"{label} declares no charset: read as {guessed[1]}"
    return (
        data.decode("cp1252", errors="replace"),
        f"could not decode {label} (no charset declared): shown with replacement characters",
    )


def _guess(data: bytes) -> tuple[str, str] | None:
    """(text, charset) by UTF-8, then a Western guess for mostly-ASCII text, then charset-normalizer.

    Mostly-ASCII text with a few 8-bit bytes is nearly always Windows-1252/Latin-1 (accents in
    Western languages); charset-normalizer guesses badly on such short samples, so it is only
    asked about text that is mostly non-ASCII (Cyrillic, Greek, CJK...).
    """
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:32_768]  # charset-normalizer's time grows with what it is given
    ascii_ratio = 1 - len(sample.translate(None, _ASCII)) / max(len(sample), 1)
    if ascii_ratio >= 0.8:
        try:
            return data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    from charset_normalizer import from_bytes  # slow to import; only needed for broken mail

    best = from_bytes(sample).best()
    if best is None:
        return None
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        return None


def decode_header_value(value: str) -> str:
    """A header value as text: RFC 2047 encoded words decoded, raw 8-bit bytes guessed, unfolded.

    Only the first HEADER_LIMIT characters are read (the stdlib's encoded-word scan is quadratic
    on a value full of "=?").
    """
    value = clean_text(value[:HEADER_LIMIT])
    if "=?" in value:
        try:
            chunks = []
            for chunk, charset in decode_header(value):
                if isinstance(chunk, str):
                    chunks.append(chunk)
                else:
                    chunks.append(decode_bytes(chunk, charset, "header")[0])
            value = "".join(chunks)
        except (ValueError, LookupError, AssertionError, IndexError):
            pass  # leave the encoded words as they are: still readable, never lost
    return _SPACES.sub(" ", value).strip()


def find_address(text: str) -> str:
    """The first email address in `text` (its first LINE_LIMIT characters), lower-cased, or ""."""
    found = ADDRESS.search(text[:LINE_LIMIT])
    return found.group(0).lower() if found else ""


def normalize_subject(subject: str) -> str:
    """A subject without Re:/Fwd:/AW:/SV:... prefixes, lower-cased, spaces collapsed."""
    subject = subject[:HEADER_LIMIT]
    return _SPACES.sub(" ", _REPLY_PREFIX.sub("", subject)).strip().lower()


@dataclass(frozen=True)
class NewText:
    """What the sender wrote this time, their signature, and any forwarded message kept."""

    text: str
    signature: str = ""
    forwarded: str = ""
    forwarded_from: str = ""


def split_new_text(body: str, subject: str = "") -> NewText:
    """Split a plain-text body into the new text, the signature and forwarded content.

    Quoted replies ("On ... wrote:" + "> ..." blocks, "-----Original Message-----",
    Outlook "From:/Sent:" headers) are dropped. A forward (a "Forwarded message" marker, or a
    Fwd:/FW: subject with an original-message header) keeps the forwarded part whole.
    """
    body = _tidy(body)
    forward_at = _forward_start(body, subject)
    if forward_at is not None:
        note = split_new_text(body[:forward_at]) if body[:forward_at].strip() else NewText("")
        forwarded = body[forward_at:].strip()
        match = _FROM_LINE.search(forwarded[:SCAN_LIMIT])
        return NewText(
            text=note.text,
            signature=note.signature,
            forwarded=forwarded,
            forwarded_from=find_address(match.group(1)) if match else "",
        )
    head = _reply_head(body)
    text, signature = body, ""
    try:
        parsed = EmailMessage(
            text=head, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True, **_reply_patterns()
        ).read()
        first = parsed.replies[0] if parsed.replies else None
        if first is not None and (len(parsed.replies) > 1 or first.signatures):
            text, signature = first.body, first.signatures  # it split within what it saw
    except Exception:  # a regex library on arbitrary input: never let it stop the ingest
        pass
    if not signature and len(head) < len(body):
        original = _ORIGINAL_MARKER.search(body[:SCAN_LIMIT])
        if original and body[: original.start()].strip():
            text = body[: original.start()]
    text = strip_quoted(text)
    if not text:
        text = strip_quoted(body) or body.strip()
        signature = ""
    return NewText(text=text, signature=signature.strip())


@lru_cache(maxsize=1)
def _reply_patterns() -> dict[str, Any]:
    """mail-parser-reply's three patterns, built once: it rebuilds them for every message
    (about 40 language lookups and joins each), though they depend only on the languages."""
    built = EmailMessage(text="", languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)
    return {
        "_header_regex": built.HEADER_REGEX,
        "_disclaimers_regex": built.DISCLAIMERS_REGEX,
        "_signature_regex": built.SIGNATURE_REGEX,
    }


def _tidy(body: str) -> str:
    """Unix line ends, no trailing spaces on lines, at most one blank line in a row."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    body = "\n".join(line.rstrip() for line in body.split("\n"))
    return _BLANK_RUN.sub("\n\n", body)


def _reply_head(body: str) -> str:
    """What mail-parser-reply may read: whole lines from the top, up to the limits."""
    taken, size = [], 0
    for line in body.split("\n", REPLY_SCAN_LIMIT // 2)[: REPLY_SCAN_LIMIT // 2]:
        if len(line) > REPLY_LINE_LIMIT or size + len(line) + 1 > REPLY_SCAN_LIMIT:
            break
        taken.append(line)
        size += len(line) + 1
    return "\n".join(taken)


def _forward_start(body: str, subject: str) -> int | None:
    head = body[:SCAN_LIMIT]
    marker = _FORWARD_MARKER.search(head)
    if marker:
        return marker.start()
    if _FORWARD_SUBJECT.match(subject[:HEADER_LIMIT]):
        original = _ORIGINAL_MARKER.search(head)
        if original:
            return original.start()
    return None


def strip_quoted(text: str) -> str:
    """Drop "> " quoted lines and the attribution line ("On ... wrote:") that introduces them."""
    lines = text.split("\n")
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        if not line.lstrip().startswith(">"):
            continue
        keep[i] = False
        if i and not lines[i - 1].lstrip().startswith(">"):
            _drop_attribution(lines, keep, i)
    kept = [line for line, k in zip(lines, keep, strict=True) if k]
    return _BLANK_RUN.sub("\n\n", "\n".join(kept)).strip()


def _drop_attribution(lines: list[str], keep: list[bool], quote_at: int) -> None:
    """Unmark the attribution just above a quote block: a line ending in ":" (and its wrap)."""
    j = quote_at - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0 or not lines[j].rstrip().endswith(":"):
        return
    keep[j] = False
    # A long attribution wraps: "... "bob@x.org" <" / "bob@x.org> wrote:".
    for _ in range(2):
        prev = j - 1
        if prev < 0 or not lines[prev].strip():
            return
        continues = lines[prev].rstrip().endswith(("<", ",", "(", '"')) or bool(
            _WRAPPED.match(lines[j][:LINE_LIMIT])
        )
        if not continues or not _DIGIT_OR_AT.search(lines[prev][:LINE_LIMIT]):
            return
        keep[prev] = False
        j = prev
