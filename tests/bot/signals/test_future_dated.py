"""A billing event dated ahead of the bot's clock never becomes a subscription's newest version.

The vendors' real payloads from ../shared/webhooks, their dates rewritten and signed as each
vendor signs (Stripe's `created`, Chargebee's `occurred_at`, Recharge's `updated_at`, Shopify's
`X-Shopify-Triggered-At`): dated more than `FUTURE_SKEW` ahead, a delivery is answered 200 and
held with a journal note; a real update after it wins, now and once the held one's date comes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import app
from bot.clock import FixedClock
from bot.models import Subscriber, Subscription
from bot.repos import Repos
from bot.repos.journal import APPLIED, IGNORED, Delivery
from bot.signals.apply import Applied
from bot.signals.freshness import source_states
from bot.signals.intake import FUTURE_SKEW, HELD, Intake
from bot.store import Store
from tests.bot.signals.conftest import billing_receivers, deliver, make_intake
from tests.hooks import (
    chargebee_headers,
    recharge_headers,
    shared_json,
    shopify_headers,
    stripe_made,
    stripe_request,
)

NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
Made = tuple[bytes, dict[str, str]]


def _stripe(when: datetime, status: str, n: int) -> Made:
    event = stripe_made("customer.subscription.updated")
    event["id"], event["created"] = f"evt_when_{n}", int(when.timestamp())
    event["data"]["object"]["status"] = status
    return stripe_request(event)


def _chargebee(when: datetime, status: str, n: int) -> Made:
    event = shared_json("chargebee", "subscription_changed.json")
    event["id"], event["occurred_at"] = f"ev_when_{n}", int(when.timestamp())
    event["content"]["subscription"]["status"] = status
    return json.dumps(event).encode(), chargebee_headers()


def _recharge(when: datetime, status: str, n: int) -> Made:
    data = shared_json("recharge", "subscription.updated.json")
    data["subscription"].update(status=status.upper(), updated_at=when.isoformat())
    body = json.dumps(data).encode()
    return body, recharge_headers(body, "subscription/updated")


def _shopify(when: datetime, status: str, n: int) -> Made:
    contract = shared_json("shopify", "subscription_contracts.update.json")
    contract["status"] = status
    body = json.dumps(contract).encode()
    topic = "subscription_contracts/update"
    return body, shopify_headers(body, topic, f"w-when-{n}", triggered_at=when.isoformat())


def _ids(source: str) -> tuple[str, str]:
    """The customer and subscription each vendor's payload names."""
    if source == "stripe":
        sub = stripe_made("customer.subscription.updated")["data"]["object"]
        return sub["customer"], sub["id"]
    if source == "chargebee":
        sub = shared_json("chargebee", "subscription_changed.json")["content"]["subscription"]
        return sub["customer_id"], sub["id"]
    if source == "recharge":
        sub = shared_json("recharge", "subscription.updated.json")["subscription"]
        return str(sub["customer_id"]), str(sub["id"])
    contract = shared_json("shopify", "subscription_contracts.update.json")
    return str(contract["customer_id"]), str(contract["id"])


VENDORS: dict[str, Callable[[datetime, str, int], Made]] = {
    "stripe": _stripe,
    "chargebee": _chargebee,
    "recharge": _recharge,
    "shopify": _shopify,
}


def _intake(repos: Repos, clock: FixedClock) -> Intake:
    return make_intake(repos, clock, billing_receivers())


def known(repos: Repos, source: str) -> str:
    """The customer as an import left them, trialing: returns their id."""
    sid, sub_id = _ids(source)
    sub = Subscription(id=sub_id, plan="Box", amount=30.0, status="trialing")
    repos.subscribers.put(Subscriber(id=sid, email=f"{sid}@example.com", subscriptions=[sub]))
    return sid


def status_of(repos: Repos, sid: str) -> str:
    (sub,) = repos.subscribers.get(sid).subscriptions
    return sub.status


def _only(intake: Intake, source: str, status: str) -> Delivery:
    (delivery,) = [d for d in intake.journal.with_status([status]) if d.source == source]
    return delivery


def test_a_future_dated_state_is_held_and_the_real_update_after_it_wins_for_each_vendor(
    repos: Repos, clock: FixedClock
):
    intake = _intake(repos, clock)
    heard: list[str] = []
    intake.on_applied(lambda delivery, applied: heard.append(delivery.id))
    start = clock.now()
    for n, (source, make) in enumerate(VENDORS.items()):
        clock.set(start)
        sid = known(repos, source)
        answer = deliver(intake, source, *make(start + timedelta(days=30), "paused", n))
        assert answer == {"status": 200, "ok": True}  # kept: the vendor has no reason to retry
        held = _only(intake, source, HELD)
        assert held.note.startswith("held: dated in the future, 2026-07-15 14:00 UTC, 30 days")
        assert "at most 5 minutes allowed" in held.note and "applied by itself" in held.note
        assert status_of(repos, sid) == "trialing" and repos.events.for_subscriber(sid) == []
        assert heard == []  # no listener, so no alert: nothing pings anyone

        clock.advance(hours=1)  # the vendor's real update, an hour later
        deliver(intake, source, *make(clock.now(), "active", n + 100))
        assert status_of(repos, sid) == "active", source
        assert _only(intake, source, APPLIED).note == ""

        clock.set(start + timedelta(days=30))  # the held one's date comes
        assert intake.release_held() == 1
        assert status_of(repos, sid) == "active", source  # ordered as of its receipt: older
        released = _only(intake, source, IGNORED)
        assert released.id == held.id and "ordered as of then" in released.note
        heard.clear()


