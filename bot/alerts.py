"""Live-signal alerts: which applied events the team must see at once, posted exactly once.

`alerts_for` decides from an applied signal and the `[alerts]` rules (pure). `AlertService`
posts them: each customer's alerts go to one thread in the alerts channel, whose parent shows
the latest alert, the customer's context and the Claim / Log outreach buttons of the
customer's churn-risk task (opened or raised for the alert, as a cancel-request email does).
A recovered payment closes the open thread; the next alert opens a new one.

Exactly once: an alert's key is recorded as "posting" before the post and with its `ts`
after it; the message carries the key in its Slack metadata, so a crash between the two is
resolved by finding the message rather than posting again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.blocks.alerts import Alert, AlertView, build_alert_parent, build_alert_reply
from bot.clock import Clock
from bot.models import Task
from bot.posting import MessageSink
from bot.repos import Repos
from bot.repos.alerts import AlertRepo, AlertThread
from bot.repos.journal import Delivery
from bot.rescore import refresh_churn_risk
from bot.risk import score
from bot.signals.apply import Applied
from bot.stage import lifecycle_stage
from config import Settings
from config.rules import AlertRules

log = logging.getLogger(__name__)
META_TYPE = "care_alert"
KEPT_DECLINES = 5
DECLINE_WINDOW_S = 86400


def alerts_for(applied: Applied, rules: AlertRules, key: str) -> list[Alert]:
    """The alerts an applied signal raises under `rules` (recoveries always: they close)."""
    signal, sub = applied.signal, applied.subscriber
    if sub is None:
        return []
    facts = signal.facts
    retry = facts.get("next_retry") or ""
    out = []
    for happening in signal.happenings:
        kind = happening.type
        if kind == "csat":
            if (
                not rules.low_csat
                or happening.value is None
                or happening.value > rules.low_csat_max
            ):
                continue
            kind = "low_csat"
        elif kind == "payment_failed":
            if not rules.payment_failed or sub.monthly_value < rules.payment_failed_min_value:
                continue
        elif kind in ("retries_exhausted", "cancellation_scheduled", "canceled"):
            if not getattr(rules, kind):
                continue
        elif kind != "payment_recovered":
            continue
        out.append(
            Alert(
                key=f"{key}:{kind}",
                kind=kind,
                source=signal.source,
                at=signal.at,
                amount=facts.get("amount", happening.value),
                currency=str(facts.get("currency") or sub.currency),
                attempt=int(facts.get("attempt") or 0),
                next_retry=datetime.fromisoformat(retry) if retry else None,
                decline_code=str(facts.get("decline_code") or ""),
                hard=bool(facts.get("hard")),
                reason=str(facts.get("reason") or happening.note or ""),
                ends=str(facts.get("ends") or ""),
                score=happening.value if kind == "low_csat" else None,
                invoice=str(facts.get("invoice") or ""),
                retry_unknown=bool(facts.get("retry_unknown")),
            )
        )
    return out


class AlertService:
    """Posts alerts in per-customer threads.

    Args:
        repos: the store's repositories.
        threads: alert threads per subscriber.
        settings: `[alerts]` rules, the alerts channel, risk rules and timezone.
        clock: the time.
        sink: posts and edits Slack messages.
    """

    def __init__(
        self,
        repos: Repos,
        threads: AlertRepo,
        settings: Settings,
        clock: Clock,
        sink: MessageSink,
    ) -> None:
        self._repos = repos
        self._threads = threads
        self._settings = settings
        self.settings = settings
        self._clock = clock
        self._sink = sink
        self.channel = settings.slack.alerts_channel

    def on_applied(self, delivery: Delivery, applied: Sequence[Applied]) -> None:
        """`Intake` listener: post the alerts these applied signals raise."""
        for outcome in applied:
            if outcome.subscriber is not None and _is_decline(outcome):
                self.decline(outcome.subscriber.id, outcome.signal.facts, outcome.signal.at)
            for alert in alerts_for(outcome, self._settings.alerts, delivery.id):
                assert outcome.subscriber is not None
                self.post(outcome.subscriber.id, alert)

    def decline(self, sid: str, facts: dict[str, Any], at: datetime) -> None:
        """A decline reported apart from its failed payment (Stripe's `charge.failed`): complete
        the payment's alert with it, now or when that alert comes."""
        seen = {
            "invoice": str(facts.get("invoice") or ""),
            "decline_code": str(facts["decline_code"]),
            "hard": bool(facts.get("hard")),
            "at": at.isoformat(),
        }
        completed: list[bool] = []

        def change(thread: AlertThread) -> None:
            thread.declines = [*thread.declines[-(KEPT_DECLINES - 1) :], seen]
            for doc in reversed(thread.alerts):
                if doc["kind"] == "payment_failed" and not doc.get("decline_code"):
                    if _same_attempt(doc.get("invoice") or "", doc["at"], seen):
                        doc["decline_code"], doc["hard"] = seen["decline_code"], seen["hard"]
                        completed.append(True)
                    break

        if not self.channel:
            return
        thread = self._threads.mutate(sid, change)
        if completed and thread.open:
            self._redraw(thread)

    def post(self, sid: str, alert: Alert) -> None:
        """Post one alert in its customer's thread, exactly once."""
        if not self.channel:
            return
        thread = self._threads.get(sid) or AlertThread(id=sid)
        if thread.posted.get(alert.key):
            return
        if alert.kind == "payment_recovered" and not thread.open:
            return  # nothing to close
        if alert.key in thread.posted and self._already_posted(thread, alert.key):
            return
        if alert.kind == "payment_failed" and not alert.decline_code:
            for seen in reversed(thread.declines):
                if _same_attempt(alert.invoice, alert.at.isoformat(), seen):
                    alert.decline_code, alert.hard = seen["decline_code"], seen["hard"]
                    break
        task = None
        if alert.kind != "payment_recovered":
            # A scheduled cancellation asks for a save call timed before it ends (the engine's
            # save task), not a task today: only an alert that needs a person now forces one.
            task = self._task(sid, force=alert.kind != "cancellation_scheduled")
        self._threads.mutate(sid, lambda t: t.posted.__setitem__(alert.key, ""))
        if thread.open:
            ts = self._sink.post(
                thread.channel,
                build_alert_reply(alert, self._settings.timezone),
                thread_ts=thread.ts,
                metadata=_meta(alert.key),
            )
        else:
            view = self._view(sid, [alert], task)
            ts = self._sink.post(self.channel, self._parent(view), metadata=_meta(alert.key))
        closing = alert.kind == "payment_recovered"
        now = self._clock.now()

        def record(t: AlertThread) -> None:
            t.posted[alert.key] = ts
            if not t.open:
                t.channel, t.ts, t.opened_at, t.alerts = self.channel, ts, now, []
            t.alerts.append(_alert_doc(alert))
            if task is not None:
                t.task_id = task.id

        updated = self._threads.mutate(sid, record)
        if len(updated.alerts) > 1 or closing:
            self._redraw(updated, closed=closing)
        if closing:
            self._threads.mutate(sid, _close(now))

    def refresh(self, tasks: Sequence[Task]) -> None:
        """Redraw open threads whose task changed (a claim, a log): the digest's buttons."""
        for sid in {t.subscriber_id for t in tasks}:
            thread = self._threads.get(sid)
            if thread is not None and thread.open and thread.task_id in {t.id for t in tasks}:
                self._redraw(thread)

    # ----- helpers -------------------------------------------------------------------------

    def _already_posted(self, thread: AlertThread, key: str) -> bool:
        """A post that was under way when the bot stopped: find it by its metadata."""
        channel = thread.channel or self.channel
        found = self._sink.find(channel, _meta(key), thread_ts=thread.ts)
        if key in found:
            self._threads.mutate(thread.id, lambda t: t.posted.__setitem__(key, found[key]))
            return True
        return False

    def _task(self, sid: str, force: bool = True) -> Task | None:
        """The task the alert's buttons act on. An alert that needs a person now forces one
        (`force`), but not for a customer whose every subscription has ended: there is no
        churn left to prevent, so only the usual rules (band, cooldown) may open one."""
        sub = self._repos.subscribers.get(sid)
        ended = sub is not None and bool(sub.subscriptions) and not sub.live_subscriptions
        now = self._clock.now()
        task = refresh_churn_risk(sid, self._repos, self._settings, now, force=force and not ended)
        if task is not None:
            return task
        active = [t for t in self._repos.tasks.for_subscriber(sid) if t.active]
        return min(active, key=lambda t: (t.kind != "churn_risk", t.due), default=None)

    def _view(
        self, sid: str, alerts: list[Alert], task: Task | None, closed: bool = False
    ) -> AlertView:
        sub = self._repos.subscribers.get(sid)
        assert sub is not None
        today = self._clock.now().astimezone(self._settings.timezone).date()
        events = self._repos.events.for_subscriber(sid)
        risk = score(sub, events, today, self._settings.risk, tz=self._settings.timezone)
        return AlertView(
            sub, alerts, stage=lifecycle_stage(sub, today), risk=risk, task=task, closed=closed
        )

    def _parent(self, view: AlertView) -> dict[str, Any]:
        today = self._clock.now().astimezone(self._settings.timezone).date()
        return build_alert_parent(view, today, self._settings.timezone)

    def _redraw(self, thread: AlertThread, closed: bool = False) -> None:
        alerts = [_alert(a) for a in thread.alerts]
        if not alerts or not thread.ts:
            return
        task = self._repos.tasks.get(thread.task_id) if thread.task_id else None
        view = self._view(thread.id, alerts, task, closed=closed)
        self._sink.update(thread.channel, thread.ts, self._parent(view))


def _is_decline(outcome: Applied) -> bool:
    signal = outcome.signal
    return not signal.happenings and bool(signal.facts.get("decline_code"))


def _same_attempt(invoice: str, at: str, seen: dict[str, Any]) -> bool:
    """Whether a decline reported apart belongs to a failed payment: the same invoice when both
    name one, else within a day of each other (Stripe sends them together)."""
    if invoice and seen["invoice"]:
        return bool(invoice == seen["invoice"])
    apart = datetime.fromisoformat(at) - datetime.fromisoformat(seen["at"])
    return abs(apart.total_seconds()) <= DECLINE_WINDOW_S


def _meta(key: str) -> dict[str, Any]:
    return {"event_type": META_TYPE, "event_payload": {"key": key}}


def _close(now: datetime):  # noqa: ANN202 - a mutate callback
    def close(thread: AlertThread) -> None:
        thread.ts, thread.closed_at, thread.alerts, thread.task_id = "", now, [], ""

    return close


def _alert_doc(alert: Alert) -> dict[str, Any]:
    """An alert as JSON values, to keep in its thread's record."""
    doc = dict(alert.__dict__)
    doc["at"] = alert.at.isoformat()
    doc["next_retry"] = alert.next_retry.isoformat() if alert.next_retry else None
    return doc


def _alert(doc: dict[str, Any]) -> Alert:
    values = dict(doc)
    values["at"] = datetime.fromisoformat(values["at"])
    if values.get("next_retry"):
        values["next_retry"] = (
            values["next_retry"]
            if isinstance(values["next_retry"], datetime)
            else datetime.fromisoformat(values["next_retry"])
        )
    return Alert(**values)
