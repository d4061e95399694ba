"""Tell human email from noise: auto-replies, bounces, read receipts, mailing lists, complaints.

`classify` looks at headers first (RFC 3834 `Auto-Submitted`, `X-Autoreply`, `Precedence`,
`List-Id`), then at the MIME report type (RFC 3464 delivery status, RFC 8098 read receipts,
RFC 5965 abuse reports), then at the sender and subject. Noise is counted, never posted; a
bounce also names the addresses that failed, so the ingest can record it on the subscriber.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.inbox.parse import ParsedEmail
from bot.inbox.text import ADDRESS, HEADER_LIMIT, SCAN_LIMIT

HUMAN = "human"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
READ_RECEIPT = "read_receipt"
MAILING_LIST = "mailing_list"
COMPLAINT = "complaint"
KINDS = (HUMAN, AUTO_REPLY, BOUNCE, READ_RECEIPT, MAILING_LIST, COMPLAINT)
NOISE_KINDS = KINDS[1:]

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:automatic reply|auto[- ]?reply|auto[- ]?response|autoresponse"
    r"|out of (?:the )?office|ooo\b|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique"
    r"|absence du bureau|respuesta autom[áa]tica|fuera de la oficina|risposta automatica"
    r"|fuori sede|automatisch antwoord|afwezig|autosvar|automatisk svar|fr[åa]nvaro|ferie"
    r"|vacation reply|on vacation|away from (?:the )?office)(?!\w)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:able|ed)|delivery status notification|returned mail|mail delivery"
    r" failed|delivery failure|failure notice|undelivered mail|delivery has failed|delivery"
    r" notification|unzustellbar|non remis|non recapitabile|onbestelbaar|olevererbart"
    r"|delayed mail|warning: could not send)",
    re.I,
)
_RECEIPT_SUBJECT = re.compile(r"^\s*(?:read|gelesen|lu|le[ií]do|letto|gelezen|läst)\s*:", re.I)
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)$", re.I)
_DAEMON_NAME = re.compile(r"mail delivery (?:subsystem|system)|mailer.?daemon|postmaster", re.I)
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "x-mailman-version", "mailing-list")
_DSN_FIELD = re.compile(
    r"^[ \t]*(final-recipient|original-recipient|action)[ \t]*:[ \t]*(.*)$", re.I | re.M
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_ORIGINAL_FOLLOWS = re.compile(
    r"^.*(?:original message|forwarded message|message follows|message headers follow|----- ?original|"
    r"the message that caused|below this line is a copy|technical details|for further assistance"
    r"|unsent message below).*$",
    re.I | re.M,
)


@dataclass(frozen=True)
class Classification:
    """What kind of email this is, why, and for a bounce which addresses failed."""

    kind: str
    reason: str
    bounced_addresses: tuple[str, ...] = ()

    @property
    def noise(self) -> bool:
        return self.kind != HUMAN


def classify(parsed: ParsedEmail) -> Classification:
    """Classify one parsed email as human mail or one kind of noise.

    The order matters: a spam complaint or a bounce often also carries `Auto-Submitted` or
    `Precedence: list`, so reports are recognised before auto-replies and lists.
    """
    report_type = parsed.report_type
    types = parsed.part_types
    if report_type == "feedback-report" or "message/feedback-report" in types:
        return Classification(COMPLAINT, "spam complaint (ARF feedback report)")
    content_class = parsed.header("content-class").lower()
    if (
        report_type == "disposition-notification"
        or "message/disposition-notification" in types
        or "urn:content-classes:mdn" in content_class
    ):
        return Classification(READ_RECEIPT, "read receipt (disposition notification)")
    bounce = _bounce(parsed)
    if bounce is not None:
        return bounce
    auto = _auto_reply(parsed)
    if auto is not None:
        return auto
    for name in _LIST_HEADERS:
        if parsed.header(name):
            return Classification(
                MAILING_LIST, f"mailing list or newsletter ({_title(name)} header)"
            )
    if parsed.header("precedence").strip().lower() == "list":
        return Classification(MAILING_LIST, "mailing list (Precedence: list)")
    if _RECEIPT_SUBJECT.match(parsed.subject) and not parsed.text.strip():
        return Classification(READ_RECEIPT, f"read receipt (subject {parsed.subject[:40]!r})")
    if _null_return_path(parsed):
        return Classification(
            BOUNCE,
            "sent with an empty Return-Path (<>), as delivery reports are",
            tuple(_text_addresses(parsed)),
        )
    return Classification(HUMAN, "no automated-mail markers")


def _bounce(parsed: ParsedEmail) -> Classification | None:
    local = parsed.from_address.partition("@")[0]
    is_dsn = parsed.report_type == "delivery-status" or any(
        t in parsed.part_types
        for t in ("message/delivery-status", "message/global-delivery-status")
    )
    failed_header = parsed.header("x-failed-recipients")
    if is_dsn:
        reason = "delivery status report (multipart/report)"
    elif failed_header:
        reason = "delivery failure (X-Failed-Recipients)"
    elif _DAEMON.match(local) or _DAEMON_NAME.search(parsed.from_name):
        reason = f"delivery failure from {parsed.from_address or parsed.from_name}"
    elif _BOUNCE_SUBJECT.match(parsed.subject) and (
        _null_return_path(parsed) or parsed.header("auto-submitted")
    ):
        reason = f"delivery failure (subject {parsed.subject[:50]!r})"
    else:
        return None
    failed, delayed = _dsn_recipients(parsed)
    if failed_header:
        failed += [a.lower() for a in ADDRESS.findall(failed_header[:HEADER_LIMIT])]
    if not failed and not delayed:
        failed = _text_addresses(parsed)
    if delayed and not failed:
        reason += ", delivery delayed (still being retried)"
    return Classification(BOUNCE, reason, tuple(dict.fromkeys(failed)))


def _dsn_recipients(parsed: ParsedEmail) -> tuple[list[str], list[str]]:
    """Failed and delayed recipients from the DSN fields (RFC 3464), per recipient block."""
    sources = [text for ctype, text in parsed.reports if "delivery-status" in ctype]
    if not sources and parsed.report_type == "delivery-status":
        sources = [parsed.full_text]  # a report whose MIME structure is broken: read the text
    failed: list[str] = []
    delayed: list[str] = []
    for source in sources:
        for block in _BLANK_LINE.split(source[:SCAN_LIMIT]):
            recipient, action = "", ""
            for name, value in _DSN_FIELD.findall(block):
                name = name.lower()
                if name == "action":
                    action = value.strip().lower()
                elif name == "final-recipient" or not recipient:
                    found = ADDRESS.search(value)
                    recipient = found.group(0).lower() if found else recipient
            if not recipient:
                continue
            if action in ("", "failed"):
                failed.append(recipient)
            elif action == "delayed":
                delayed.append(recipient)
    return failed, delayed


def _text_addresses(parsed: ParsedEmail, limit: int = 5) -> list[str]:
    """Addresses named in a bounce's own text, above the copy of the original message."""
    text = (parsed.text or parsed.full_text)[:SCAN_LIMIT]
    cut = _ORIGINAL_FOLLOWS.search(text)
    if cut:
        text = text[: cut.start()]
    own = {parsed.from_address, *parsed.to}
    found = []
    for address in ADDRESS.findall(text):
        address = address.lower().strip(".")
        if address not in own and not _DAEMON.match(address.partition("@")[0]):
            found.append(address)
    return list(dict.fromkeys(found))[:limit]


def _auto_reply(parsed: ParsedEmail) -> Classification | None:
    auto_submitted = parsed.header("auto-submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Classification(AUTO_REPLY, f"Auto-Submitted: {auto_submitted.split(';')[0]}")
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        value = parsed.header(name).strip()
        if value and value.lower() not in ("no", "false", "0"):
            return Classification(AUTO_REPLY, f"{_title(name)} header")
    precedence = parsed.header("precedence").strip().lower()
    if precedence in ("bulk", "auto_reply", "junk"):
        return Classification(AUTO_REPLY, f"Precedence: {precedence}")
    if _AUTO_SUBJECT.match(parsed.subject):
        return Classification(AUTO_REPLY, f"auto-reply subject {parsed.subject[:50]!r}")
    return None


def _null_return_path(parsed: ParsedEmail) -> bool:
    values = parsed.headers.get("return-path", ()) + parsed.headers.get("x-envelope-from", ())
    return any(v.strip() in ("<>", "") for v in values)


def _title(header: str) -> str:
    return "-".join(p.capitalize() for p in header.split("-"))
