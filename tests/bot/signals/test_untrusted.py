"""Whatever bytes and headers arrive, a receiver answers with a refusal or an envelope: never
another exception (which would be a 500 and a retry storm)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.signals.chargebee import ChargebeeReceiver
from bot.signals.front import FrontReceiver
from bot.signals.gorgias import GorgiasReceiver
from bot.signals.model import Envelope, Refused
from bot.signals.recharge import RechargeReceiver
from bot.signals.shopify import ShopifyReceiver
from bot.signals.stripe import StripeReceiver
from bot.signals.zendesk import ZendeskReceiver

RECEIVERS = [
    StripeReceiver("whsec_x"),
    ShopifyReceiver("s"),
    ChargebeeReceiver("u", "p"),
    RechargeReceiver("s"),
    ZendeskReceiver("s"),
    GorgiasReceiver("t"),
    FrontReceiver("s"),
]
HEADER_NAMES = st.sampled_from(
    [
        "stripe-signature",
        "x-shopify-hmac-sha256",
        "x-shopify-topic",
        "x-shopify-webhook-id",
        "authorization",
        "x-recharge-webhook-signature",
        "x-recharge-hmac-sha256",
        "x-recharge-topic",
        "x-zendesk-webhook-signature",
        "x-zendesk-webhook-signature-timestamp",
        "x-front-signature",
        "x-front-request-timestamp",
    ]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300) | JSONISH.map(lambda v: repr(v).encode()),
    headers=st.dictionaries(HEADER_NAMES, st.text(max_size=80), max_size=6),
)
def test_verify_and_identify_only_refuse(body: bytes, headers: dict[str, str]):
    for receiver in RECEIVERS:
        try:
            receiver.verify(body, headers)
        except Refused as refused:
            assert refused.status in (400, 401)
        try:
            assert isinstance(receiver.identify(body, headers), Envelope)
        except Refused as refused:
            assert refused.status == 400
        except Exception as exc:  # Front's sync handshake is an answer, not an error
            assert type(exc).__name__ == "Handshake"


@settings(max_examples=60, deadline=None)
@given(
    event=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "type",
                "event_type",
                "created",
                "occurred_at",
                "data",
                "content",
                "event",
                "ticket_id",
                "payload",
            ]
        ),
        JSONISH,
        max_size=8,
    )
)
def test_identify_on_json_objects_only_refuses(event: dict):
    import json

    body = json.dumps(event).encode()
    for receiver in RECEIVERS:
        try:
            receiver.identify(
                body,
                {
                    "x-shopify-topic": "t",
                    "x-shopify-webhook-id": "w",
                    "x-recharge-topic": "subscription/updated",
                },
            )
        except Refused:
            pass
        except Exception as exc:
            assert type(exc).__name__ == "Handshake"
