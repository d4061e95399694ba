"""A billing webhook's numbers and dates keep the importers' bounds (`bot.bounds`).

The vendors' real payloads from ../shared/webhooks, one field changed, signed as each vendor
signs: a field out of bounds is left out (what is stored for it stays) and the journal says so;
the rest of the delivery is applied, and nothing downstream (`monthly_value`) overflows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bounds import is_amount, is_count, is_day
from bot.clock import FixedClock
from bot.models import Subscriber, Subscription
from bot.repos import Repos
from bot.repos.journal import APPLIED
from bot.signals.chargebee import ChargebeeReceiver
from bot.signals.intake import Intake
from bot.signals.recharge import RechargeReceiver
from bot.signals.shopify import ShopifyReceiver
from bot.signals.stripe import StripeReceiver
from bot.store import Store
from tests.bot.signals.conftest import deliver, make_intake
from tests.hooks import (
    CHARGEBEE_PASSWORD,
    CHARGEBEE_USER,
    RECHARGE_SECRET,
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    chargebee_headers,
    recharge_headers,
    shared_json,
    shopify_headers,
    stripe_made,
    stripe_request,
)

HUGE = 10**400  # a float cannot hold it: amount x quantity overflowed


def _intake(repos: Repos, clock: FixedClock) -> Intake:
    return make_intake(
        repos,
        clock,
        {
            "stripe": StripeReceiver(STRIPE_SECRET, tolerance=None),
            "chargebee": ChargebeeReceiver(CHARGEBEE_USER, CHARGEBEE_PASSWORD),
            "recharge": RechargeReceiver(RECHARGE_SECRET),
        },
    )


def _known(repos: Repos, sid: str, sub_id: str) -> None:
    """The customer as an import left them: quantity 3, monthly."""
    repos.subscribers.put(
        Subscriber(
            id=sid,
            email=f"{sid}@example.com",
            subscriptions=[Subscription(id=sub_id, plan="Box", amount=30.0, quantity=3)],
        )
    )


def _stripe(quantity: Any = None, **obj: Any) -> tuple[str, bytes, dict[str, str], str, str]:
    event = stripe_made("customer.subscription.updated")
    event["id"] = "evt_bounds"
    sub = event["data"]["object"]
    sub.update(status="past_due", **obj)
    if quantity is not None:
        sub["quantity"] = sub["items"]["data"][0]["quantity"] = quantity
    body, headers = stripe_request(event)
    return "stripe", body, headers, sub["customer"], sub["id"]


def _chargebee(**fields: Any) -> tuple[str, bytes, dict[str, str], str, str]:
    event = shared_json("chargebee", "subscription_changed.json")
    sub = event["content"]["subscription"]
    sub.update(status="active", **fields)
    return (
        "chargebee",
        json.dumps(event).encode(),
        chargebee_headers(),
        sub["customer_id"],
        sub["id"],
    )


def _recharge(**fields: Any) -> tuple[str, bytes, dict[str, str], str, str]:
    data = shared_json("recharge", "subscription.updated.json")
    sub = data["subscription"]
    sub.update(status="ACTIVE", **fields)
    body = json.dumps(data).encode()
    headers = recharge_headers(body, "subscription/updated")
    return "recharge", body, headers, str(sub["customer_id"]), str(sub["id"])


def _in_bounds(sub: Subscription) -> bool:
    days = [sub.started, sub.current_period_end, sub.canceled_at, sub.ended_at, sub.trial_end]
    return (
        is_count(sub.quantity)
        and is_count(sub.interval_count)
        and is_amount(sub.amount)
        and all(is_day(d) for d in days if d is not None)
    )


def test_an_absurd_quantity_is_left_out_and_the_rest_applied_for_each_vendor(
    repos: Repos, clock: FixedClock
):
    intake = _intake(repos, clock)
    for source, body, headers, sid, sub_id in (
        _stripe(quantity=HUGE),
        _chargebee(plan_quantity=HUGE),
        _recharge(quantity=HUGE),
    ):
        _known(repos, sid, sub_id)
        assert deliver(intake, source, body, headers)["status"] == 200
        (delivery,) = [d for d in intake.journal.with_status([APPLIED]) if d.source == source]
        assert delivery.note.startswith("left out: ")
        assert "quantity 1000000000" in delivery.note and "from 1 to 1,000,000" in delivery.note
        stored = repos.subscribers.get(sid)
        (sub,) = [s for s in stored.subscriptions if s.id == sub_id]
        assert sub.quantity == 3, source  # kept as stored
        assert sub.status in ("past_due", "active") and sub.status != "" and sub.plan != "Box"
        assert stored.monthly_value > 0  # was OverflowError


def test_each_numeric_field_out_of_bounds_is_named_and_the_good_ones_kept(
    repos: Repos, clock: FixedClock
):
    intake = _intake(repos, clock)
    source, body, headers, sid, sub_id = _recharge(
        order_interval_frequency=0.5, price="1e400", next_charge_scheduled_at="9999-01-01T00:00:00"
    )
    _known(repos, sid, sub_id)
    deliver(intake, source, body, headers)
    (delivery,) = intake.journal.with_status([APPLIED])
    for named in ("order_interval_frequency 0.5", "price '1e400'", "next_charge_scheduled_at"):
        assert named in delivery.note
    (sub,) = repos.subscribers.get(sid).subscriptions
    assert (sub.amount, sub.interval_count, sub.current_period_end) == (30.0, 1, None)
    assert sub.quantity == 4 and sub.status == "active"  # the payload's good fields


def test_a_delivery_in_bounds_has_no_note(repos: Repos, clock: FixedClock):
    intake = _intake(repos, clock)
    source, body, headers, sid, sub_id = _chargebee()
    deliver(intake, source, body, headers)
    (delivery,) = intake.journal.with_status([APPLIED])
    assert delivery.note == ""
    (sub,) = repos.subscribers.get(sid).subscriptions
    assert (sub.quantity, sub.amount, sub.interval) == (300, 36.0, "year")


NUMBERS = (
    st.integers()
    | st.floats()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.from_regex(r"-?[0-9]{1,400}(\.[0-9]{0,3})?(e[0-9]{1,4})?", fullmatch=True)
    | st.sampled_from(["inf", "nan", "-1", "", "0", True])
)
FIELDS = {
    "stripe": ["quantity", "created", "start_date", "trial_end", "canceled_at", "cancel_at"],
    "chargebee": [
        "plan_quantity",
        "plan_unit_price",
        "billing_period",
        "next_billing_at",
        "started_at",
        "trial_end",
    ],
    "recharge": ["quantity", "price", "order_interval_frequency"],
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(sorted(FIELDS)),
    data=st.data(),
)
def test_any_number_in_any_numeric_field_is_applied_or_left_out_never_stored_out_of_bounds(
    source: str, data: st.DataObject
):
    field = data.draw(st.sampled_from(FIELDS[source]))
    value = data.draw(NUMBERS)
    make = {"stripe": _stripe, "chargebee": _chargebee, "recharge": _recharge}[source]
    source, body, headers, sid, sub_id = make(**{field: value})
    store = Store.memory()
    repos = Repos.open(store)
    intake = _intake(repos, FixedClock(datetime(2026, 6, 15, 14, 0, tzinfo=UTC)))
    _known(repos, sid, sub_id)
    assert deliver(intake, source, body, headers)["status"] == 200
    (delivery,) = intake.journal.with_status([APPLIED])  # never failed
    stored = repos.subscribers.get(sid)
    assert all(_in_bounds(s) for s in stored.subscriptions), delivery.note
    assert stored.monthly_value >= 0
    store.close()


def test_a_shopify_contract_with_an_absurd_interval_count_keeps_the_stored_one(
    repos: Repos, clock: FixedClock
):
    intake = make_intake(repos, clock, {"shopify": ShopifyReceiver(SHOPIFY_SECRET)})
    contract = shared_json("shopify", "subscription_contracts.update.json")
    contract["billing_policy"]["interval_count"] = HUGE
    contract["status"] = "paused"
    _known(repos, str(contract["customer_id"]), str(contract["id"]))
    body = json.dumps(contract).encode()
    headers = shopify_headers(body, "subscription_contracts/update", "w-bounds")
    assert deliver(intake, "shopify", body, headers)["status"] == 200
    (delivery,) = intake.journal.with_status([APPLIED])
    assert "interval_count 1000000000" in delivery.note
    stored = repos.subscribers.get(str(contract["customer_id"]))
    (sub,) = stored.subscriptions
    assert (sub.status, sub.interval_count, sub.interval) == ("paused", 1, "week")
    assert stored.monthly_value >= 0  # was OverflowError
