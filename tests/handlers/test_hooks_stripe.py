"""`POST /hooks/stripe` on the running bot: signed deliveries in, alerts in the fake Slack out."""

from __future__ import annotations

import http.client
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from rich.console import Console

from bot.blocks import ids
from bot.blocks.plain import to_text
from bot.repos.journal import IGNORED
from bot.risk import score
from bot.signals.cli import run_hooks_test
from tests.handlers.conftest import DIGEST, TODAY, CareBot, add_subscriber
from tests.hooks import STRIPE_SECRET, stripe_event, stripe_made, stripe_request, stripe_signature

ALERTS = "C0ALERTS"
T0 = 1781530200  # 2026-06-15 13:30 UTC, the bots' clock
SECRETS = {"STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, "CARE_ALERTS_CHANNEL": ALERTS}


def post(
    bot: CareBot, body: bytes, headers: dict[str, str], source: str = "stripe"
) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{bot.url}/hooks/{source}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def announce_oversized(bot: CareBot, length: int) -> int:
    """Send only the headers of a body over the limit: the answer comes before the body."""
    conn = http.client.HTTPConnection("127.0.0.1", bot.runtime.server.port, timeout=10)
    try:
        conn.putrequest("POST", "/hooks/stripe")
        conn.putheader("Content-Length", str(length))
        conn.putheader("Stripe-Signature", "t=1,v1=00")
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def send(bot: CareBot, event: dict[str, Any]) -> int:
    status, _ = post(bot, *stripe_request(event))
    return status


def applied(bot: CareBot, event_id: str, timeout: float = 10) -> None:
    def done() -> bool:
        delivery = bot.repos.journal.get(f"stripe:{event_id}")
        return delivery is not None and delivery.status not in ("pending",)

    bot.fake.wait_for(done, timeout=timeout)
    bot.services.signals.intake._queue.join()


def failed(event_id: str, created: int = T0, **obj: Any) -> dict[str, Any]:
    fields = {
        "customer": "cus_ada",
        "attempt_count": 1,
        "amount_due": 4900,
        "next_payment_attempt": created + 3 * 86400,
        "charge": {
            "id": "ch_1",
            "failure_code": "insufficient_funds",
            "outcome": {"advice_code": "try_again_later"},
        },
    }
    return stripe_event("invoice.payment_failed", event_id, created, **{**fields, **obj})


@pytest.fixture
def bot(bots: Callable[..., CareBot]) -> CareBot:
    started = bots(**SECRETS)
    started.fake.add_channel(ALERTS, "care-alerts")
    add_subscriber(
        started.repos, "cus_ada", "Ada Lovelace", "ada@example.com", TODAY - timedelta(days=400)
    )
    return started


def test_refusals_answer_401_413_400_and_store_nothing(bot: CareBot):
    body, headers = stripe_request(failed("evt_1"))
    assert (
        post(bot, body, {**headers, "Stripe-Signature": stripe_signature(body, "whsec_x")})[0]
        == 401
    )
    stale = stripe_signature(body, t=int(time.time()) - 600)
    assert post(bot, body, {**headers, "Stripe-Signature": stale})[0] == 401
    assert post(bot, body, {"Content-Type": "application/json"})[0] == 401
    assert announce_oversized(bot, 1024 * 1024 + 1) == 413
    junk = b'{"no": "id"}'
    assert post(bot, junk, {"Stripe-Signature": stripe_signature(junk)})[0] == 400
    assert post(bot, body, headers, source="chargebee")[0] == 404
    assert bot.repos.journal.counts() == {}
    assert bot.repos.events.count() == 0


def test_receiver_is_off_without_its_secret(bots: Callable[..., CareBot]):
    bot = bots()
    status, _ = post(bot, *stripe_request(failed("evt_1")))
    assert status == 404


def test_failed_payment_alerts_with_context_raises_the_score_and_recovery_closes_it(bot: CareBot):
    sub = bot.repos.subscribers.get("cus_ada")
    before = score(sub, [], TODAY, bot.services.settings.risk).score
    assert send(bot, failed("evt_fail")) == 200
    applied(bot, "evt_fail")

    (parent,) = bot.fake.messages(ALERTS)
    text = to_text(parent)
    assert "Payment failed" in text and "$49," in text and "attempt 1" in text
    assert "soft decline" in text and "outreach can wait for that retry" in text
    assert "Ada Lovelace" in text and "Pro" in text and "1 yr 1 mo" in text
    assert "Risk" in text and "failed payment" in text.lower()
    actions = [b for b in parent["blocks"] if b["type"] == "actions"][0]
    assert [e["action_id"] for e in actions["elements"]] == [ids.ACTION_CLAIM, ids.ACTION_LOG]
    events = bot.repos.events.for_subscriber("cus_ada")
    assert score(sub, events, TODAY, bot.services.settings.risk).score > before
    assert bot.fake.messages(DIGEST) == []

    recovered = stripe_event(
        "invoice.payment_succeeded",
        "evt_ok",
        T0 + 3 * 86400,
        customer="cus_ada",
        attempt_count=2,
        amount_paid=4900,
    )
    bot.clock.advance(days=3)  # Stripe's retry, three days on
    assert send(bot, recovered) == 200
    applied(bot, "evt_ok")
    thread = bot.fake.thread(ALERTS, parent["ts"])
    assert "Payment recovered" in to_text(thread[-1]) and "$49" in to_text(thread[-1])
    closed = bot.fake.message(ALERTS, parent["ts"])
    assert "Closed" in to_text(closed)
    assert not [b for b in closed["blocks"] if b["type"] == "actions"]


def test_one_customer_one_thread_and_duplicates_post_nothing(bot: CareBot):
    send(bot, failed("evt_1"))
    applied(bot, "evt_1")
    assert send(bot, failed("evt_1")) == 200  # Stripe delivering the same event again
    final = failed(
        "evt_2",
        T0 + 86400,
        attempt_count=2,
        next_payment_attempt=None,
        charge={"id": "ch_2", "failure_code": "stolen_card"},
    )
    bot.clock.advance(days=1)  # the last retry, the next day
    send(bot, final)
    applied(bot, "evt_2")
    (parent,) = bot.fake.messages(ALERTS)
    replies = bot.fake.thread(ALERTS, parent["ts"])[1:]
    texts = [to_text(r) for r in replies]
    assert len(replies) == 2, texts
    assert "hard decline" in texts[0] and "reach out now" in texts[0]
    assert "retries exhausted" in texts[1].lower()
    assert (
        len([e for e in bot.repos.events.for_subscriber("cus_ada") if e.type == "payment_failed"])
        == 2
    )


def test_claim_on_the_alert_claims_the_task_and_redraws_the_alert(bot: CareBot):
    send(bot, failed("evt_1"))
    applied(bot, "evt_1")
    (parent,) = bot.fake.messages(ALERTS)
    claim = [b for b in parent["blocks"] if b["type"] == "actions"][0]["elements"][0]
    status, _, _ = bot.sender.action(
        ids.ACTION_CLAIM, claim["value"], user_id="U2", channel_id=ALERTS, message=parent
    )
    assert status == 200
    task_id = ids.decode_ids(claim["value"])[0]
    bot.fake.wait_for(lambda: bot.repos.tasks.get(task_id).claimed_by == "U2")
    bot.fake.wait_for(lambda: "claimed by" in to_text(bot.fake.message(ALERTS, parent["ts"])))


def test_scheduled_cancellation_and_cancellation_alert_with_reason(bot: CareBot):
    event = stripe_event(
        "customer.subscription.updated",
        "evt_s",
        T0,
        id="sub_cus_ada",
        customer="cus_ada",
        cancel_at_period_end=True,
        cancellation_details={
            "reason": "cancellation_requested",
            "feedback": "too_expensive",
            "comment": "<!channel> bye",
        },
    )
    event["data"]["previous_attributes"] = {"cancel_at_period_end": False}
    send(bot, event)
    applied(bot, "evt_s")
    (parent,) = bot.fake.messages(ALERTS)
    text = to_text(parent)
    assert "Cancellation scheduled" in text and "too_expensive" in text
    assert "<!channel>" not in json.dumps(parent)
    assert bot.repos.subscribers.get("cus_ada").scheduled_cancellation


def test_out_of_order_deliveries_change_nothing(bot: CareBot):
    newer = stripe_event(
        "customer.subscription.updated",
        "evt_n",
        T0 + 60,
        id="sub_cus_ada",
        customer="cus_ada",
        status="past_due",
    )
    older = stripe_event(
        "customer.subscription.updated",
        "evt_o",
        T0,
        id="sub_cus_ada",
        customer="cus_ada",
        status="active",
    )
    send(bot, newer)
    applied(bot, "evt_n")
    send(bot, older)
    applied(bot, "evt_o")
    assert bot.repos.subscribers.get("cus_ada").status == "past_due"


def test_a_delivery_answered_but_not_applied_is_applied_after_a_restart(
    bots: Callable[..., CareBot], bot: CareBot
):
    bot.services.signals.stop()  # the worker is gone: answered, journalled, not applied
    assert send(bot, failed("evt_1")) == 200
    assert bot.repos.journal.get("stripe:evt_1").status == "pending"
    bot.stop()
    again = bots(data_dir=bot.data_dir, **SECRETS)
    applied(again, "evt_1")
    assert [e.type for e in again.repos.events.for_subscriber("cus_ada")] == ["payment_failed"]
    again.fake.wait_for(lambda: again.fake.messages(ALERTS))  # caught up at start, off the queue
    assert len(again.fake.messages(ALERTS)) == 1


def test_hooks_test_sends_a_signed_sample_the_running_bot_accepts(bots: Callable[..., CareBot]):
    bot = bots(STRIPE_WEBHOOK_SECRET=STRIPE_SECRET)
    out = io.StringIO()
    settings = bot.runtime.settings
    code = run_hooks_test(settings, "stripe", f"{bot.url}/hooks/stripe", Console(file=out))
    assert code == 0 and "accepted" in out.getvalue()
    bot.fake.wait_for(lambda: bot.repos.journal.with_status([IGNORED]))
    wrong = bots(STRIPE_WEBHOOK_SECRET="whsec_other", data_dir=bot.data_dir.parent / "other")
    code = run_hooks_test(settings, "stripe", f"{wrong.url}/hooks/stripe", Console(file=out))
    assert code == 1 and "401" in out.getvalue()


def test_an_alert_for_a_customer_who_has_cancelled_opens_no_churn_task(bot: CareBot):
    deleted = stripe_event(
        "customer.subscription.deleted",
        "evt_del",
        T0,
        id="sub_cus_ada",
        customer="cus_ada",
        status="canceled",
        canceled_at=T0,
        ended_at=T0,
    )
    assert send(bot, deleted) == 200
    applied(bot, "evt_del")
    (parent,) = bot.fake.messages(ALERTS)
    assert "Cancelled" in to_text(parent) or "cancel" in to_text(parent).lower()
    late = failed("evt_late", T0 + 60, next_payment_attempt=None, attempt_count=2)
    assert send(bot, late) == 200  # a last invoice failing after the end
    applied(bot, "evt_late")
    assert len(bot.fake.thread(ALERTS, parent["ts"])) >= 1
    assert [t for t in bot.repos.tasks.for_subscriber("cus_ada") if t.kind == "churn_risk"] == []

    add_subscriber(bot.repos, "cus_bob", "Bob", "bob@example.com", TODAY - timedelta(days=40))
    assert send(bot, failed("evt_bob", customer="cus_bob")) == 200
    applied(bot, "evt_bob")  # a customer still subscribed: the alert asks for a person now
    assert [t.kind for t in bot.repos.tasks.for_subscriber("cus_bob")] == ["churn_risk"]


def test_decline_code_comes_from_the_charge_event_stripe_sends_beside_the_invoice(bot: CareBot):
    # As Stripe delivers it: the invoice names its charge by id only, never expanded.
    invoice = stripe_event(
        "invoice.payment_failed",
        "evt_inv",
        T0,
        id="in_ada_1",
        customer="cus_ada",
        attempt_count=1,
        amount_due=4900,
        next_payment_attempt=T0 + 3 * 86400,
    )
    assert isinstance(invoice["data"]["object"]["charge"], str)
    send(bot, invoice)
    applied(bot, "evt_inv")
    (parent,) = bot.fake.messages(ALERTS)
    assert "decline code unknown" in to_text(parent)
    assert "soft decline" not in to_text(parent) and "hard decline" not in to_text(parent)

    charge = stripe_event("charge.failed", "evt_ch", T0 + 1, customer="cus_ada", invoice="in_ada_1")
    assert charge["data"]["object"]["outcome"]["reason"] == "generic_decline"  # Stripe's own
    send(bot, charge)
    applied(bot, "evt_ch")
    redrawn = to_text(bot.fake.message(ALERTS, parent["ts"]))
    assert "soft decline: generic_decline" in redrawn.replace("`", "")
    assert "decline code unknown" not in redrawn
    assert [e.type for e in bot.repos.events.for_subscriber("cus_ada")] == ["payment_failed"]


def test_a_decline_arriving_before_its_invoice_event_is_on_the_alert(bot: CareBot):
    intent = stripe_made("payment_intent.payment_failed")
    intent["id"], intent["created"] = "evt_pi", T0
    error = intent["data"]["object"]["last_payment_error"]
    intent["data"]["object"].update(customer="cus_ada")
    error.update(decline_code="stolen_card")
    send(bot, intent)
    applied(bot, "evt_pi")
    assert bot.fake.messages(ALERTS) == []  # a decline alone is not an alert
    invoice = stripe_event(
        "invoice.payment_failed", "evt_inv", T0 + 5, customer="cus_ada", attempt_count=1
    )
    send(bot, invoice)
    applied(bot, "evt_inv")
    (parent,) = bot.fake.messages(ALERTS)
    text = to_text(parent).replace("`", "")
    assert "hard decline: stolen_card" in text and "reach out now" in text
