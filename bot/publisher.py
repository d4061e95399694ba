"""Posting the daily digest exactly once, and keeping it current through the day.

The publisher talks to Slack only through a `MessageSink` (implemented over slack_sdk in
`handlers/slack_sink.py`), so the bookkeeping is testable on its own:

1. The day's record and its messages are written before the first post: which entries go in
   which message. The day is sized to the team (`DigestPlan.choose`): the entries that matter
   most are posted, the rest wait in the queue (`bot.queue`) and the parent says how many.
   Entries whose tasks were all listed by an earlier digest are *carried over*: they go,
   oldest first, into compact "still open" messages (one line and one button each) at the
   top of the thread instead of being posted in full again.
2. Every post is followed at once by writing its `ts` (one small document per message). Each
   message carries Slack message metadata naming its date and position; if the bot dies
   between a post and that write, the next run finds the message in the thread; if Slack
   answers a post with 5xx or the answer is lost, the thread is searched before posting again
   (`bot.posting.post_once`).
3. Posting a message links its tasks to it: a task belongs to the digest that lists it today.
   The link is the message's own document (`DigestRepo.fill_links` derives `Task.slack` from
   it), so a post writes that one small document and no task. Once the day is posted, the
   earlier messages that showed its carried tasks are edited to say they moved on.
4. When tasks change, the message showing them now and its day's parent are edited through
   an `EditQueue`, after the answer and retried until they land (see `bot.edits`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from bot.blocks.digest import DEFERRED
from bot.blocks.entry import EntryView
from bot.bulk import settle_heap
from bot.clock import Clock, local_today
from bot.digest_view import add_tallies, message_views
from bot.edits import EditQueue
from bot.evidence import evidence
from bot.models import Risk, Subscriber, Task
from bot.posting import MessageSink, Pacer, post_once
from bot.repos import Repos
from bot.repos.digests import POSTED, DigestMessage, DigestRecord
from bot.risk import score
from config import Settings

log = logging.getLogger(__name__)
META_TYPE = "care_digest"
CARRIED_PER_MESSAGE = 15  # carried-over entries per compact message (one block each)
CARRIED = "carried"  # the kind of the compact messages, and the count of carried tasks


class Renderer(Protocol):
    def parent(
        self, day: date, counts: dict[str, int], progress: dict[str, int]
    ) -> dict[str, Any]: ...

    def batch(self, kind: str, entries: list[EntryView], first_of_kind: bool) -> dict[str, Any]: ...

    def carried(self, entries: list[EntryView], first: bool, total: int) -> dict[str, Any]: ...


class DigestPublisher:
    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        sink: MessageSink,
        renderer: Renderer,
        pacer: Pacer | None = None,
    ) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock
        self.sink = sink
        self.renderer = renderer
        self.pacer = pacer or Pacer()
        self.edits = EditQueue(self._edit)
        self.tech_touch: Any = None  # bot.techtouch.TechTouch, set by app.build when wired
        # Called with the day before its first post (after the plan, or when resuming): views
        # kept in memory are brought up to date then, not on a claim's turn while it posts.
        self.before_posting: list[Callable[[date], None]] = []
        self._posting = threading.Lock()
        # What each message shows (tasks per state), as last posted or edited in this process;
        # a message not rendered since the start is taken to show its tasks as they are.
        self._shown: dict[str, dict[str, int]] = {}
        # Each day's sum of what its messages show, kept current by `_show`: the parent's
        # counts after a claim cost the same however many messages the day has.
        self._totals: dict[date, Counter[str]] = {}
        self._shown_lock = threading.Lock()
        self._entry_events = threading.local()  # (subscriber id, events) from `_risk`

    @property
    def channel(self) -> str:
        return self.settings.slack.digest_channel

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

    @property
    def posting(self) -> bool:
        """A digest is being prepared or posted now."""
        return self._posting.locked()

    def is_due(self) -> bool:
        """True on a digest weekday at or after the digest time, when today's is not complete."""
        local = self.clock.now().astimezone(self.settings.timezone)
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
        if weekday not in self.settings.digest.weekdays or local.time() < self.settings.digest.time:
            return False
        record = self.repos.digests.get(local.date())
        return record is None or record.status != POSTED

    def publish(self, day: date | None = None) -> DigestRecord:
        """Post the digest for `day` (default today) unless it was posted; resume a partial one."""
        day = day or self.today()
        with self._posting:
            record = self.repos.digests.get(day)
            if record is not None and record.status == POSTED:
                return record
            prepared = record is None
            if record is None:
                record = self._prepare(day)
            self._ready(day)
            if prepared or self.before_posting:
                settle_heap()  # the plan is garbage now: full collections stall claims
            messages = self.repos.digests.messages(day)
            self._post_parent(record)
            self._post_messages(record, messages)
            record.status, record.posted_at = POSTED, self.clock.now()
            self.repos.digests.save(record)
            self._show_moved(record)
            log.info("Digest for %s posted: %d messages", day, record.message_count)
            return record

    def _ready(self, day: date) -> None:
        for hook in self.before_posting:
            try:
                hook(day)
            except Exception:  # a view not built now is built on its first read
                log.exception("Preparing %s before posting the digest failed", hook)

    def close(self) -> None:
        """Make the edits still queued, then stop editing (before the store closes)."""
        self.edits.close()

    # -- the day's record ------------------------------------------------------------------

    def _prepare(self, day: date) -> DigestRecord:
        """Run the engine, plan and size the day, and store its record and messages."""
        from bot.digest import plan_digest
        from bot.digest_plan import daily_limit
        from bot.engine import run_engine
        from bot.sizing import plan_day

        self.repos.tasks.spread()  # grown task shards, here rather than in a claim's write
        expired = run_engine(day, self.repos, self.settings, self.clock).expired
        self.refresh(expired)  # earlier days' messages that showed them
        limit, must_show = daily_limit(self.settings), self.settings.digest.must_show_value
        if self.tech_touch is None or not self.tech_touch.enabled:
            # Full entries for the posted only, the queue as counts (bot/sizing.py).
            plan, choice = plan_day(
                day, self.repos, self.settings, self.clock.now(), limit, must_show
            )
            return self._new_record(day, plan, choice)
        plan = plan_digest(day, self.repos, self.settings, self.clock.now())
        automated = self._tech_touch(plan)
        plan = automated.remaining(plan) if automated else plan
        return self._new_record(day, plan, plan.choose(limit, must_show), automated)

    def _tech_touch(self, plan: Any) -> Any:
        """Email the long tail the bot handles itself (bot/techtouch.py) before sizing the day."""
        if self.tech_touch is None or not self.tech_touch.enabled:
            return None
        run = self.tech_touch.run(plan)
        self.refresh([t for e in run.sent for t in e.tasks])  # earlier days' messages
        return run

    def _new_record(self, day: date, plan: Any, choice: Any, automated: Any = None) -> DigestRecord:
        from bot.digest_plan import LIMIT, QUEUED, QUEUED_ENTRIES, count_tasks

        carried: list[Any] = []
        fresh: list[Any] = []
        for entry in choice.posted:
            earlier = all(t.digest_date is not None and t.digest_date < day for t in entry.tasks)
            (carried if earlier else fresh).append(entry)
        carried.sort(key=lambda e: (min(t.due for t in e.tasks), e.subscriber.display_name))
        messages: list[DigestMessage] = []
        for start in range(0, len(carried), CARRIED_PER_MESSAGE):
            chunk = carried[start : start + CARRIED_PER_MESSAGE]
            messages.append(self._message(day, len(messages), CARRIED, chunk, start == 0))
            messages[-1].carried = True
        per = self.settings.digest.tasks_per_message
        for entry in fresh:
            last = messages[-1] if messages else None
            if last is not None and last.kind == entry.kind and len(last.entries) < per:
                last.entries.append([t.id for t in entry.tasks])
            else:
                first = last is None or last.kind != entry.kind
                messages.append(self._message(day, len(messages), entry.kind, [entry], first))
        earlier_ts = {
            t.slack["ts"]
            for e in choice.posted
            for t in e.tasks
            if t.digest_date is not None and t.digest_date < day and t.slack.get("ts")
        }
        counts = count_tasks(choice.posted, day, plan.grace_days)
        counts[CARRIED] = sum(len(e.tasks) for e in carried)
        counts[QUEUED], counts[QUEUED_ENTRIES] = choice.queued_tasks, len(choice.queued)
        counts[LIMIT] = choice.limit
        if getattr(plan, "deferred", 0):
            counts[DEFERRED] = plan.deferred
        if automated is not None:
            counts.update(automated.counts())
        record = DigestRecord(
            date=day,
            channel=self.channel,
            created_at=self.clock.now(),
            counts=counts,
            message_count=len(messages),
            moved_from=sorted(earlier_ts),
        )
        self.repos.digests.save_messages(messages)
        self.repos.digests.save(record)
        return record

    @staticmethod
    def _message(
        day: date, index: int, kind: str, entries: list[Any], first: bool
    ) -> DigestMessage:
        ids = [[t.id for t in e.tasks] for e in entries]
        return DigestMessage(date=day, index=index, kind=kind, entries=ids, first_of_kind=first)

    # -- posting -----------------------------------------------------------------------------

    def _post_parent(self, record: DigestRecord) -> None:
        if record.parent_ts:
            return
        key = f"{record.date.isoformat()}:parent"
        found = self.sink.find(record.channel, {"key": key})
        if key in found:
            record.parent_ts = found[key]
        else:
            parent = self.render_parent(record)
            record.parent_ts = post_once(
                self.sink, self.pacer, record.channel, parent, key, self._meta(key)
            )
        self.repos.digests.save(record)

    def _post_messages(self, record: DigestRecord, messages: list[DigestMessage]) -> None:
        found: dict[str, str] | None = None
        for message in messages:
            if message.ts:
                continue
            key = message.key
            if found is None:  # once per run: what did an interrupted run already post?
                found = self.sink.find(record.channel, {"key": key}, thread_ts=record.parent_ts)
            rendered, tally = self.render_message(message)
            if key in found:  # posted by a run cut short: make it show what it should
                message.ts = found[key]
                self.edits.request(("message", key))
            else:
                message.ts = post_once(
                    self.sink,
                    self.pacer,
                    record.channel,
                    rendered,
                    key,
                    self._meta(key),
                    record.parent_ts,
                )
            self.repos.digests.save_message(message)  # its tasks are linked to it from here on
            if self._show(message, tally):  # a claim landed between planning and posting
                self.edits.request(("parent", record.date))

    def _show_moved(self, record: DigestRecord) -> None:
        """Edit the earlier messages whose tasks this digest lists now (and their parents)."""
        for ts in record.moved_from:
            message = self.repos.digests.message_at(ts)
            if message is not None and message.date < record.date:
                self.edits.request(("message", message.key))

    def _meta(self, key: str) -> dict[str, Any]:
        return {"event_type": META_TYPE, "event_payload": {"key": key}}

    # -- rendering and editing ---------------------------------------------------------------

    def render_message(self, message: DigestMessage) -> tuple[dict[str, Any], dict[str, int]]:
        """A stored message as it should show now, and its tally."""
        if message.carried:
            views, tally = message_views(self.repos, message)
            total = self.repos.digests.get(message.date)
            count = (total.counts.get(CARRIED, 0) if total else 0) if message.first_of_kind else 0
            return self.renderer.carried(views, message.first_of_kind, count), tally
        views, tally = message_views(self.repos, message, self._risk, self._evidence)
        return self.renderer.batch(message.kind, views, message.first_of_kind), tally

    def render_parent(self, record: DigestRecord) -> dict[str, Any]:
        return self.renderer.parent(record.date, record.counts, self.progress(record))

    def progress(self, record: DigestRecord) -> dict[str, int]:
        """The day's claimed / done / open / expired / moved: what its thread shows."""
        with self._shown_lock:
            total = self._totals.get(record.date)
            if total is not None:
                return dict(total)
        messages = self.repos.digests.messages(record.date)
        for message in messages:
            self._shown_by(message)  # every message's tally known from here on
        keys = [m.key for m in messages]
        with self._shown_lock:  # summed under the lock: `_show` keeps it current from here
            total = Counter(add_tallies([self._shown[k] for k in keys]))
            if len(keys) == record.message_count:  # all of the day's messages are stored
                self._totals[record.date] = total
        return dict(total)

    def _shown_by(self, message: DigestMessage) -> dict[str, int]:
        with self._shown_lock:
            tally = self._shown.get(message.key)
        if tally is None:  # first look since the start: rendered from the store, it shows this
            tally = message_views(self.repos, message)[1]
            with self._shown_lock:
                tally = self._shown.setdefault(message.key, tally)
        return tally

    def _show(self, message: DigestMessage, tally: dict[str, int]) -> bool:
        """Record what `message` shows now; True if that changed its day's counts."""
        with self._shown_lock:
            before = self._shown.get(message.key)
            self._shown[message.key] = tally
            total = self._totals.get(message.date)
            if total is not None and before is not None:
                total.update(tally)
                total.subtract(before)
            elif total is not None:  # cannot happen once summed; recount to be safe
                del self._totals[message.date]
        return before != tally

    def entry_views(self, message: DigestMessage) -> list[EntryView]:
        return message_views(self.repos, message, self._risk, self._evidence)[0]

    def _risk(self, sub: Subscriber) -> Risk:
        events = self.repos.events.for_subscriber(sub.id)
        self._entry_events.last = (sub.id, events)  # read once for the entry's evidence too
        return score(sub, events, self.today(), self.settings.risk, tz=self.settings.timezone)

    def _evidence(self, sub: Subscriber, risk: Risk) -> list[str]:
        last, self._entry_events.last = getattr(self._entry_events, "last", None), None
        events = last[1] if last and last[0] == sub.id else self.repos.events.for_subscriber(sub.id)
        return evidence(sub, events, risk, self.today(), self.settings.timezone)

    def refresh(self, tasks: list[Task]) -> None:
        """Queue edits of the messages that show `tasks` now (their parents follow).

        Returns at once: the edits are made by `self.edits`, after whatever answer the caller
        gives, and retried there when Slack fails.
        """
        keys = []
        for task in tasks:
            ts = task.slack.get("ts")
            message = self.repos.digests.message_at(ts) if ts else None
            if message is not None and ("message", message.key) not in keys:
                keys.append(("message", message.key))
        self.edits.request(*keys)

    def _edit(self, target: Any) -> None:
        """Make one queued edit: ("message", key) or ("parent", date)."""
        what, ref = target
        if what == "parent":
            record = self.repos.digests.get(ref)
            if record is not None and record.parent_ts:
                self.sink.update(record.channel, record.parent_ts, self.render_parent(record))
            return
        day, _, index = ref.rpartition(":")
        message = self.repos.digests.message(date.fromisoformat(day), int(index))
        record = self.repos.digests.get(message.date) if message else None
        if message is None or record is None or not message.ts:
            return
        rendered, tally = self.render_message(message)
        self.sink.update(record.channel, message.ts, rendered)
        if self._show(message, tally):  # the thread shows new counts: so must the parent
            self.edits.request(("parent", message.date))
