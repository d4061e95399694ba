"""Helpdesks: Zendesk, Gorgias and Front, as support contacts and CSAT on the subscriber.

A helpdesk knows the customer by email. A ticket (or an inbound conversation) is a
`support_contact`; a satisfaction rating is a `csat` from 0 to 100 (Zendesk good = 100,
bad = 0; a 1-5 score s = (s - 1) x 25). An agent's public reply is a `support_reply` and a
solved ticket a `support_solved`, both noted with the ticket, so the service metrics
(`bot.metrics.service`) time the ticket's first response and resolution from its
`support_contact`. A helpdesk never creates a subscriber: an event from an address the store
does not know waits for that customer.

Zendesk triggers and Gorgias HTTP integrations send the body you write, so both take the
same template (docs/live-signals.md), filled with their placeholders:

    {"event": "ticket_created" | "agent_replied" | "ticket_solved" | "satisfaction_rated",
     "ticket_id": "...", "email": "...", "name": "...", "updated_at": "<ISO time>",
     "rating": "good" | "bad" | 1-5, "comment": "..."}

Each vendor module checks its sender and names its dedupe key; `parse_template` reads the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.signals.model import Envelope, Happening, Refused, Signal, from_iso

EVENTS = {
    "ticket_created": "support_contact",
    "ticket-created": "support_contact",
    "agent_replied": "support_reply",
    "agent-replied": "support_reply",
    "ticket_solved": "support_solved",
    "ticket-solved": "support_solved",
    "ticket-closed": "support_solved",
    "satisfaction_rated": "csat",
    "satisfaction-rated": "csat",
}
WORDS = {"good": 100.0, "great": 100.0, "bad": 0.0}


def csat_value(rating: Any) -> float | None:
    """A rating as CSAT 0-100: good/bad words, or a 1-5 score; None when unreadable."""
    text = str(rating if rating is not None else "").strip().lower()
    if text in WORDS:
        return WORDS[text]
    if text.startswith(("good", "bad")):  # Zendesk's "Good, I'm satisfied"
        return WORDS[text[:4].rstrip(",")] if text[:4] == "good" else 0.0
    try:
        score = float(text)
    except ValueError:
        return None
    return (score - 1) * 25 if 1 <= score <= 5 else None


def template_envelope(source: str, data: Mapping[str, Any]) -> Envelope:
    """The key of a templated body: event, ticket and its update time."""
    event, ticket = str(data.get("event") or ""), str(data.get("ticket_id") or "")
    if not event or not ticket:
        raise Refused(400, f"not a {source} webhook body: it needs event and ticket_id")
    updated = str(data.get("updated_at") or data.get("created_at") or "")
    return Envelope(f"{source}:{event}:{ticket}:{updated}", event, from_iso(updated))


def parse_template(source: str, data: Mapping[str, Any], received: datetime) -> list[Signal]:
    """The signals of a templated helpdesk body; [] for events care does not use."""
    kind = EVENTS.get(str(data.get("event") or ""))
    email = str(data.get("email") or "").strip().lower()
    if kind is None or not email:
        return []
    at = from_iso(data.get("updated_at") or data.get("created_at")) or received
    signal = Signal(source, str(data["event"]), at, email=email, name=str(data.get("name") or ""))
    comment = str(data.get("comment") or "")
    if kind == "csat":
        value = csat_value(data.get("rating"))
        if value is None:
            return []
        signal.happenings.append(Happening("csat", value, comment))
    else:
        signal.happenings.append(Happening(kind, note=f"ticket {data['ticket_id']}"))
    signal.facts = {"ticket": str(data["ticket_id"]), "reason": comment}
    return [signal]
