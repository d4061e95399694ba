"""`python app.py sync stripe [--since DATE]` and `python app.py hooks test stripe`.

`sync` backfills through the official SDK with a progress display (see `bot.signals.sync`); it
opens the data directory like an import, so run it while the bot is stopped. `hooks test`
sends one signed sample delivery to the running bot, the way Stripe signs, and says what the
bot answered: 200 means the secret, URL and route all work (the sample is journalled as a
type care ignores, and shows as the source's last event).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from bot.clock import SystemClock
from bot.repos import Repos
from bot.signals.apply import SignalApplier
from bot.signals.intake import Intake
from bot.signals.stripe import StripeReceiver
from bot.signals.sync import sync_stripe
from bot.store import Store
from config.settings import Settings


def run_sync(settings: Settings, source: str, since: date | None, console: Console) -> int:
    """Backfill one source. Returns the exit code (2: not configured)."""
    if source != "stripe":
        console.print(f"sync supports stripe; {source} has its CSV import (docs/importing.md).")
        return 2
    if not settings.hooks.stripe_api_key:
        console.print("Set STRIPE_API_KEY (a restricted key with read access) to sync from Stripe.")
        return 2
    import stripe

    base = settings.hooks.stripe_api_base
    client = stripe.StripeClient(
        settings.hooks.stripe_api_key, base_addresses={"api": base} if base else {}
    )
    clock = SystemClock()
    with Store(settings.data_dir) as store:
        repos = Repos.open(store)
        applier = SignalApplier(repos, repos.journal, clock)
        receiver = StripeReceiver(settings.hooks.stripe or "unused")
        intake = Intake({"stripe": receiver}, repos.journal, applier, clock)
        start = datetime.combine(since, datetime.min.time(), UTC) if since else None
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as bar:
            task = bar.add_task("Reading Stripe", total=None)
            report = sync_stripe(
                client,
                intake,
                applier,
                clock,
                start,
                lambda what, done: bar.update(task, description=f"Reading {what}: {done}"),
            )
    console.print(
        f"Synced from Stripe: {report.customers} customers, {report.subscriptions} subscriptions"
        + (f", {report.events} events ({report.new_events} new)" if since else "")
        + "."
    )
    return 0


def run_hooks_test(settings: Settings, source: str, url: str, console: Console) -> int:
    """Send a signed sample to the running bot's receiver. Returns 0 when it answered 200."""
    if source != "stripe":
        console.print("hooks test supports stripe; see docs/live-signals.md for the others.")
        return 2
    secret = settings.hooks.stripe
    if not secret:
        console.print(
            "Set STRIPE_WEBHOOK_SECRET first: the bot's Stripe receiver is off without it."
        )
        return 2
    now = int(time.time())
    event = {
        "id": f"evt_care_test_{secrets.token_hex(6)}",
        "object": "event",
        "type": "care.connection_test",
        "created": now,
        "data": {"object": {"object": "care_test"}},
    }
    body = json.dumps(event).encode()
    mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    target = url or f"http://127.0.0.1:{settings.slack.port}/hooks/stripe"
    request = urllib.request.Request(
        target,
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={now},v1={mac}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        console.print(f"Could not reach the bot at {target}: {exc}. Is it running?")
        return 1
    if status == 200:
        console.print(f"The bot at {target} accepted a signed Stripe delivery (200).")
        return 0
    console.print(f"The bot at {target} answered {status}: {text[:300]}")
    return 1
