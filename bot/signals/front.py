"""Front: `POST /hooks/front`, application webhooks signed with the app secret.

`X-Front-Signature` is the base64 HMAC-SHA256, keyed with the app secret
(`FRONT_WEBHOOK_SECRET`), of `"<X-Front-Request-Timestamp>:" + body` (dev.frontapp.com,
application webhooks); requests older than 5 minutes are refused, as Front recommends. When the
webhook is saved Front sends `{"type": "sync"}` with `X-Front-Challenge`: it is answered with
the challenge and nothing is stored.

An application webhook wraps the event as `{type, authorization, payload}`; the event's
fields (`id`, `type`, `emitted_at`, `conversation`, `target`) are those of Front's
EventResponse. For the conversation's contact (`conversation.recipient.handle`, an email
address): an `inbound` message is a `support_contact`, a teammate's `outbound` message or
`out_reply` a `support_reply`, and `archive` a `support_solved`, each noted with the
conversation (the service metrics time first response and resolution from them). Front has no
CSAT event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.repos.journal import Delivery
from bot.signals.model import Envelope, Handshake, Happening, Refused, Signal, from_unix, json_body

SOURCE = "front"
MAX_AGE = 300  # seconds
KINDS = {
    "inbound": "support_contact",
    "outbound": "support_reply",
    "out_reply": "support_reply",
    "archive": "support_solved",
}


class FrontReceiver:
    source = SOURCE

    def __init__(self, secret: str, now: Callable[[], float] = time.time) -> None:
        self._secret = secret.encode()
        self._now = now

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = headers.get("x-front-signature", "").strip()
        stamp = headers.get("x-front-request-timestamp", "").strip()
        if not given or not stamp:
            raise Refused(401, "missing X-Front-Signature or X-Front-Request-Timestamp")
        digest = hmac.new(self._secret, stamp.encode() + b":" + body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), given.encode("ascii", "replace")):
            raise Refused(401, "wrong X-Front-Signature")
        try:
            sent = int(stamp) / 1000
        except ValueError:
            raise Refused(401, "X-Front-Request-Timestamp is not a time in milliseconds") from None
        if sent < self._now() - MAX_AGE:
            raise Refused(401, "stale X-Front-Request-Timestamp: over 5 minutes old")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        data = json_body(body)
        if data.get("type") == "sync":
            raise Handshake({"challenge": headers.get("x-front-challenge", "")})
        event = _event(data)
        if not event.get("id") or not event.get("type"):
            raise Refused(400, "not a Front event: it has no id or type")
        return Envelope(
            f"{SOURCE}:{event['id']}", str(event["type"]), from_unix(event.get("emitted_at"))
        )

    def parse(self, delivery: Delivery) -> list[Signal]:
        event = _event(json.loads(delivery.body))
        kind = KINDS.get(str(event.get("type")))
        if kind is None:
            return []
        recipient = (event.get("conversation") or {}).get("recipient") or {}
        email = str(recipient.get("handle") or "").strip().lower()
        if "@" not in email:
            return []
        at = from_unix(event.get("emitted_at")) or delivery.received_at
        conversation = str((event.get("conversation") or {}).get("id") or "")
        return [
            Signal(
                SOURCE,
                str(event["type"]),
                at,
                email=email,
                name=str(recipient.get("name") or ""),
                happenings=[Happening(kind, note=f"conversation {conversation}")],
            )
        ]


def _event(data: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = data.get("payload")
    return payload if isinstance(payload, dict) else data
