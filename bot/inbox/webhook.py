"""Authentication for the inbound-email webhook (`POST /inbox`, mounted by the HTTP front door).

A forwarding service (or your own relay) posts the raw MIME message as the request body and
signs it: `X-Care-Signature: sha256=<hex>` where `<hex>` is the HMAC-SHA256 of the exact body
bytes keyed with `INBOX_WEBHOOK_SECRET`. Unsigned or wrongly signed requests get 401 and change
nothing; bodies over `MAX_BODY` get 413. Example signing with openssl:

    sig=$(openssl dgst -sha256 -hmac "$INBOX_WEBHOOK_SECRET" -hex < message.eml | sed 's/^.* //')
    curl -X POST --data-binary @message.eml -H "X-Care-Signature: sha256=$sig" \\
        https://care.example.com/inbox
"""

from __future__ import annotations

import hashlib
import hmac

MAX_BODY = 10 * 1024 * 1024  # 10 MB
SIGNATURE_HEADER = "X-Care-Signature"
_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The `X-Care-Signature` header value for `body` (for senders and tests)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(body: bytes, header_value: str, secret: str) -> bool:
    """True when `header_value` is `sha256=<hex HMAC-SHA256 of body keyed with secret>`.

    The comparison is constant-time. An empty secret never verifies: a webhook without
    `INBOX_WEBHOOK_SECRET` must stay closed rather than accept anything.
    """
    if not secret or not header_value:
        return False
    value = header_value.strip()
    if not value.lower().startswith(_PREFIX):
        return False
    expected = sign(body, secret)[len(_PREFIX) :]
    given = value[len(_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode("ascii", errors="replace"))


def check_request(body: bytes, header_value: str, secret: str) -> tuple[int, str] | None:
    """Why a webhook request must be refused, as (HTTP status, message), or None if it is fine.

    Check `Content-Length` against `MAX_BODY` before reading the body when you can; this
    checks the body that was read as well.
    """
    if len(body) > MAX_BODY:
        return 413, f"Message too large: the inbox webhook accepts up to {MAX_BODY // 2**20} MB."
    if not secret:
        return 401, "The inbox webhook is not configured: set INBOX_WEBHOOK_SECRET on the bot."
    if not header_value:
        return 401, f"Missing {SIGNATURE_HEADER} header: sign the body with HMAC-SHA256."
    if not verify_signature(body, header_value, secret):
        return 401, f"Wrong {SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of the body>."
    return None
