"""The inbound-email webhook's contract (`POST /inbox`, a signed route of `handlers.webhooks`).

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
