"""Template fields: what we know of a customer, in plain one-line words; the score never shows."""

from __future__ import annotations

from datetime import date, timedelta

from bot.models import Event, Risk, RiskReason, Subscriber
from bot.outreach.fields import customer_fields, first_name, template_kind
from tests.bot.builders import TODAY, days_ago, event, member


def noted(e: Event, note: str) -> Event:
    return Event(
        id=e.id, subscriber_id=e.subscriber_id, type=e.type, at=e.at, value=e.value, note=note
    )


def test_a_known_customer_fills_every_field_as_billed_and_in_words() -> None:
    sub = member(
        "cus_ann",
        name="Ann Lee",
        email="ann@example.com",
        started=date(2025, 4, 10),
        interval="month",
        count=3,
        amount=45.0,
        next_charge=TODAY + timedelta(days=12),
        last_order=days_ago(20),
    )
    sub.subscriptions[0].quantity = 2
    events = [
        noted(event("cus_ann", "support_contact", days_ago(5)), "Box arrived\r\ncrushed"),
        noted(event("cus_ann", "nps", days_ago(3), 4), "Too much coffee"),
        event("cus_ann", "order", days_ago(2)),
        noted(event("cus_ann", "support_contact", days_ago(200)), "ancient"),
    ]
    risk = Risk(
        45,
        "medium",
        [
            RiskReason("skips", 15, "Skipped 2 of 3"),
            RiskReason("payment_failed", 30, "1 failed payment"),
        ],
    )

    fields = customer_fields(sub, events, risk, TODAY, signature="Dana at Beans")

    assert fields["first_name"] == "Ann"
    assert fields["price"] == "$90 every 3 months"
    assert fields["tenure"] == "1 year and 2 months"
    assert fields["customer_since"] == "April 10, 2025"
    assert fields["next_charge"] == "June 27"
    assert fields["last_order"] == "June 13"  # the order event is newer than last_order
    assert fields["support_note"] == "Box arrived crushed" and fields["support_date"] == "June 10"
    assert fields["nps_comment"] == "Too much coffee"
    assert fields["reasons"] == [
        "a recent payment did not go through",
        "you have skipped a few deliveries lately",
    ]
    assert fields["signature"] == "Dana at Beans"
    assert "45" not in repr(fields["reasons"])


def test_a_customer_with_nothing_known_has_every_field_empty_never_none() -> None:
    fields = customer_fields(Subscriber(id="x"), [], None, TODAY)
    assert all(v == "" for k, v in fields.items() if k != "reasons")
    assert fields["reasons"] == []


def test_first_name_is_only_a_name() -> None:
    assert first_name(Subscriber(id="a", name="  josé  María ")) == "josé"
    assert first_name(Subscriber(id="a", name="O'Brien, Pat")) == "O'Brien"
    for junk in ("<!channel>", "ann@example.com", "{{7*7}}", "12345", "", "=?utf-8?q?x?="):
        assert first_name(Subscriber(id="a", name=junk)) == "", junk


def test_a_payment_churn_risk_uses_the_failed_payment_template_unless_they_asked_to_cancel() -> (
    None
):
    payment = RiskReason("payment_failed", 15, "")
    cancel = RiskReason("cancel_request", 60, "")
    assert template_kind("churn_risk", Risk(15, "low", [payment])) == "failed_payment"
    assert template_kind("churn_risk", Risk(75, "high", [payment, cancel])) == "churn_risk"
    assert template_kind("churn_risk", None) == "churn_risk"
    assert template_kind("checkin_30", Risk(15, "low", [payment])) == "checkin_30"


def test_price_as_billed_writes_the_amount_as_every_other_surface_does() -> None:
    """One money formatter (bot.money): zero-decimal currencies, codes without a symbol and no
    currency at all read the same in an email as on the digest entry."""
    from bot.models import Subscription
    from bot.money import amount_text
    from bot.outreach.fields import price_as_billed

    def sub(amount: float, currency: str, interval: str = "month") -> Subscription:
        return Subscription(id="s", amount=amount, currency=currency, interval=interval)

    assert price_as_billed(sub(5000, "jpy")) == "¥5,000 a month"
    assert price_as_billed(sub(19.5, "GBP")) == "£19.50 a month"
    assert price_as_billed(sub(990, "", "year")) == "990 a year"  # never "$"
    assert price_as_billed(sub(49, "CAD")) == amount_text(49, "CAD") + " a month"
    assert price_as_billed(sub(49, "EUR", "fortnight")) == "€49"  # unknown period: no guess
