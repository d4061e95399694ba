"""Compose an outgoing email with the standard library, from text nobody has to trust.

Every header is set through `email.message.EmailMessage` with `Address` objects, so names and
subjects are encoded (RFC 2047) and folded by the library. Before that, any line break or
control character in a header value is turned into a space: a subject like
"Hi\\r\\nBcc: everyone@example.com" stays one Subject header. Addresses are checked to be one
plain `local@domain` (IDN domains become punycode); anything else is refused with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

MAX_SUBJECT = 250
MAX_BODY = 100_000
MAX_REFERENCES = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,250}@[^<>\s\x00-\x1f\x7f]{1,250}>")
_ENCODED_WORD = re.compile(r"=\?")
_SPECIALS = re.compile(r'["(),:;<>@\[\]\\]+')
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*(\[\d+\])?\s*:", re.IGNORECASE)


class InvalidDraft(ValueError):
    """The draft cannot be sent as it is; the message says what to change."""


@dataclass(frozen=True)
class Draft:
    """What a person wrote and to whom: everything here may come from outside.

    Attributes:
        to: the recipient's address.
        subject: one line (line breaks become spaces).
        text: the plain-text body.
        to_name: the recipient's display name, optional.
        html: an optional HTML alternative of `text`.
        in_reply_to: the Message-ID answered (`<id@host>`), for threading.
        references: the thread's earlier Message-IDs, oldest first.
    """

    to: str
    subject: str
    text: str
    to_name: str = ""
    html: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)


def one_line(value: str, limit: int = MAX_SUBJECT) -> str:
    """`value` as one header-safe line: control characters and line breaks become spaces.

    An RFC 2047 encoded word ("=?utf-8?q?=0D=0ABcc...?=") is broken up too: the standard
    library decodes one when a header is set, even inside a quoted name, and wrote the line
    break it decoded to into the message, so a name or subject could add a Bcc.
    """
    line = " ".join(_CONTROL.sub(" ", value).split())[:limit]
    return _ENCODED_WORD.sub("= ?", line)


def display_name(value: str) -> str:
    """A recipient's name for the To header: one line, without address punctuation.

    The standard library folds a long quoted name badly (the quotes are lost and a `;` or
    `,` inside then reads as a group or a second address), so those characters go.
    """
    return one_line(_SPECIALS.sub(" ", value), 80)


def clean_address(value: str) -> str:
    """A plain `local@domain` address, lower-cased domain, IDN domain as punycode.

    Raises:
        InvalidDraft: the value is not exactly one address this bot can send to.
    """
    text = value.strip()
    local, at, domain = text.rpartition("@")
    shown = one_line(value, 80)
    if (
        not at
        or not _LOCAL.fullmatch(local)
        or ".." in local
        or local[0] == "."
        or local[-1] == "."
    ):
        raise InvalidDraft(f"'{shown}' is not an email address this bot can send to")
    try:
        ascii_domain = domain.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidDraft(f"'{shown}' has a domain that is not valid") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253 or not all(_LABEL.fullmatch(x) for x in labels):
        raise InvalidDraft(f"'{shown}' has a domain that is not valid")
    return f"{local}@{ascii_domain}"


def message_ids(values: tuple[str, ...] | list[str]) -> list[str]:
    """The well-formed Message-IDs among `values` (others are dropped), last `MAX_REFERENCES`."""
    found = [v.strip() for v in values if _MESSAGE_ID.fullmatch(v.strip())]
    return list(dict.fromkeys(found))[-MAX_REFERENCES:]


def reply_subject(subject: str) -> str:
    """`Re: subject`, without stacking prefixes ("Re: Re:", "AW:")."""
    line = one_line(subject)
    if _REPLY_PREFIX.match(line):
        return line
    return f"Re: {line}" if line else "Re: your message"


def new_message_id(sender: Address) -> str:
    """A fresh, globally unique Message-ID on the sender's domain."""
    return make_msgid(domain=sender.domain or "localhost")


def compose(draft: Draft, sender: Address, message_id: str, date: datetime) -> EmailMessage:
    """Build the message exactly as it will be sent (and saved to Sent).

    Args:
        draft: what to send; checked here.
        sender: the shared support address (`SMTP_FROM`).
        message_id: recorded before sending, so a retry sends the very same message.
        date: the Date header (timezone-aware).

    Raises:
        InvalidDraft: no recipient, no text, or a body over `MAX_BODY` characters.
    """
    to = clean_address(draft.to)
    text = draft.text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        raise InvalidDraft("The message is empty: write something to send")
    if len(text) > MAX_BODY or len(draft.html) > MAX_BODY * 4:
        raise InvalidDraft(f"The message is too long (over {MAX_BODY:,} characters)")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    local, _, domain = to.partition("@")
    msg["To"] = Address(display_name=display_name(draft.to_name), username=local, domain=domain)
    msg["Subject"] = one_line(draft.subject) or "(no subject)"
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    parent = message_ids([draft.in_reply_to])
    if parent:
        msg["In-Reply-To"] = parent[0]
    refs = message_ids([*draft.references, *parent])
    if refs:
        msg["References"] = " ".join(refs)
    msg.set_content(text + "\n", cte="quoted-printable")
    if draft.html.strip():
        msg.add_alternative(draft.html, subtype="html", cte="quoted-printable")
    return msg
