"""Vendor deliveries for the live-signal tests: real payloads from ../shared/webhooks, signed
the way each vendor signs (the sender's side of the scheme, which only tests need)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import SHARED

HOOKS = SHARED / "webhooks"
STRIPE = HOOKS / "stripe"
STRIPE_SECRET = "whsec_test_local"  # the secret the recorded localstripe deliveries used


@cache
def _load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def stripe_made(event_type: str) -> dict[str, Any]:
    """A Stripe-CLI-made event (stripe-ruby-mock fixtures), as a fresh dict to adjust."""
    return copy.deepcopy(_load(STRIPE / "stripe-ruby-mock-events" / f"{event_type}.json"))


def stripe_event(event_type: str, event_id: str, created: int, **obj: Any) -> dict[str, Any]:
    """A Stripe-made event of `event_type`, with its id, time and object fields set."""
    event = stripe_made(event_type)
    event["id"], event["created"] = event_id, created
    event["data"]["object"].update(obj)
    return event


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, t: int | None = None) -> str:
    """`Stripe-Signature` as Stripe computes it: hex HMAC-SHA256 of "<t>.<body>"."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def stripe_request(
    event: dict[str, Any], secret: str = STRIPE_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {
        "Stripe-Signature": stripe_signature(body, secret),
        "Content-Type": "application/json",
    }


def recorded_stripe(name: str) -> tuple[bytes, dict[str, str]]:
    """A delivery localstripe made, byte for byte: (raw body, headers)."""
    folder = STRIPE / "localstripe" / "signed"
    body = (folder / f"{name}.body.json").read_bytes()
    headers = json.loads((folder / f"{name}.headers.json").read_text())["headers"]
    return body, headers


# ----- Shopify, Chargebee, Recharge: their real payloads, signed by their schemes -------------

SHOPIFY_SECRET = "shpss_test_secret"
CHARGEBEE_USER, CHARGEBEE_PASSWORD = "care", "cb-basic-password"
RECHARGE_SECRET = "recharge_client_secret"


def shared_body(vendor: str, name: str) -> bytes:
    """A vendor payload from ../shared/webhooks, byte for byte."""
    return (HOOKS / vendor / name).read_bytes()


def shared_json(vendor: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(_load(HOOKS / vendor / name))


def shopify_headers(
    body: bytes, topic: str, webhook_id: str, event_id: str = "", triggered_at: str = ""
) -> dict[str, str]:
    mac = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(mac).decode(),
        "X-Shopify-Shop-Domain": "care-test.myshopify.com",
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": webhook_id,
    }
    if event_id:
        headers["X-Shopify-Event-Id"] = event_id
    if triggered_at:
        headers["X-Shopify-Triggered-At"] = triggered_at
    return headers


def chargebee_headers(
    user: str = CHARGEBEE_USER, password: str = CHARGEBEE_PASSWORD
) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}


def recharge_headers(
    body: bytes, topic: str, t: int | None = None, legacy: bool = False
) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Recharge-Topic": topic}
    if legacy:
        headers["X-Recharge-Hmac-Sha256"] = hashlib.sha256(
            RECHARGE_SECRET.encode() + body
        ).hexdigest()
    else:
        t = int(time.time()) if t is None else t
        mac = hmac.new(
            RECHARGE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256
        ).hexdigest()
        headers["X-Recharge-Webhook-Signature"] = f"t={t},v1={mac}"
        headers["X-Recharge-Webhook-Timestamp"] = str(t)
    return headers


# ----- Zendesk, Gorgias, Front ---------------------------------------------------------------

ZENDESK_SECRET = "zendesk-signing-secret"
GORGIAS_TOKEN = "gorgias-long-random-token"
FRONT_SECRET = "front-app-secret"


def zendesk_headers(body: bytes, stamp: str = "2026-06-15T13:30:00Z") -> dict[str, str]:
    mac = hmac.new(ZENDESK_SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def gorgias_headers(token: str = GORGIAS_TOKEN) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def front_headers(body: bytes, ms: int | None = None, challenge: str = "") -> dict[str, str]:
    ms = int(time.time() * 1000) if ms is None else ms
    mac = hmac.new(FRONT_SECRET.encode(), f"{ms}:".encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Front-Signature": base64.b64encode(mac).decode(),
        "X-Front-Request-Timestamp": str(ms),
    }
    if challenge:
        headers["X-Front-Challenge"] = challenge
    return headers


def helpdesk_body(event: str, ticket: str, email: str, **fields: Any) -> bytes:
    """The trigger template of docs/live-signals.md, as Zendesk or Gorgias fill it in."""
    return json.dumps({"event": event, "ticket_id": ticket, "email": email, **fields}).encode()
