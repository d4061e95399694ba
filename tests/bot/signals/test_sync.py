"""`python app.py sync stripe` against localstripe: customers, subscriptions, events."""

from __future__ import annotations

from pathlib import Path

import pytest

import app
from bot.repos import Repos
from bot.store import Store
from tests.localstripe import LocalStripe


def _stripe_data(localstripe: LocalStripe) -> tuple[str, str]:
    client = localstripe.client()
    customer = client.v1.customers.create(params={"email": "Lin@Example.com", "name": "Lin Ho"})
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2032, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    product = client.v1.products.create(params={"name": "Tea box"})
    plan = client.v1.plans.create(
        params={"product": product.id, "amount": 1800, "currency": "usd", "interval": "month"}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"plan": plan.id}]}
    )
    return customer.id, sub.id


def test_sync_backfills_customers_and_subscriptions_and_is_idempotent(
    localstripe: LocalStripe,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    customer_id, sub_id = _stripe_data(localstripe)
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.url)
    assert app.main(["sync", "stripe", "--since", "2020-01-01"]) == 0
    first = capsys.readouterr().err
    assert "1 customers, 1 subscriptions" in first
    assert app.main(["sync", "stripe", "--since", "2020-01-01"]) == 0
    assert "(0 new)" in capsys.readouterr().err
    with Store(tmp_path / "data") as store:
        repos = Repos.open(store)
        sub = repos.subscribers.get(customer_id)
        assert sub is not None and (sub.email, sub.name) == ("lin@example.com", "Lin Ho")
        assert [(s.id, s.status, s.amount, s.plan) for s in sub.subscriptions] == [
            (sub_id, "active", 18.0, sub.subscriptions[0].plan)
        ]
        assert repos.events.for_subscriber(customer_id) == []  # a snapshot is state, not news


def test_sync_without_a_key_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    assert app.main(["sync", "stripe"]) == 2
    assert "STRIPE_API_KEY" in capsys.readouterr().err
