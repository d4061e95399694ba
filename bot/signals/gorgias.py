"""Gorgias: `POST /hooks/gorgias`, an HTTP integration with a bearer token, helpdesk signals.

Gorgias signs nothing: an HTTP integration sends the headers you configure. Configure
`Authorization: Bearer <GORGIAS_WEBHOOK_TOKEN>` (a long random value); it is compared in
constant time. The body is the template of `bot.signals.helpdesk`, filled with Gorgias
variables (`{{ticket.id}}`, `{{ticket.customer.email}}`, ...). A SatisfactionSurvey object
(score 1-5, `ticket_id`, `scored_datetime`) relayed with the customer's `email` is read as a
rating too.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.repos.journal import Delivery
from bot.signals.helpdesk import parse_template, template_envelope
from bot.signals.model import Envelope, Refused, Signal, json_body

SOURCE = "gorgias"


def _as_template(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A SatisfactionSurvey object in the template's terms; other bodies as they are."""
    if "score" in data and "ticket_id" in data and "event" not in data:
        return {
            "event": "satisfaction_rated",
            "ticket_id": data["ticket_id"],
            "email": data.get("email", ""),
            "rating": data["score"],
            "comment": data.get("body_text") or "",
            "updated_at": data.get("scored_datetime") or data.get("created_datetime") or "",
        }
    return data


class GorgiasReceiver:
    source = SOURCE

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "missing Authorization: Bearer <GORGIAS_WEBHOOK_TOKEN>")
        if not hmac.compare_digest(token.strip().encode("utf-8", "replace"), self._token):
            raise Refused(401, "wrong Gorgias token")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        return template_envelope(SOURCE, _as_template(json_body(body)))

    def parse(self, delivery: Delivery) -> list[Signal]:
        data = _as_template(json.loads(delivery.body))
        return parse_template(SOURCE, data, delivery.received_at)
