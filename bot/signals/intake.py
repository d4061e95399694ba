"""The journal-then-apply path every webhook takes: nothing lost, nothing twice.

`Intake.receive` is what the HTTP route calls with the raw body and headers. It checks the
size, has the vendor's receiver verify the sender on the raw bytes, reads the delivery's key,
and stores the delivery durably in the journal before it answers; a key already in the journal
is answered 200 and not applied again. Applying happens after the answer, on one worker thread
in order of receipt (`start`), or synchronously through `apply_now` (tests, the CLI). At start
every delivery left `pending` or `failed` by a crash is applied (`catch_up`), and one waiting
for a customer is applied once that customer is known (`retry_waiting`).

A delivery dated more than `FUTURE_SKEW` ahead of the bot's clock is answered 200 and kept,
`held`, with a journal note saying so; it is applied once that time comes (`release_held`).
Then, and whenever an event was dated that far ahead of its own receipt, its state competes as
of its receipt (`Signal.order_at`): a vendor's test clock, a replayed or hand-built payload
signed with a valid secret, or a wrong clock never make it the newest version of a subscription
with every real update after it ignored as older. Refusing it instead would make the vendor
retry for days and then disable the endpoint, stopping every other event with it.

Listeners (`on_applied`) run after a delivery is applied: alerts hang off this.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.repos.journal import (
    APPLIED,
    FAILED,
    IGNORED,
    PENDING,
    UNFINISHED,
    WAITING,
    Delivery,
    JournalRepo,
)
from bot.signals.apply import Applied, SignalApplier
from bot.signals.model import Handshake, Receiver, Refused, Signal

log = logging.getLogger(__name__)
# Deliveries applied with one write of the subscribers, when they queue up. At 100k subscribers
# that write costs seconds: during a burst everything queued while one batch was applied goes in
# the next, so 10,000 deliveries cost a handful of writes and the receivers keep the CPU.
BATCH = 5000
MAX_BODY = 1024 * 1024  # vendors' events are a few KB; Shopify's largest orders stay far below
# How far ahead of the bot's clock an event may be dated. Vendors date an event by their own
# NTP-kept clocks before they send it, so a real one is at most seconds ahead; five minutes (the
# window of Stripe's and Front's signatures) also covers a bot whose clock drifts. Much more
# would let an event block a day of real updates; less would hold real ones from a bot whose
# clock is a few minutes slow. Not a setting: a wrong clock is to be set right, not tolerated.
FUTURE_SKEW = timedelta(minutes=5)
HELD = "held"  # the journal status of a delivery dated beyond it, until that time comes

Listener = Callable[[Delivery, list[Applied]], None]


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a delivery."""

    status: int
    body: dict[str, object]


