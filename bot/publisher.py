"""Posting the daily digest exactly once, and keeping it current through the day.

The publisher talks to Slack only through a `MessageSink` (implemented over slack_sdk in
`handlers/slack_sink.py`), so the bookkeeping is testable on its own:

1. The day's record is written before the first post: which entries go in which message.
2. Every post is followed at once by writing its `ts`. Each message carries Slack message
   metadata naming its date and position; if the bot dies between a post and that write, the
   next run finds the message in the thread and records it instead of posting it again.
3. When tasks are claimed or closed, the entry's message and the parent's counts are edited.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from bot.blocks.entry import EntryView
from bot.clock import Clock, local_today
from bot.models import TASK_CLAIMED, TASK_DONE, TASK_EXPIRED, Subscriber, Task
from bot.repos import Repos
from bot.repos.digests import POSTED, DigestMessage, DigestRecord
from bot.risk import score
from config import Settings

log = logging.getLogger(__name__)
META_TYPE = "care_digest"
POST_ATTEMPTS = 5  # tries per message before the run stops (the catch-up turn resumes it)


class UncertainPost(Exception):
    """A post whose answer was a 5xx or was lost: Slack may or may not have stored it."""


class MessageSink(Protocol):
    def post(
        self,
        channel: str,
        message: dict[str, Any],
        thread_ts: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> str: ...

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None: ...

    def find(self, channel: str, metadata: dict[str, Any], thread_ts: str = "") -> dict[str, str]:
        """Messages already posted with metadata of our type: {metadata "key": ts}."""
        ...


class Renderer(Protocol):
    def parent(
        self, day: date, counts: dict[str, int], progress: dict[str, int]
    ) -> dict[str, Any]: ...

    def batch(self, kind: str, entries: list[EntryView], first_of_kind: bool) -> dict[str, Any]: ...


class Pacer:
    """At most one post per `interval` seconds per channel (Slack's ~1 message/second)."""

    def __init__(
        self,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            last = self._last.get(channel)
            if last is not None:
                delay = last + self.interval - self._monotonic()
                if delay > 0:
                    self._sleep(delay)
            self._last[channel] = self._monotonic()

    def backoff(self, attempt: int) -> None:
        """Wait before retry `attempt` (1, 2, ...): 1, 2, 4, 8 intervals."""
        if self.interval > 0:
            self._sleep(self.interval * 2 ** (attempt - 1))


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
        self._posting = threading.Lock()
        self._edit_locks: dict[tuple[str, str], threading.Lock] = {}
        self._edit_guard = threading.Lock()

    @property
    def channel(self) -> str:
        return self.settings.slack.digest_channel

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

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
        from bot.digest import plan_digest
        from bot.engine import run_engine

        day = day or self.today()
        with self._posting:
            record = self.repos.digests.get(day)
            if record is not None and record.status == POSTED:
                return record
            if record is None:
                run_engine(day, self.repos, self.settings, self.clock)
                plan = plan_digest(day, self.repos, self.settings, self.clock.now())
                record = self._new_record(day, plan)
                self.repos.digests.save(record)
            self._post_parent(record)
            self._post_messages(record)
            record.status, record.posted_at = POSTED, self.clock.now()
            self.repos.digests.save(record)
            log.info("Digest for %s posted: %d messages", day, len(record.messages))
            return record

    def _new_record(self, day: date, plan: Any) -> DigestRecord:
        per = self.settings.digest.tasks_per_message
        messages: list[DigestMessage] = []
        for entry in plan.entries:
            ids = [t.id for t in entry.tasks]
            last = messages[-1] if messages else None
            if last is not None and last.kind == entry.kind and len(last.entries) < per:
                last.entries.append(ids)
            else:
                first = last is None or last.kind != entry.kind
                messages.append(DigestMessage(kind=entry.kind, entries=[ids], first_of_kind=first))
        return DigestRecord(
            date=day,
            channel=self.channel,
            created_at=self.clock.now(),
            counts=dict(plan.counts),
            messages=messages,
        )

    def _post_parent(self, record: DigestRecord) -> None:
        if record.parent_ts:
            return
        key = f"{record.date.isoformat()}:parent"
        found = self.sink.find(record.channel, {"key": key})
        message = self.renderer.parent(record.date, record.counts, self.progress(record))
        if key in found:
            record.parent_ts = found[key]
        else:
            record.parent_ts = self._post_once(record.channel, message, key)
        self.repos.digests.save(record)

    def _post_messages(self, record: DigestRecord) -> None:
        found: dict[str, str] | None = None
        for index, message in enumerate(record.messages):
            if message.ts:
                continue
            key = f"{record.date.isoformat()}:{index}"
            if found is None:  # once per run: what did an interrupted run already post?
                found = self.sink.find(record.channel, {"key": key}, thread_ts=record.parent_ts)
            if key in found:
                message.ts = found[key]
            else:
                rendered = self.renderer.batch(
                    message.kind, self.entry_views(message), message.first_of_kind
                )
                message.ts = self._post_once(record.channel, rendered, key, record.parent_ts)
            self._link_tasks(record, message)
            self.repos.digests.save(record)

    def _post_once(
        self, channel: str, message: dict[str, Any], key: str, thread_ts: str = ""
    ) -> str:
        """Post `message` (metadata `key`) once, however Slack fails; returns its ts.

        After a 5xx or a lost answer the message may be in Slack already: before each re-post
        the channel (or thread) is searched for `key`, and a message found there is used.

        Raises:
            UncertainPost: still failing after `POST_ATTEMPTS`; the next run resumes.
        """
        failure: UncertainPost | None = None
        for attempt in range(POST_ATTEMPTS):
            if failure is not None:
                self.pacer.backoff(attempt)
                found = self.sink.find(channel, {"key": key}, thread_ts=thread_ts)
                if key in found:
                    log.warning(
                        "Slack stored %s but answered %s; not posting it again", key, failure
                    )
                    return found[key]
            self.pacer.wait(channel)
            try:
                return self.sink.post(
                    channel, message, thread_ts=thread_ts, metadata=self._meta(key)
                )
            except UncertainPost as exc:
                log.warning("Posting %s: %s; checking before trying again", key, exc)
                failure = exc
        assert failure is not None
        raise failure

    def _link_tasks(self, record: DigestRecord, message: DigestMessage) -> None:
        link = {"channel": record.channel, "ts": message.ts, "thread_ts": record.parent_ts}
        for task_id in (t for e in message.entries for t in e):

            def attach(task: Task) -> None:
                task.slack = dict(link)
                task.digest_date = task.digest_date or record.date

            self.repos.tasks.mutate(task_id, attach)

    def _meta(self, key: str) -> dict[str, Any]:
        return {"event_type": META_TYPE, "event_payload": {"key": key}}

    def entry_views(self, message: DigestMessage) -> list[EntryView]:
        views = []
        today = self.today()
        for ids in message.entries:
            tasks = [t for t in (self.repos.tasks.get(i) for i in ids) if t]
            if not tasks:
                continue
            sub = self.repos.subscribers.get(tasks[0].subscriber_id) or Subscriber(
                id=tasks[0].subscriber_id
            )
            events = self.repos.events.for_subscriber(sub.id)
            risk = score(sub, events, today, self.settings.risk, tz=self.settings.timezone)
            views.append(EntryView(subscriber=sub, tasks=tasks, risk=risk, kind=message.kind))
        return views

    def progress(self, record: DigestRecord) -> dict[str, int]:
        counts = {"claimed": 0, "done": 0, "open": 0, "expired": 0}
        for task_id in record.task_ids:
            task = self.repos.tasks.get(task_id)
            if task is None:
                continue
            if task.status == TASK_CLAIMED:
                counts["claimed"] += 1
            elif task.status == TASK_DONE:
                counts["done"] += 1
            elif task.status == TASK_EXPIRED:
                counts["expired"] += 1
            else:
                counts["open"] += 1
        return counts

    def refresh(self, tasks: list[Task]) -> None:
        """Edit the messages showing `tasks` and their digests' parent counts in place.

        Each message is re-read from the store and edited under its own lock, so two claims
        landing at once on one message cannot leave it showing the older state.
        """
        seen: set[tuple[str, str]] = set()
        for task in tasks:
            if not task.digest_date:
                continue
            record = self.repos.digests.get(task.digest_date)
            if record is None:
                continue
            message = record.message_for(task.id)
            if message is not None and message.ts and (record.channel, message.ts) not in seen:
                seen.add((record.channel, message.ts))
                with self._edit_lock(record.channel, message.ts):
                    rendered = self.renderer.batch(
                        message.kind, self.entry_views(message), message.first_of_kind
                    )
                    self.sink.update(record.channel, message.ts, rendered)
            if record.parent_ts and (record.channel, record.parent_ts) not in seen:
                seen.add((record.channel, record.parent_ts))
                with self._edit_lock(record.channel, record.parent_ts):
                    parent = self.renderer.parent(record.date, record.counts, self.progress(record))
                    self.sink.update(record.channel, record.parent_ts, parent)

    def _edit_lock(self, channel: str, ts: str) -> threading.Lock:
        with self._edit_guard:
            return self._edit_locks.setdefault((channel, ts), threading.Lock())
