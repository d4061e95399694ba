"""Cut a huge raw email down to what the reader uses, before the standard library parses it.

The standard library's MIME parser reads a message line by line in Python: a 2 MB part took
about 250 ms, and a 10 MB webhook body of short lines several seconds, all of it holding the
GIL. Nothing past the first `PART_LIMIT` bytes of a part is ever shown (Slack shows 40,000
characters), so `shrink` walks the MIME structure with byte searches (C speed) and cuts:

- each leaf part's body to `PART_LIMIT` bytes and `PART_LINES` lines (at a line end),
  recording the original encoded size in an `X-Care-Original-Size` header so an attachment is
  still listed with its size;
- every body after `TOTAL_LIMIT` bytes have been kept to nothing (same header);
- each header block to `HEADER_LIMIT` bytes, and a multipart to its first `MAX_PARTS` parts.

It never raises: whatever it cannot follow is left as it is (and then bounded by the byte
limits of the enclosing part). A message under `SHRINK_ABOVE` bytes and `SHRINK_ABOVE_LINES`
lines is returned unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SHRINK_ABOVE = 128 * 1024
SHRINK_ABOVE_LINES = 8_000  # the stdlib parser's cost is per line: many short lines cost too
PART_LIMIT = 128 * 1024
PART_LINES = 4_000
TOTAL_LIMIT = 256 * 1024
HEADER_LIMIT = 64 * 1024
MAX_PARTS = 100
MAX_DEPTH = 12
SIZE_HEADER = "X-Care-Original-Size"
_SEPARATOR = re.compile(rb"\r?\n\r?\n")
_CTYPE = re.compile(rb"^content-type:[ \t]*([^;\r\n]{1,100})", re.I | re.M)
_BOUNDARY = re.compile(rb"""boundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^;\s"]{1,200}))""", re.I)


@dataclass
class _Budget:
    left: int = TOTAL_LIMIT
    notes: list[str] = field(default_factory=list)


def shrink(raw: bytes) -> tuple[bytes, tuple[str, ...]]:
    """The message with oversized parts cut, and notes saying what was cut ("" when nothing)."""
    if len(raw) <= SHRINK_ABOVE and raw.count(b"\n") <= SHRINK_ABOVE_LINES:
        return raw, ()
    budget = _Budget()
    try:
        return _entity(raw, budget, 0), tuple(dict.fromkeys(budget.notes))
    except Exception:  # never: but a cut message is better than no message
        return raw[: TOTAL_LIMIT + HEADER_LIMIT], (
            "the message is very large: only its start is read",
        )


def _entity(raw: bytes, budget: _Budget, depth: int) -> bytes:
    """One MIME entity (headers, blank line, body), with its body cut to the limits."""
    found = _SEPARATOR.search(raw, 0, HEADER_LIMIT + 4)
    if found is None:  # no body, or a header block over the limit: keep the start of it
        if len(raw) > HEADER_LIMIT:
            budget.notes.append("the headers are very long: only their start is read")
            return _cut_line(raw, HEADER_LIMIT)
        return raw
    head, sep, body = raw[: found.start()], found.group(0), raw[found.end() :]
    ctype_match = _CTYPE.search(head)
    ctype = ctype_match.group(1).strip().lower() if ctype_match else b"text/plain"
    if depth < MAX_DEPTH and ctype.startswith(b"multipart/"):
        boundary = _BOUNDARY.search(head)
        if boundary:
            delimiter = boundary.group(1) or boundary.group(2)
            return head + sep + _multipart(body, delimiter, budget, depth)
    if depth < MAX_DEPTH and ctype in (b"message/rfc822", b"message/global"):
        return head + sep + _entity(body, budget, depth + 1)
    keep = min(PART_LIMIT, budget.left, _line_end(body, PART_LINES))
    if len(body) <= keep:
        budget.left -= len(body)
        return raw
    kept = _cut_line(body, keep)
    budget.left -= len(kept)
    budget.notes.append("a part is very large: only its start is read")
    newline = b"\r\n" if sep.startswith(b"\r") else b"\n"
    size = f"{SIZE_HEADER}: {len(body)}".encode()
    return head + newline + size + sep + kept


def _multipart(body: bytes, boundary: bytes, budget: _Budget, depth: int) -> bytes:
    delimiter = b"\n--" + boundary
    pieces = (b"\n" + body).split(delimiter)
    preamble, parts = pieces[0][1:], pieces[1:]
    out = [_cut_line(preamble, 4096)]
    for index, piece in enumerate(parts):
        if piece.startswith(b"--"):  # the closing delimiter and the epilogue
            out.append(piece[:2])
            break
        if index >= MAX_PARTS:
            budget.notes.append(f"the message has over {MAX_PARTS} parts: the rest are skipped")
            out.append(b"--\n")
            break
        line_end = piece.find(b"\n")
        if line_end < 0:
            out.append(piece)
            continue
        out.append(piece[: line_end + 1] + _entity(piece[line_end + 1 :], budget, depth + 1))
    return delimiter.join(out)


def _cut_line(data: bytes, limit: int) -> bytes:
    """The first `limit` bytes of `data`, ending at the last line end within them if any."""
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1] if end > 0 else data[:limit]


def _line_end(data: bytes, lines: int) -> int:
    """The length of the first `lines` lines of `data` (all of it when it has fewer)."""
    if data.count(b"\n", 0, lines * 200) < lines and len(data) <= lines * 200:
        return len(data)
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return len(data)
    return end + 1
