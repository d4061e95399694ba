"""The synthetic mail of the `inbox` benchmark, and the real corpus it is timed with.

`synthetic_email(i)` is message number `i`: deterministic, so a stream of 10,000 can be
generated one at a time and never held. One in 20 of each kind in `KINDS`: plain text,
HTML-only, plain + HTML, replies quoting the message they answer (In-Reply-To), a PDF
attachment, cancel requests, out-of-office replies (RFC 3834), delivery failures (RFC 3464
reports about a subscriber's address) and newsletters. 7 in 10 senders are subscribers
(`subscribers()`), the rest strangers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from benchmarks import ROOT

SUBSCRIBERS = 5_000
START = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)  # Monday 09:30 in New York
CORPUS = ROOT.parent / "shared" / "email-corpus"
SUBJECTS = (
    ("Where is my box?", "It has not arrived yet and the tracking page says nothing."),
    ("Charged twice this month", "I see two charges on my card, can I get a refund?"),
    ("Skip next month please", "We are travelling, please skip the next delivery."),
    ("New address", "We moved: please send the next box to 12 Elm Street."),
    ("Damaged jar", "One jar arrived broken, the box was soaked."),
    ("Question about my plan", "Can I add a second box for my sister?"),
    ("Love the last box", "Just wanted to say the tea selection was great."),
)
KINDS = (
    *["plain"] * 7,
    *["html"] * 3,
    *["alternative"] * 2,
    *["reply"] * 3,
    "attachment",
    "cancel",
    "auto_reply",
    "bounce",
    "newsletter",
)


def message_id(i: int) -> str:
    return f"<bench-{i}@mail.example.com>"


def sender_of(i: int) -> tuple[str, str]:
    """(name, address) of message `i`: 7 in 10 from a subscriber, the rest from strangers."""
    if i % 10 < 7:
        j = (i * 7919) % SUBSCRIBERS
        return f"Customer {j}", f"customer{j}@example.com"
    return f"Stranger {i}", f"someone{i}@elsewhere.example"


def kind_of(i: int) -> str:
    """Which kind of message `i` is; replies answer message `i - 12`, a plain one."""
    kind = KINDS[i % len(KINDS)]
    return "plain" if kind == "reply" and i < 12 else kind


def synthetic_email(i: int) -> bytes:
    """Message number `i` of the benchmark's mail: deterministic, varied (see `KINDS`)."""
    kind = kind_of(i)
    if kind == "bounce":
        return _bounce(i)
    name, address = sender_of(i)
    subject, body = SUBJECTS[i % len(SUBJECTS)]
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "support@shop.example"
    msg["Date"] = format_datetime(START + timedelta(minutes=i))
    msg["Message-ID"] = message_id(i)
    text = f"Hi,\n\n{body}\n\nOrder #{10_000 + i}.\n\nThanks,\n{name}\n"
    if kind == "reply":
        parent = i - 12
        p_name, p_address = sender_of(parent)
        p_subject, p_body = SUBJECTS[parent % len(SUBJECTS)]
        msg.replace_header("From", f"{p_name} <{p_address}>")
        msg["Subject"] = f"Re: {p_subject}"
        msg["In-Reply-To"] = msg["References"] = message_id(parent)
        quoted = "\n".join(f"> {line}" for line in p_body.splitlines())
        msg.set_content(f"Any news on this?\n\nOn Mon, 15 Jun 2026, {p_name} wrote:\n{quoted}\n")
    elif kind == "auto_reply":
        msg["Subject"] = f"Automatic reply: {subject}"
        msg["Auto-Submitted"] = "auto-replied"
        msg.set_content("I am out of the office until Monday and will reply then.")
    elif kind == "newsletter":
        msg.replace_header("From", "Deals <news@deals.example>")
        msg["Subject"] = f"This week's deals #{i}"
        msg["List-Unsubscribe"] = "<mailto:unsubscribe@deals.example>"
        msg.set_content("Big savings this week only.\n" * 20)
    else:
        msg["Subject"] = "Please cancel my subscription" if kind == "cancel" else subject
        if kind == "cancel":
            text = "Hi,\n\nI want to cancel my subscription, it is too expensive.\n\nThanks\n"
        html = "<html><body><p>" + text.replace("\n\n", "</p><p>") + "</p></body></html>"
        if kind == "html":
            msg.set_content(html, subtype="html")
        else:
            msg.set_content(text)
            if kind == "alternative":
                msg.add_alternative(html, subtype="html")
            elif kind == "attachment":
                pdf = b"%PDF-1.4\n" + bytes(range(256)) * 8
                msg.add_attachment(pdf, "application", "pdf", filename=f"receipt-{i}.pdf")
    return msg.as_bytes()


