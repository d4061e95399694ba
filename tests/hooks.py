"""Vendor deliveries for the live-signal tests: real payloads from ../shared/webhooks, signed
the way each vendor signs (the sender's side of the scheme, which only tests need)."""

from __future__ import annotations

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
