"""Tech touch: the long tail's lifecycle touches emailed by the bot itself, once.

With a `[tech_touch]` rule for a kind (config/techtouch.py), the daily digest hands the bot
every entry it covers before sizing the day: customers below the rule's monthly value whose
touches are all open (nobody has claimed them) and all covered by a rule. Each gets the
entry's template (as the Email button drafts it) through the same `Outbox` as a person's
email: the Message-ID is recorded before sending, so a retry never sends twice. A sent email
is logged as outreach on channel email by `BOT_USER` and closes the tasks. Its Message-ID is
recorded as an outreach triage item (`OutreachThreads.record(..., post=False)`), so the
customer's answer lands in triage threaded under "Sent automatically to ..." and linked to the
customer and the closed tasks, like an answer to a person's email; nothing is posted in the
triage channel until the customer answers.

Not sent automatically, and posted for a person as before:
- a customer without a usable email address, or reached in the last `[outreach] quiet_days`;
- an entry past `max_per_day` (best first by `bot.priority`);
- a failed send (it is tried again at the next digest with the same Message-ID), and one
  that may have reached the mail server (it is never tried again: a person decides).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from bot.audit import SURFACE_AUTO
from bot.care import CareService
from bot.digest_plan import DigestEntry, DigestPlan, count_tasks
from bot.models import TASK_OPEN, Subscriber
from bot.outbox.message import Draft
from bot.outbox.models import MAIL_SENDING, MAIL_SENT, MAIL_UNCERTAIN, SentMail
from bot.outbox.service import Outbox, OutreachLog, SendRequest
from bot.outbox.smtp import SendError
from bot.outreach.contact import last_contact, reached_within
from bot.outreach.drafts import DraftService
from bot.outreach.templates import TemplateProblem
from bot.outreach.thread import OutreachThreads
from bot.repos import Repos
from bot.roles import Permissions
from config.settings import Settings

log = logging.getLogger(__name__)

BOT_USER = "care-bot"  # who the outreach and the closed tasks are by: the bot, not a person
KEY_PREFIX = "tech:"  # sent-mail keys of tech-touch emails: "tech:<first task id>"
SENT, FAILED = "tech_sent", "tech_failed"  # the digest record's counts
UNSURE = (
    "an earlier attempt may have reached the mail server, so it is never sent again "
    "automatically: look for it in the Sent folder"
)


def send_key(entry: DigestEntry) -> str:
    """The sent-mail key of an entry's email: the same for every attempt, on any day."""
    return KEY_PREFIX + entry.tasks[0].id


@dataclass
class Failure:
    entry: DigestEntry
    error: str


@dataclass
class TechTouchRun:
    """What one digest run sent.

    Attributes:
        sent: entries emailed now (their tasks are closed).
        failed: entries not sent and why; they stay in the digest for a person.
        sent_today: emails sent automatically on the digest's day, earlier runs included
            (a run cut short and resumed).
    """

    sent: list[DigestEntry] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    sent_today: int = 0

    def counts(self) -> dict[str, int]:
        """The figures the digest parent shows."""
        counts = {SENT: self.sent_today}
        if self.failed:
            counts[FAILED] = len(self.failed)
        return counts

    def remaining(self, plan: DigestPlan) -> DigestPlan:
        """`plan` without the entries emailed now (they take no place in the posted day)."""
        return without(plan, self.sent)


def without(plan: DigestPlan, entries: list[DigestEntry]) -> DigestPlan:
    """`plan` less `entries`, recounted."""
    gone = {id(e) for e in entries}
    if not gone:
        return plan
    kept = [e for e in plan.entries if id(e) not in gone]
    counts = count_tasks(kept, plan.date, plan.grace_days)
    return DigestPlan(plan.date, kept, counts, plan.grace_days, deferred=plan.deferred)