class Intake:
    """Receives, journals and applies deliveries for the configured receivers.

    Args:
        receivers: the configured vendors by source name; a source not here is off (404).
        journal: the durable journal.
        applier: writes signals into subscribers and events.
        clock: stamps receipt and apply times, and is the clock events may not run ahead of.
        skew: how far ahead of `clock` an event may be dated (`FUTURE_SKEW`).
    """

    def __init__(
        self,
        receivers: Mapping[str, Receiver],
        journal: JournalRepo,
        applier: SignalApplier,
        clock: Clock,
        max_body: int = MAX_BODY,
        skew: timedelta = FUTURE_SKEW,
    ) -> None:
        self.receivers = dict(receivers)
        self.skew = skew
        self.journal = journal
        self.max_body = max_body
        self._applier = applier
        self._clock = clock
        self._listeners: list[Listener] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._apply_lock = threading.Lock()

    def on_applied(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ----- receiving ----------------------------------------------------------------------

    def receive(self, source: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Size limit, then `verify`, then `accept`: the whole front half in one call."""
        if source not in self.receivers:
            return Answer(404, {"ok": False, "error": f"the {source} receiver is not configured"})
        if len(body) > self.max_body:
            return Answer(413, {"ok": False, "error": f"body over {self.max_body} bytes"})
        refused = self.verify(source, body, headers)
        if refused is not None:
            return Answer(refused.status, {"ok": False, "error": str(refused)})
        return self.accept(source, body, headers)

    def verify(self, source: str, body: bytes, headers: Mapping[str, str]) -> Refused | None:
        """Why the sender is not who it claims (401) or the body unreadable (400), else None."""
        try:
            self.receivers[source].verify(body, _lower(headers))
        except Refused as exc:
            return exc
        return None

    def accept(self, source: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Journal a verified delivery durably and queue it to be applied; 200 once stored.

        A key already journalled is answered 200 (`duplicate`) and not applied again; a body
        without a key is refused with 400 and not stored.
        """
        lowered = _lower(headers)
        try:
            envelope = self.receivers[source].identify(body, lowered)
        except Refused as exc:
            return Answer(exc.status, {"ok": False, "error": str(exc)})
        except Handshake as exc:
            return Answer(200, exc.body)
        delivery = Delivery(
            id=envelope.key,
            source=source,
            type=envelope.type,
            received_at=self._clock.now(),
            body=body.decode("utf-8", errors="replace"),
            at=envelope.at,
            headers=_kept_headers(lowered),
            aliases=list(envelope.aliases),
        )
        if not self.journal.add(delivery):
            return Answer(200, {"ok": True, "duplicate": True})
        self._queue.put(delivery.id)
        return Answer(200, {"ok": True})

    # ----- applying -----------------------------------------------------------------------

    def apply_now(self, key: str) -> list[Applied]:
        """Apply one journalled delivery now and record where it stands."""
        return self.apply_many([key]).get(key, [])

    def apply_many(self, keys: list[str]) -> dict[str, list[Applied]]:
        """Apply journalled deliveries in order, their signals in one batch, and record where
        each stands. A batch that fails is applied again one delivery at a time, so one bad
        delivery is marked failed and the others are applied."""
        with self._apply_lock:
            parsed: list[tuple[Delivery, list[Signal]]] = []
            now = self._clock.now()
            for key in keys:
                delivery = self.journal.get(key)
                receiver = self.receivers.get(delivery.source) if delivery else None
                if delivery is None or receiver is None or delivery.status == APPLIED:
                    continue  # (a source whose secret was removed keeps its deliveries)
                try:
                    signals = receiver.parse(delivery)
                except Exception as exc:
                    self._failed(key, exc)
                    continue
                if not self._held(delivery, signals, now):
                    parsed.append((delivery, signals))
            if not parsed:
                self.journal.commit()
                return {}
            items = [(s, d.id) for d, signals in parsed for s in signals]
            try:
                outcomes = self._applier.apply_batch(items)
            except Exception as exc:
                if len(parsed) > 1:
                    done: dict[str, list[Applied]] = {}
                    for delivery, _ in parsed:
                        done.update(self.apply_many([delivery.id]))
                    return done
                for delivery, _ in parsed:
                    self._failed(delivery.id, exc)
                self.journal.commit()
                return {}
            results: dict[str, list[Applied]] = {}
            at = 0
            for delivery, signals in parsed:
                mine = outcomes[at : at + len(signals)]
                at += len(signals)
                results[delivery.id] = self._record(delivery, mine)
            self.journal.commit()  # one fsync for the batch's statuses and versions
        for delivery, _ in parsed:
            for listener in self._listeners:
                try:
                    listener(delivery, results[delivery.id])
                except Exception:
                    log.exception("a listener failed on %s", delivery.id)
        if any(o.created for applied in results.values() for o in applied):
            self.retry_waiting()
        return results

    def _held(self, delivery: Delivery, signals: list[Signal], now: datetime) -> bool:
        """Whether the delivery must wait (status `held`): an event of it is dated more than
        the skew ahead of `now`. Otherwise each event dated more than the skew after the
        delivery was received (it was held) competes in the order check as of that receipt."""
        latest = max((s.at for s in signals), default=None)
        if latest is not None and latest > now + self.skew:
            if delivery.status != HELD:
                note = _held_note(latest, now, self.skew)
                log.warning("%s: %s", delivery.id, note)
                self.journal.set_status(delivery.id, HELD, note=note)
            return True
        for signal in signals:
            if signal.at > delivery.received_at + self.skew:
                signal.order_at = delivery.received_at
        return False

    def _failed(self, key: str, exc: Exception) -> None:
        log.error("applying %s failed", key, exc_info=exc)
        self.journal.set_status(key, FAILED, note=f"{type(exc).__name__}: {exc}"[:500])

    def _record(self, delivery: Delivery, outcomes: list[Applied]) -> list[Applied]:
        """Write where a delivery stands after its signals were applied; the applied ones."""
        waiting = next((o.wait_for for o in outcomes if o.wait_for), "")
        applied = [o for o in outcomes if o.subscriber is not None]
        if waiting and not applied:
            self.journal.set_status(delivery.id, WAITING, wait_for=waiting)
            return []
        status = APPLIED if applied else IGNORED
        note = "" if applied else "nothing for care in this event type"
        if applied and all(o.stale for o in applied) and not any(o.events for o in applied):
            status, note = IGNORED, "older than the state already stored"
        if any(o.signal.order_at for o in outcomes):
            note = "; ".join(filter(None, [note, ORDERED_AS_RECEIVED]))
        left_out = [why for o in outcomes for why in o.signal.left_out]
        if left_out:  # the rest was applied; the journal and the log say what was not
            note = "; ".join(
                filter(None, [note, "left out: " + "; ".join(dict.fromkeys(left_out))])
            )
            log.warning("%s: %s", delivery.id, note)
        first = applied[0].subscriber if applied else None
        self.journal.set_status(
            delivery.id,
            status,
            at=self._clock.now(),
            note=note[:500],
            subscriber_id=first.id if first else "",
        )
        return applied

    def catch_up(self) -> int:
        """Apply every delivery a crash left pending or failed, oldest first. Returns how many."""
        keys = [d.id for d in self.journal.with_status(UNFINISHED)]
        for start in range(0, len(keys), BATCH):
            self.apply_many(keys[start : start + BATCH])
        return len(keys) + self.retry_waiting() + self.release_held()

    def retry_waiting(self) -> int:
        """Apply the waiting deliveries whose customer is now known. Returns how many."""
        ready = [
            d.id
            for d in self.journal.with_status([WAITING])
            if self._applier.resolve_ref(d.wait_for)
        ]
        for key in ready:
            self.journal.set_status(key, PENDING)
            self.apply_now(key)
        return len(ready)

    def release_held(self) -> int:
        """Apply the held deliveries whose time has come (the others stay held). Returns how
        many were applied."""
        keys = [d.id for d in self.journal.with_status([HELD])]
        done = 0
        for start in range(0, len(keys), BATCH):
            done += len(self.apply_many(keys[start : start + BATCH]))
        return done

    def start(self) -> threading.Thread:
        """Apply what a crash left, then apply deliveries as they are received."""
        self._thread = threading.Thread(target=self._run, name="care-signals", daemon=True)
        self._thread.start()
        return self._thread

    def _run(self) -> None:
        self.catch_up()
        while True:
            keys = [self._queue.get()]
            while len(keys) < BATCH and keys[-1] is not None:
                try:
                    keys.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.apply_many([k for k in keys if k is not None])
            finally:
                for _ in keys:
                    self._queue.task_done()
            if keys[-1] is None:
                return

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the deliveries already queued, then stop the worker."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def idle(self) -> bool:
        """Whether everything received so far has been applied (for tests and benchmarks)."""
        return self._queue.unfinished_tasks == 0


KEPT_HEADERS = (
    "x-shopify-topic",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-triggered-at",
    "x-recharge-topic",
)


ORDERED_AS_RECEIVED = "dated too far ahead of the bot's clock when received: ordered as of then"


def _held_note(latest: datetime, now: datetime, skew: timedelta) -> str:
    """The journal note of a held delivery: what is wrong, and what happens and to do."""
    return (
        f"held: dated in the future, {latest:%Y-%m-%d %H:%M} UTC, {_span(latest - now)} ahead "
        f"of the bot's clock (at most {_span(skew)} allowed). It is applied by itself once that "
        "time comes, as of when it was received, so it never outranks a later update. From a "
        "vendor's test clock or a replayed payload it needs nothing; if every delivery is held, "
        "the bot's clock is slow: set it right (NTP)."
    )


def _span(delta: timedelta) -> str:
    """A duration in its two largest units: "3 days 4 hours", "5 minutes", "12 seconds"."""
    left = int(delta.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: headers[k] for k in KEPT_HEADERS if k in headers}