def test_a_future_dated_state_alone_is_applied_once_its_day_comes_after_a_restart(
    tmp_path, clock: FixedClock
):
    for n, (source, make) in enumerate(VENDORS.items()):
        data = tmp_path / source
        clock.set(NOW)
        with Store(data) as store:
            repos = Repos.open(store)
            intake = _intake(repos, clock)
            sid = known(repos, source)
            tomorrow = NOW + timedelta(days=1)
            assert deliver(intake, source, *make(tomorrow, "paused", n))["status"] == 200
            assert _only(intake, source, HELD).note.startswith("held: dated in the future")
            (state,) = source_states(intake.journal, [source], clock.now(), quiet_hours=24)
            assert state.held == 1 and "1 held (dated in the future)" in state.summary()
            clock.advance(hours=23, minutes=54)  # still more than five minutes ahead
            assert intake.release_held() == 0 and status_of(repos, sid) == "trialing"
        clock.set(NOW + timedelta(days=1))  # the next morning, the bot started again
        with Store(data) as store:
            repos = Repos.open(store)
            intake = _intake(repos, clock)
            assert intake.catch_up() == 1
            assert status_of(repos, sid) == "paused", source  # nothing newer came: it applies
            assert _only(intake, source, APPLIED).note.endswith("ordered as of then")
            assert intake.journal.with_status([HELD]) == []


def test_an_event_within_the_skew_is_applied_as_dated(repos: Repos, clock: FixedClock):
    intake = _intake(repos, clock)
    sid = known(repos, "stripe")
    deliver(intake, "stripe", *_stripe(clock.now() + FUTURE_SKEW, "paused", 1))
    assert status_of(repos, sid) == "paused"
    assert _only(intake, "stripe", APPLIED).note == ""
    # Its own date is its version: an update dated before it is older, as ever.
    deliver(intake, "stripe", *_stripe(clock.now() + timedelta(minutes=1), "active", 2))
    assert status_of(repos, sid) == "paused"


def test_a_held_delivery_leaves_the_rest_of_the_stream_alone(repos: Repos, clock: FixedClock):
    intake = _intake(repos, clock)
    sid = known(repos, "stripe")
    deliver(intake, "stripe", *_stripe(clock.now() + timedelta(days=365), "paused", 1))
    failed = stripe_made("invoice.payment_failed")
    failed["id"], failed["created"] = "evt_failed_now", int(clock.now().timestamp())
    failed["data"]["object"]["customer"] = sid
    assert deliver(intake, "stripe", *stripe_request(failed))["status"] == 200
    assert [e.type for e in repos.events.for_subscriber(sid)] == ["payment_failed"]
    assert [d.id for d in intake.journal.with_status([HELD])] == ["stripe:evt_when_1"]


OFFSETS = st.integers(min_value=-3 * 86400, max_value=3 * 86400) | st.integers(
    min_value=int(FUTURE_SKEW.total_seconds()) - 3, max_value=int(FUTURE_SKEW.total_seconds()) + 3
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(VENDORS)), offset=OFFSETS, later=st.integers(1, 4 * 86400))
def test_whatever_an_event_is_dated_a_real_update_after_it_wins(
    source: str, offset: int, later: int
):
    """Held exactly when dated beyond the skew; a real update `later` seconds after it wins,
    when it comes and after the held one's date has come."""
    assume(later != offset)  # (Recharge's key is the resource's `updated_at`: the same event)
    clock = FixedClock(NOW)
    with Store.memory() as store:
        repos = Repos.open(store)
        intake = _intake(repos, clock)
        sid = known(repos, source)
        make = VENDORS[source]
        applied: list[list[Applied]] = []
        intake.on_applied(lambda delivery, outcomes: applied.append(outcomes))
        assert deliver(intake, source, *make(NOW + timedelta(seconds=offset), "paused", 1)) == {
            "status": 200,
            "ok": True,
        }
        held = bool(intake.journal.with_status([HELD]))
        assert held == (offset > FUTURE_SKEW.total_seconds())
        assert status_of(repos, sid) == ("trialing" if held else "paused")
        clock.advance(seconds=later)
        deliver(intake, source, *make(clock.now(), "active", 2))
        wins = held or later > offset  # within the skew, its own date counts, as ever
        assert status_of(repos, sid) == ("active" if wins else "paused")
        clock.set(NOW + timedelta(seconds=max(offset, later)))
        intake.release_held()
        assert intake.journal.with_status([HELD]) == []  # nothing lost: every one applied
        assert status_of(repos, sid) == ("active" if wins else "paused")
        assert all(o.subscriber is not None for outcomes in applied for o in outcomes)


def test_hooks_held_lists_what_is_held_beside_the_running_bot(
    tmp_path, clock: FixedClock, monkeypatch, capsys
):
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    with Store(tmp_path / "data") as store:  # the bot holds the data directory
        repos = Repos.open(store)
        intake = _intake(repos, clock)
        known(repos, "stripe")
        assert app.main(["hooks", "held"]) == 0
        assert "No delivery is held" in capsys.readouterr().err
        event = stripe_made("customer.subscription.updated")
        event["id"], event["created"] = "evt_\x1b[31mtest_clock", int(NOW.timestamp()) + 86400 * 40
        deliver(intake, "stripe", *stripe_request(event))
        assert app.main(["hooks", "held"]) == 0
    out = " ".join(capsys.readouterr().err.split())
    assert "1 held, applied by the bot once their time comes" in out
    assert "stripe:evt_?[31mtest_clock (customer.subscription.updated): dated 2026-07-25" in out
    assert "received 2026-06-15 14:00 UTC. held: dated in the future" in out and "\x1b" not in out