class TechTouch:
    """Chooses and sends the day's automatic emails.

    Args:
        repos: the store's repositories.
        settings: `[tech_touch]`, `[outreach] quiet_days`, the timezone.
        drafts: renders the kind's template for a customer (as the Email button does);
            None to choose only (the preview).
        outbox: the shared outbox (None: nothing is sent); its SMTP server, mailbox and
            transport are used, with the outreach logged by `BOT_USER` (who is not one of the
            configured managers).
        threads: records each sent email's Message-ID for triage (None: no triage channel,
            and an answer becomes an ordinary triage item).
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        drafts: DraftService | None = None,
        outbox: Outbox | None = None,
        threads: OutreachThreads | None = None,
    ) -> None:
        self.repos = repos
        self.threads = threads
        self.settings = settings
        self.rules = settings.tech_touch
        self.drafts = drafts
        self.outbox: Outbox | None = None
        if outbox is not None:
            care = CareService(repos, outbox.clock, settings.timezone, Permissions())
            self.outbox = Outbox(
                repos,
                outbox.smtp,
                outbox.imap,
                outbox.clock,
                care,
                transport=outbox.transport,
                imap_ssl_context=outbox.imap_ssl_context,
            )

    @property
    def enabled(self) -> bool:
        return self.rules.enabled

    def choose(self, plan: DigestPlan) -> list[DigestEntry]:
        """The entries the bot would email on `plan.date`, best first, at most `max_per_day`.

        Reads only: `digest --preview` shows these without sending.
        """
        return [e for e, stuck in self._candidates(plan) if not stuck]

    def _candidates(self, plan: DigestPlan) -> list[tuple[DigestEntry, bool]]:
        """Covered entries, best first, at most `max_per_day`, each with whether an earlier
        attempt at its email may have reached the mail server (then it is never sent)."""
        if not self.enabled:
            return []
        stuck = self._stuck()
        chosen = [e for e in plan.ranked() if self._covers(e, plan.date)]
        return [
            (e, any(KEY_PREFIX + t.id in stuck for t in e.tasks))
            for e in chosen[: self.rules.max_per_day]
        ]

    def run(self, plan: DigestPlan) -> TechTouchRun:
        """Email every entry `choose` picks; a failure leaves the entry in the plan.

        Never raises for one customer: a template that does not render or a refused send is
        that entry's failure, logged, and the others are still sent.
        """
        run = TechTouchRun()
        if not self.enabled:
            return run
        for entry, stuck in self._candidates(plan):
            try:
                error = UNSURE if stuck else self._send(entry, plan.date)
            except Exception as exc:  # noqa: BLE001 - one customer's data never stops the digest
                log.exception("Tech touch to %s failed", entry.subscriber.id)
                error = f"{type(exc).__name__}: {exc}"[:300]
            if error:
                run.failed.append(Failure(entry, error))
                log.warning("Tech touch to %s not sent: %s", entry.subscriber.id, error)
            else:
                run.sent.append(entry)
        run.sent_today = self.sent_on(plan.date)
        return run

    def sent_on(self, day: date) -> int:
        """How many tech-touch emails were sent on `day` (team timezone)."""
        tz = self.settings.timezone
        return sum(
            1
            for r in self.repos.sent.with_key_prefix(KEY_PREFIX)
            if r.status == MAIL_SENT and r.sent_at and r.sent_at.astimezone(tz).date() == day
        )

    # -- one entry ---------------------------------------------------------------------------

    def _covers(self, entry: DigestEntry, today: date) -> bool:
        tasks = entry.tasks
        if not tasks or any(t.status != TASK_OPEN for t in tasks):
            return False  # someone has it
        if not self.rules.covers([t.kind for t in tasks], entry.value):
            return False
        if "@" not in (entry.subscriber.email or ""):
            return False
        quiet, tz = self.settings.outreach.quiet_days, self.settings.timezone
        contact = last_contact(self.repos.outreach.for_subscriber(entry.subscriber.id))
        return not reached_within(contact, today, quiet, tz)

    def _stuck(self) -> set[str]:
        """Keys of tech-touch emails that may have been sent: never tried again."""
        return {
            r.key
            for r in self.repos.sent.with_key_prefix(KEY_PREFIX)
            if r.status in (MAIL_SENDING, MAIL_UNCERTAIN)
        }

    def _send(self, entry: DigestEntry, today: date) -> str:
        """Send the entry's email; "" when sent (now or by an earlier run), else why not."""
        if self.outbox is None or not self.outbox.enabled or self.drafts is None:
            return "sending email is not set up (SMTP_HOST, SMTP_FROM: docs/inbox.md)"
        sub = entry.subscriber
        try:
            drafted = self.drafts.for_customer(sub, entry.kind, today)
            html = self.drafts.templates.html(drafted.body) or ""
        except TemplateProblem as exc:
            return f"the {entry.kind} template does not render: {exc}"
        request = SendRequest(
            key=send_key(entry),
            user=BOT_USER,
            draft=Draft(
                to=sub.email,
                subject=drafted.subject,
                text=drafted.body,
                to_name=sub.name,
                html=html,
            ),
            subscriber_id=sub.id,
            log=OutreachLog(
                target=entry.task_ids, outcome="reached", close=True, surface=SURFACE_AUTO
            ),
        )
        try:
            result = self.outbox.send(request)
        except SendError as exc:
            return str(exc)
        for warning in result.warnings:
            log.warning("Tech touch to %s: %s", sub.id, warning)
        self._thread(result.record, drafted.body, sub, entry.task_ids)
        return ""

    def _thread(self, sent: SentMail, text: str, sub: Subscriber, task_ids: list[str]) -> None:
        """Where the customer's answer will land; the email is sent whatever happens here."""
        if self.threads is None:
            return
        try:
            self.threads.record(sent, text, sub.name, task_ids, post=False)
        except Exception:  # noqa: BLE001 - the answer still reaches triage, unthreaded
            log.exception("Tech touch to %s: recording its triage thread failed", sub.id)
