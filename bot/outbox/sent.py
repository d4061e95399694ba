"""Keep a copy of each sent email in the mailbox's Sent folder (IMAP APPEND).

The folder is the one the server marks `\\Sent` (RFC 6154: Gmail's "[Gmail]/Sent Mail",
Microsoft 365's "Sent Items"), else `SMTP_SENT_FOLDER`, else "Sent", created when missing.
A copy whose Message-ID is already in the folder is not appended again, so a retry (or a
provider that files SMTP mail itself) never leaves two copies.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from datetime import datetime

from bot.inbox.imap import connect, shutdown
from config.settings import ImapSettings

_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


def quote(name: str) -> str:
    """An IMAP quoted string (mailbox names may hold spaces: "Sent Items")."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def find_sent_folder(conn: imaplib.IMAP4, configured: str = "") -> str:
    """The folder for sent mail: configured, else marked `\\Sent`, else "Sent" (created)."""
    if configured:
        return configured
    typ, lines = conn.list()
    names: list[str] = []
    for line in lines if typ == "OK" else []:
        match = _LIST.match(line) if isinstance(line, bytes) else None
        if match is None:
            continue
        name = _unquote(match["name"])
        if b"\\sent" in match["flags"].lower():
            return name
        names.append(name)
    for name in names:
        if name.lower() in ("sent", "sent items", "sent messages"):
            return name
    conn.create(quote("Sent"))
    return "Sent"


def has_message(conn: imaplib.IMAP4, folder: str, message_id: str) -> bool:
    """Whether a message with this Message-ID is in `folder` already."""
    typ, _ = conn.select(quote(folder), readonly=True)
    if typ != "OK":
        return False
    typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", quote(message_id))
    return typ == "OK" and bool(data and data[0] and data[0].split())


def save_copy(
    imap: ImapSettings,
    raw: bytes,
    message_id: str,
    when: datetime,
    *,
    folder: str = "",
    timeout: float = 20.0,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Append `raw` (seen) to the Sent folder unless it is there already; returns the folder.

    Raises:
        ImapAuthError, OSError, imaplib.IMAP4.error: the copy could not be saved.
    """
    conn = connect(imap, timeout, ssl_context)
    try:
        target = find_sent_folder(conn, folder)
        if has_message(conn, target, message_id):
            return target
        typ, data = conn.append(quote(target), "(\\Seen)", imaplib.Time2Internaldate(when), raw)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"APPEND to {target} failed: {data!r}"[:300])
        return target
    finally:
        try:
            conn.logout()
        except Exception:
            shutdown(conn)
