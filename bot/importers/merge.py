"""Merging imported rows into subscribers: identity, several subscriptions, upsert, history.

Rules:
- A subscriber is a customer. Its id is the source customer id, else the lower-cased email.
  A row whose id is unknown but whose email (case-insensitive) belongs to a subscriber
  updates that subscriber, so the same person exported by two systems is one subscriber.
- Rows of one customer add or update `Subscription` entries, matched by subscription id.
- `first_started` is the earliest start ever seen and never moves later.
- A later export replaces status, dates, plan and price; each change of status or of
  cancel-at-period-end is appended to `Subscriber.history`. A known cancellation or end date
  is never erased by an export that leaves it empty: win-back needs it.
- Nothing is written here: `Merger.result()` says what changed, and the caller writes the
  changed subscribers in one `SubscriberRepo.put_many`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.importers.formats import CustomerRow
from bot.models import Subscriber, Subscription
from bot.repos.subscribers import SubscriberRepo
from bot.store import copy_doc

TRACKED = ("status", "cancel_at_period_end")


@dataclass
class MergeResult:
    """Subscribers touched by an import, sorted into what happened to them."""

    created: list[Subscriber] = field(default_factory=list)
    updated: list[Subscriber] = field(default_factory=list)
    unchanged: list[Subscriber] = field(default_factory=list)

    @property
    def changed(self) -> list[Subscriber]:
        return self.created + self.updated


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


class Merger:
    """Folds rows into subscribers in memory, against the subscribers already stored.

    Args:
        repo: where existing subscribers are read from (nothing is written).
        source: the format name, recorded on subscribers this import creates.
        now: the import time, used in history entries and `updated_at`.
        few: look subscribers up one by one instead of reading them all first (a webhook
            folds one row; a file folds thousands).
    """

    def __init__(
        self, repo: SubscriberRepo, source: str, now: datetime, *, few: bool = False
    ) -> None:
        self._source = source
        self._now = now
        self._at = now.isoformat(timespec="seconds")
        self._stored: dict[str, dict[str, Any]] = {}
        self._email_owner: dict[str, str] = {}
        self._work: dict[str, Subscriber] = {}
        self._resolved: dict[str, str] = {}  # row key -> subscriber id
        # A file of rows reads every subscriber once; a webhook's one row looks up only its own.
        self._repo = repo if few else None
        if few:
            return
        self._stored = {doc["id"]: doc for doc in repo.raw()}
        for doc in self._stored.values():
            email = (doc.get("email") or "").lower()
            if email:
                self._email_owner.setdefault(email, doc["id"])

    def _stored_doc(self, sid: str) -> dict[str, Any] | None:
        if self._repo is not None and sid not in self._stored:
            doc = self._repo.raw_doc(sid)
            if doc is not None:
                self._stored[sid] = doc
        return self._stored.get(sid)

    def _owner_of(self, email: str) -> str | None:
        if self._repo is not None and email not in self._email_owner:
            sid = self._repo.id_by_email(email)
            if sid is not None:
                self._email_owner[email] = sid
        return self._email_owner.get(email)

    def add(self, row: CustomerRow, source: str = "") -> Subscriber:
        """Fold one row into its subscriber (found or new) and return that subscriber.

        `source` overrides the merger's source for a subscriber this row creates.
        """
        sub = self._subscriber_for(row, source or self._source)
        if row.email and sub.email != row.email:
            sub.email = row.email
            self._email_owner.setdefault(row.email, sub.id)
        if row.name:
            sub.name = row.name
        if row.owner:
            sub.owner = row.owner
        if row.tags is not None:
            sub.tags = row.tags
        sub.last_order = _latest(sub.last_order, row.last_order)
        if row.subscription is not None:
            self._apply(sub, row.subscription)
        return sub

    def find(self, customer_id: str, email: str) -> str | None:
        """The subscriber a customer id or address resolves to: folded here, or stored."""
        return self._find(CustomerRow(line=0, customer_id=customer_id, email=email))

    def current(self, sid: str) -> Subscriber | None:
        """The subscriber as folded so far (or as stored); changing it changes the fold."""
        if sid in self._work:
            return self._work[sid]
        doc = self._stored_doc(sid)
        if doc is None:
            return None
        self._work[sid] = Subscriber.from_doc(copy_doc(doc))
        return self._work[sid]

    def _subscriber_for(self, row: CustomerRow, source: str) -> Subscriber:
        key = row.key
        sid = self._resolved.get(key)
        if sid is None:
            sid = self._find(row) or key
            self._resolved[key] = sid
        sub = self._work.get(sid)
        if sub is None:
            doc = self._stored_doc(sid)
            if doc is not None:
                sub = Subscriber.from_doc(copy_doc(doc))
            else:
                sub = Subscriber(id=sid, email=row.email, source=source)
                if row.email:
                    self._email_owner.setdefault(row.email, sid)
            self._work[sid] = sub
        return sub

    def _find(self, row: CustomerRow) -> str | None:
        """An existing subscriber for the row: by customer id, else by email."""
        if row.customer_id and (
            row.customer_id in self._work or self._stored_doc(row.customer_id) is not None
        ):
            return row.customer_id
        if row.email:
            return self._owner_of(row.email)
        return None

    def _apply(self, sub: Subscriber, new: Subscription) -> None:
        index = next((i for i, s in enumerate(sub.subscriptions) if s.id == new.id), None)
        if index is None:
            sub.subscriptions.append(new)
        else:
            old = sub.subscriptions[index]
            for name in TRACKED:
                before, after = getattr(old, name), getattr(new, name)
                if before != after:
                    sub.history.append(
                        {"at": self._at, "field": name, "from": before, "to": after, "sub": new.id}
                    )
            new.canceled_at = new.canceled_at or old.canceled_at
            new.ended_at = new.ended_at or old.ended_at
            new.trial_end = new.trial_end or old.trial_end
            new.started = _earliest(old.started, new.started)
            new.cancellation_reason = new.cancellation_reason or old.cancellation_reason
            new.cancellation_comment = new.cancellation_comment or old.cancellation_comment
            sub.subscriptions[index] = new
        sub.first_started = _earliest(sub.first_started, new.started)

    def result(self) -> MergeResult:
        """What the rows did: subscribers created, updated (stamped `updated_at`) or unchanged."""
        result = MergeResult()
        for sid, sub in self._work.items():
            before = self._stored.get(sid)
            if before is None:
                sub.updated_at = self._now
                result.created.append(sub)
                continue
            after = sub.to_doc()
            if _same(before, after):
                result.unchanged.append(sub)
            else:
                sub.updated_at = self._now
                result.updated.append(sub)
        return result


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether two subscriber documents hold the same data, apart from `updated_at`.

    An empty value and a missing key are the same: documents may be written with or without
    their empty fields.
    """
    before = {k: v for k, v in before.items() if k != "updated_at"}
    after = {k: v for k, v in after.items() if k != "updated_at"}
    return bool(_meaningful(before) == _meaningful(after))


def _meaningful(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _meaningful(v) for k, v in value.items() if not _empty(v)}
    if isinstance(value, list):
        return [_meaningful(v) for v in value]
    return value


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)
