"""Zendesk: `POST /hooks/zendesk`, Zendesk's webhook signature, trigger bodies as helpdesk signals.

`X-Zendesk-Webhook-Signature` is the base64 HMAC-SHA256 of `TIMESTAMP + BODY` (no separator)
keyed with the webhook's signing secret (`ZENDESK_WEBHOOK_SECRET`), TIMESTAMP being the
`X-Zendesk-Webhook-Signature-Timestamp` header (developer.zendesk.com, "Verifying webhook
authenticity"). Zendesk states no tolerance window, so none is enforced; a replay is a
duplicate of its key and changes nothing.

Trigger webhooks send the template of `bot.signals.helpdesk`. Event-subscribed webhooks
(`zen:event-type:...`) name the requester by user id only, so they are journalled and marked
ignored with that reason: use a trigger for tickets and ratings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from bot.repos.journal import Delivery
from bot.signals.helpdesk import parse_template, template_envelope
from bot.signals.model import Envelope, Refused, Signal, from_iso, json_body

SOURCE = "zendesk"


class ZendeskReceiver:
    source = SOURCE

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = headers.get("x-zendesk-webhook-signature", "").strip()
        stamp = headers.get("x-zendesk-webhook-signature-timestamp", "")
        if not given or not stamp:
            raise Refused(401, "missing X-Zendesk-Webhook-Signature or its timestamp")
        digest = hmac.new(self._secret, stamp.encode() + body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), given.encode("ascii", "replace")):
            raise Refused(401, "wrong X-Zendesk-Webhook-Signature")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        data = json_body(body)
        if str(data.get("type", "")).startswith("zen:event-type:") and data.get("id"):
            return Envelope(f"{SOURCE}:{data['id']}", str(data["type"]), from_iso(data.get("time")))
        return template_envelope(SOURCE, data)

    def parse(self, delivery: Delivery) -> list[Signal]:
        data = json.loads(delivery.body)
        if delivery.type.startswith("zen:event-type:"):
            return []
        return parse_template(SOURCE, data, delivery.received_at)
