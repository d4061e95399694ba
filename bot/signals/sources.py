"""The receivers a deployment has turned on: one per vendor whose secret is configured."""

from __future__ import annotations

from bot.signals.chargebee import ChargebeeReceiver
from bot.signals.front import FrontReceiver
from bot.signals.gorgias import GorgiasReceiver
from bot.signals.model import Receiver
from bot.signals.recharge import RechargeReceiver
from bot.signals.shopify import ShopifyReceiver
from bot.signals.stripe import StripeReceiver
from bot.signals.zendesk import ZendeskReceiver
from config.settings import WebhookSecrets

SOURCES = ("stripe", "shopify", "chargebee", "recharge", "zendesk", "gorgias", "front")


def configured_receivers(secrets: WebhookSecrets) -> dict[str, Receiver]:
    """Receivers by source name; a vendor without its secret is absent (its route is off)."""
    receivers: dict[str, Receiver] = {}
    if secrets.stripe:
        receivers["stripe"] = StripeReceiver(secrets.stripe)
    if secrets.shopify:
        receivers["shopify"] = ShopifyReceiver(secrets.shopify)
    if secrets.chargebee_user and secrets.chargebee_password:
        receivers["chargebee"] = ChargebeeReceiver(
            secrets.chargebee_user, secrets.chargebee_password
        )
    if secrets.recharge:
        receivers["recharge"] = RechargeReceiver(secrets.recharge)
    if secrets.zendesk:
        receivers["zendesk"] = ZendeskReceiver(secrets.zendesk)
    if secrets.gorgias:
        receivers["gorgias"] = GorgiasReceiver(secrets.gorgias)
    if secrets.front:
        receivers["front"] = FrontReceiver(secrets.front)
    return receivers