def _bounce(i: int) -> bytes:
    """A delivery failure report (RFC 3464) about an earlier message to a subscriber."""
    failed = f"customer{(i * 31) % SUBSCRIBERS}@example.com"  # a subscriber: recorded
    date = format_datetime(START + timedelta(minutes=i))
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.shop.example>\r\n"
        "To: support@shop.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: {message_id(i)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="b{i}"\r\n'
        "\r\n"
        f"--b{i}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system. Your message to <{failed}> could not be delivered.\r\n"
        f"--b{i}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.shop.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        f"--b{i}--\r\n"
    ).encode()


def corpus_messages() -> list[Path]:
    """Every email in ../shared/email-corpus (licences, READMEs and expected texts left out)."""
    paths = [
        p
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file() and p.suffix in (".eml", ".txt") and "LICENSE" not in p.name
    ]
    return paths


def subscribers(count: int = SUBSCRIBERS) -> list[Any]:
    """The customers the synthetic mail comes from (7 in 10 messages match one)."""
    from bot.models import Subscriber, Subscription

    started = START.date() - timedelta(days=120)
    return [
        Subscriber(
            id=f"cus_{j:05d}",
            email=f"customer{j}@example.com",
            name=f"Customer {j}",
            source="stripe",
            first_started=started,
            subscriptions=[
                Subscription(id=f"sub_{j}", plan="Classic", amount=29.0, started=started)
            ],
        )
        for j in range(count)
    ]


def crafted_emails() -> dict[str, bytes]:
    """Hostile and oversized mail that must still parse fast (issue 8): name -> raw bytes.

    A forward whose "From:" line is 120,000 letters (inline and as an attached message), a
    2 MB text part, a 2 MB HTML part, a 2 MB attachment, and bodies built against the reply
    splitter's patterns (blank lines, "On ..." without "wrote:", deep quotes).
    """
    letters = "a" * 120_000
    inline = _plain(
        "Fwd: crafted",
        f"see below\n\n---------- Forwarded message ----------\nFrom: {letters}\nDate: x\n\nhi",
    )
    inner = EmailMessage(policy=SMTP)
    inner["From"], inner["Subject"] = letters, "inner"
    inner.set_content("Please cancel.")
    attached = EmailMessage(policy=SMTP)
    attached["From"], attached["Subject"] = "kim@shop.example", "Fwd: inner"
    attached["Message-ID"] = "<crafted-attached@bench>"
    attached.set_content("Can someone take this?")
    attached.add_attachment(inner)
    html = EmailMessage(policy=SMTP)
    html["From"], html["Subject"], html["Message-ID"] = "ann@example.com", "big", "<html2m@b>"
    html.set_content("<p>Hello <b>there</b>, a paragraph.</p>\n" * 50_000, subtype="html")
    attachment = EmailMessage(policy=SMTP)
    attachment["From"], attachment["Message-ID"] = "ann@example.com", "<att2m@bench>"
    attachment.set_content("Photos attached.")
    attachment.add_attachment(
        b"\x89PNG" * 500_000, maintype="image", subtype="png", filename="a.png"
    )
    return {
        "forward with a 120k-letter From line": inline,
        "attached forward, 120k-letter From header": attached.as_bytes(),
        "2 MB text part": _plain("big", "A line of text, not very long.\n" * 67_000),
        "2 MB HTML part": html.as_bytes(),
        "2 MB attachment": attachment.as_bytes(),
        "50,000 blank lines": _plain("Re: x", "hi" + "\n" * 50_000),
        "'On' + 50,000 letters": _plain("Re: x", "On " + "a" * 50_000),
        "25,000 quote levels": _plain("Re: x", "> " * 25_000),
        "subject of 10,000 Re:": _plain("Re: " * 10_000, "hi"),
    }


def _plain(subject: str, body: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"], msg["Subject"] = "ann@example.com", subject
    msg["Message-ID"] = f"<crafted-{abs(hash(body)) % 10**8}@bench>"
    msg.set_content(body)
    return msg.as_bytes()
