"""The outbox: send one email from the shared support address, exactly once, and log it.

Steps of `Outbox.send`: check the draft; record a `SentMail` with a new Message-ID (status
"sending") before anything leaves; send by SMTP; mark it "sent"; file a copy in the IMAP Sent
folder; log the outreach (channel email) on the customer's open tasks. A retry with the same
key reuses the record: a message already sent is not sent again (only the copy and the log are
completed if they were missing), a failed one is sent with the same Message-ID, and one that
may have reached the server (a timeout while it took the message, or a crash mid-send) is
refused rather than risk a second copy in the customer's inbox.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from bot.audit import SURFACE_MODAL
from bot.care import CareService, LogResult
from bot.clock import Clock
from bot.inbox.imap import ImapAuthError
from bot.outbox.message import Draft, InvalidDraft, compose, new_message_id
from bot.outbox.models import MAIL_FAILED, MAIL_SENDING, MAIL_SENT, MAIL_UNCERTAIN, SentMail
from bot.outbox.sent import save_copy
from bot.outbox.smtp import INVALID, UNCERTAIN, SendError, SmtpTransport
from bot.repos import Repos
from bot.roles import CareError
from config.settings import ImapSettings
from config.smtp import SmtpSettings

log = logging.getLogger(__name__)

NOT_SET_UP = (
    "Sending email is not set up: set SMTP_HOST, SMTP_USER, SMTP_PASSWORD and SMTP_FROM "
    "(docs/inbox.md, 'Sending')"
)


@dataclass(frozen=True)
class OutreachLog:
    """How a sent email is logged as outreach.

    Attributes:
        target: the digest entry's task ids, or the customer's email or subscriber id.
        outcome: one of `bot.models.OUTREACH_OUTCOMES`.
        close: close the tasks (as `/care log` does) or leave them open.
    """

    target: str | list[str]
    outcome: str = "reached"
    close: bool = False
    surface: str = SURFACE_MODAL


@dataclass(frozen=True)
class SendRequest:
    """One email to send. `key` is the same for every attempt at this one message."""

    key: str
    user: str
    draft: Draft
    subscriber_id: str = ""
    item_id: str = ""
    log: OutreachLog | None = None


@dataclass
class SendResult:
    """What was sent. `already_sent`: an earlier attempt with this key had sent it."""

    record: SentMail
    message: EmailMessage
    already_sent: bool = False
    warnings: list[str] = field(default_factory=list)
    logged: LogResult | None = None  # the outreach logged by this call (None on a repeat)


class Outbox:
    """Sends email through SMTP for everyone in the process; share one instance.

    Args:
        repos: the store's repositories (`repos.sent` keeps the records).
        smtp: the server and the support address (`SMTP_*`).
        imap: the shared mailbox, for the copy in Sent (not copied when disabled).
        clock: the time source (Date header, record times).
        care: logs the outreach; None to skip logging.
        transport: sends one message; `SmtpTransport(smtp)` by default.
        imap_ssl_context: trust for the IMAP copy (tests pass their own CA).
    """

    def __init__(
        self,
        repos: Repos,
        smtp: SmtpSettings,
        imap: ImapSettings,
        clock: Clock,
        care: CareService | None = None,
        *,
        transport: SmtpTransport | None = None,
        imap_ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.repos = repos
        self.smtp = smtp
        self.imap = imap
        self.clock = clock
        self.care = care
        self.transport = transport or SmtpTransport(smtp)
        self.imap_ssl_context = imap_ssl_context
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.smtp.enabled

    def send(self, request: SendRequest) -> SendResult:
        """Send `request.draft` once, file a copy in Sent, log the outreach.

        Two calls with the same key at once (a double click) run one after the other: the
        second finds the message sent and returns it with `already_sent`.

        Raises:
            SendError: nothing was sent (or, kind "uncertain", it may have been earlier);
                the message says why and what to do.
        """
        if not self.enabled:
            raise SendError(INVALID, NOT_SET_UP)
        sender = self.smtp.from_address()
        try:  # check the draft before anything is recorded
            compose(request.draft, sender, "<check@localhost>", self.clock.now())
        except InvalidDraft as exc:
            raise SendError(INVALID, str(exc)) from exc
        with self._lock(request.key):
            record = self._reserve(request, new_message_id(sender))
            msg = compose(request.draft, sender, record.message_id, record.created_at)
            if record.status == MAIL_SENT:
                return self._complete(record, msg, request, already_sent=True)
            try:
                reply = self.transport.send(msg, sender.addr_spec, msg["To"].addresses[0].addr_spec)
            except SendError as exc:
                self._failed(record.key, exc)
                raise
            now = self.clock.now()

            def sent(r: SentMail) -> None:
                r.status, r.sent_at, r.server_reply, r.error, r.error_kind = (
                    MAIL_SENT,
                    now,
                    reply,
                    "",
                    "",
                )

            record, _ = self.repos.sent.change(record.key, sent)
            log.info("Sent %s to %s (%s)", record.message_id, record.to, reply)
            return self._complete(record, msg, request, already_sent=False)

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _reserve(self, request: SendRequest, message_id: str) -> SentMail:
        """The record for this attempt, stored as "sending" before anything is sent."""
        draft, now = request.draft, self.clock.now()
        with self.repos.store.lock:
            record = self.repos.sent.get(request.key)
            if record is not None and record.status == MAIL_SENT:
                return record
            if record is not None and record.status in (MAIL_SENDING, MAIL_UNCERTAIN):
                when = record.created_at.strftime("%Y-%m-%d %H:%M UTC")
                raise SendError(
                    UNCERTAIN,
                    f"An earlier attempt at this email ({when}) may have reached the mail server, "
                    "so it is not sent again: look for it in the Sent folder, and if it is not "
                    "there, close this and start a new reply.",
                )
            if record is None:
                record = SentMail(
                    key=request.key,
                    message_id=message_id,
                    status=MAIL_SENDING,
                    to=draft.to.strip(),
                    subject=draft.subject,
                    by=request.user,
                    created_at=now,
                    subscriber_id=request.subscriber_id,
                    item_id=request.item_id,
                    in_reply_to=draft.in_reply_to,
                )
            record.status, record.attempts = MAIL_SENDING, record.attempts + 1
            record.to, record.subject, record.by = draft.to.strip(), draft.subject, request.user
            self.repos.sent.put(record)
            return record

    def _failed(self, key: str, exc: SendError) -> None:
        def failed(r: SentMail) -> None:
            r.status = MAIL_UNCERTAIN if exc.maybe_sent else MAIL_FAILED
            r.error, r.error_kind = str(exc)[:500], exc.kind

        self.repos.sent.change(key, failed)
        log.warning("Sending %s failed (%s): %s", key, exc.kind, exc)

    def _complete(
        self, record: SentMail, msg: EmailMessage, request: SendRequest, *, already_sent: bool
    ) -> SendResult:
        """File the copy and log the outreach unless an earlier attempt did."""
        warnings: list[str] = []
        logged: LogResult | None = None
        if not record.sent_folder and self.imap.enabled and self.smtp.saves_copy:
            try:
                record.sent_folder = save_copy(
                    self.imap,
                    msg.as_bytes(policy=policy.SMTP),
                    record.message_id,
                    record.sent_at or self.clock.now(),
                    folder=self.smtp.sent_folder,
                    ssl_context=self.imap_ssl_context,
                )
                record.copy_error = ""
            except (ImapAuthError, OSError, Exception) as exc:  # noqa: BLE001 - sent anyway
                record.copy_error = f"{type(exc).__name__}: {exc}"[:300]
                warnings.append(f"Sent, but no copy was saved in Sent: {record.copy_error}")
                log.warning("Copy of %s not saved in Sent: %s", record.message_id, exc)
        if request.log is not None and self.care is not None and not record.outreach_id:
            logged = self._log(request, record, warnings)
            record.outreach_id = logged.outreach.id if logged else ""
        self.repos.sent.put(record)
        return SendResult(record, msg, already_sent, warnings, logged)

    def _log(self, request: SendRequest, record: SentMail, warnings: list[str]) -> LogResult | None:
        assert request.log is not None and self.care is not None
        spec, note = request.log, f"Email: {record.subject}"[:300]
        for close in dict.fromkeys((spec.close, False)):
            try:
                result = self.care.log_outreach(
                    spec.target,
                    request.user,
                    "email",
                    spec.outcome,
                    note,
                    None,
                    spec.surface,
                    close,
                )
            except CareError as exc:
                warnings.append(
                    f"Sent; the outreach log {'closing the task ' if close else ''}failed: {exc}"
                )
                continue
            return result
        return None
