"""How long the signal journal keeps a finished delivery, and the compacted log it leaves.

The journal (`bot.repos.journal`) appends a line per delivery, status change and version, and
reads the whole file at every start: a store receiving a billing vendor's every event (each
renewal, invoice and charge of a million subscriptions) grew it by gigabytes a month, all read
again at each start. When a start finds that most of the file is deliveries finished long
ago, it writes the log again with only what is still needed:

- every delivery not finished (pending, failed, waiting), whatever its age;
- every delivery received in the `KEEP_DAYS` before the newest one (senders retry for days:
  Stripe for three; their keys keep refusing a second copy), with its body and its current
  status in one line;
- the newest delivery of each source (what the freshness alerts read: when it last sent);
- the newest applied state time of every resource (an older state is never applied).

Ages are counted from the newest delivery in the journal, not from the clock: a bot stopped
for a month keeps what it had. A delivery dropped and later sent again is applied again, which
changes nothing: versions keep older states out and care events are keyed by the delivery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store import dump_doc

KEEP_DAYS = 30
MIN_BYTES = 8 << 20  # a smaller log is read at start in well under a second: left as it is
FINAL = frozenset({"applied", "ignored"})


def kept_keys(docs: Mapping[str, dict[str, Any]], keep_days: int = KEEP_DAYS) -> set[str]:
    """The deliveries a compacted log keeps (see the module's list), by key."""
    times = {key: _received(doc) for key, doc in docs.items()}
    known = [t for t in times.values() if t is not None]
    if not known:
        return set(docs)
    since = max(known) - timedelta(days=keep_days)
    last: dict[str, tuple[datetime, str]] = {}
    keep = set()
    for key, doc in docs.items():
        received = times[key]
        if received is None or doc.get("status", "pending") not in FINAL or received >= since:
            keep.add(key)  # a time that cannot be read: kept, never dropped by mistake
        source = str(doc.get("source", ""))
        if received is not None and (source not in last or (received, key) > last[source]):
            last[source] = (received, key)
    keep.update(key for _, key in last.values())
    return keep


def worth_compacting(size: int, kept: int, total: int) -> bool:
    """A log of `size` bytes holding `total` deliveries is written again when it is big and
    at least half of its deliveries would go."""
    return size >= MIN_BYTES and kept * 2 <= total


def compacted_log(
    raw: bytes,
    keys: Iterable[str],
    docs: Mapping[str, dict[str, Any]],
    where: Mapping[str, tuple[int, int]],
    versions: Mapping[str, dict[str, Any]],
) -> bytes:
    """The log holding `keys`' deliveries as they stand now, then every version.

    Args:
        raw: the log as read (each kept delivery's body is read back from its own line).
        keys: the deliveries to keep.
        docs: every delivery as it stands now (a finished one's body may be left out).
        where: delivery key -> (offset, length) of the line that added it to `raw`.
        versions: resource -> its newest applied state (`{"id", "at", "owner"}`).
    """
    lines = []
    for key in sorted(keys, key=lambda k: (str(docs[k].get("received_at", "")), k)):
        doc = dict(docs[key])
        if "body" not in doc and key in where:
            offset, length = where[key]
            doc["body"] = json.loads(raw[offset : offset + length])["d"]["body"]
        lines.append(dump_doc({"d": doc}))
    lines += [dump_doc({"v": version}) for version in versions.values()]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _received(doc: Mapping[str, Any]) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(doc.get("received_at")))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
