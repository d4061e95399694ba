"""`python app.py sync stripe [--since DATE]`, `python app.py hooks test stripe` and
`python app.py hooks held`.

`sync` backfills through the official SDK with a progress display (see `bot.signals.sync`): into
the data directory when the bot is stopped, else through the running bot's Stripe receiver,
signed with its secret (the bot alone writes its data). `hooks test`
sends one signed sample delivery to the running bot, the way Stripe signs, and says what the
bot answered: 200 means the secret, URL and route all work (the sample is journalled as a
type care ignores, and shows as the source's last event). `hooks held` lists the deliveries
held for being dated ahead of the bot's clock (`bot.signals.intake`), read-only, so it runs
beside the bot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from bot.clock import SystemClock
from bot.repos import Repos
from bot.repos.journal import JournalRepo
from bot.signals.apply import SignalApplier
from bot.signals.intake import HELD, Intake
from bot.signals.stripe import StripeReceiver
from bot.signals.sync import SyncReport, read_stripe, snapshot_event, sync_stripe
from bot.store import DataDirLocked, Store
from config.settings import Settings

Progress_ = Callable[[str, int], None]


def run_sync(
    settings: Settings, source: str, since: date | None, console: Console, url: str = ""
) -> int:
    """Backfill one source. Returns the exit code (2: not configured, 1: the bot refused).

    When the bot is running it holds the data directory: then what Stripe lists is sent to
    its receiver (`url`, default the local bot) signed with `STRIPE_WEBHOOK_SECRET`.
    """
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
    start = datetime.combine(since, datetime.min.time(), UTC) if since else None
    try:
        store = Store(settings.data_dir)
    except DataDirLocked:
        return _sync_through_bot(settings, client, start, url, console)
    with store, _bar(console) as progress:
        repos = Repos.open(store)
        applier = SignalApplier(repos, repos.journal, clock)
        receiver = StripeReceiver(settings.hooks.stripe or "unused")
        intake = Intake({"stripe": receiver}, repos.journal, applier, clock)
        report = sync_stripe(client, intake, applier, clock, start, progress)
    _summary(console, report, since is not None)
    return 0


def _sync_through_bot(
    settings: Settings, client: Any, since: datetime | None, url: str, console: Console
) -> int:
    secret = settings.hooks.stripe
    if not secret:
        console.print(
            "The bot is running and holds the data directory. Set STRIPE_WEBHOOK_SECRET (its "
            "Stripe receiver) so sync can deliver through it, or stop the bot and sync again."
        )
        return 2
    target = url or f"http://127.0.0.1:{settings.slack.port}/hooks/stripe"
    console.print(f"The bot is running: sending what Stripe lists to its receiver at {target}.")
    now = int(time.time())
    refused: list[str] = []

    def send(event: dict[str, Any]) -> bool:
        status, text = post_signed(target, secret, event)
        if status != 200:
            refused.append(f"{event.get('id')}: {status} {text[:200]}")
            raise SyncRefused(refused[-1])
        return not json.loads(text or "{}").get("duplicate")

    def state(kind: str, obj: dict[str, Any]) -> None:
        send(snapshot_event(kind, obj, now))

    try:
        with _bar(console) as progress:
            report = read_stripe(client, state, send, since, progress)
    except (SyncRefused, OSError) as exc:
        console.print(f"The bot at {target} did not take the sync ({exc}); nothing more was sent.")
        return 1
    _summary(console, report, since is not None)
    return 0


class SyncRefused(Exception):
    """The running bot answered a sync delivery with something other than 200."""


@contextmanager
def _bar(console: Console) -> Iterator[Progress_]:
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as bar:
        task = bar.add_task("Reading Stripe", total=None)
        yield lambda what, done: bar.update(task, description=f"Reading {what}: {done}")


def _summary(console: Console, report: SyncReport, with_events: bool) -> None:
    console.print(
        f"Synced from Stripe: {report.customers} customers, {report.subscriptions} subscriptions"
        + (f", {report.events} events ({report.new_events} new)" if with_events else "")
        + "."
    )


def post_signed(url: str, secret: str, event: dict[str, Any]) -> tuple[int, str]:
    """POST an event to a Stripe receiver, signed as Stripe signs. Returns (status, body)."""
    now = int(time.time())
    body = json.dumps(event).encode()
    mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={now},v1={mac}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


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
    event = {
        "id": f"evt_care_test_{secrets.token_hex(6)}",
        "object": "event",
        "type": "care.connection_test",
        "created": int(time.time()),
        "data": {"object": {"object": "care_test"}},
    }
    target = url or f"http://127.0.0.1:{settings.slack.port}/hooks/stripe"
    try:
        status, text = post_signed(target, secret, event)
    except OSError as exc:
        console.print(f"Could not reach the bot at {target}: {exc}. Is it running?")
        return 1
    if status == 200:
        console.print(f"The bot at {target} accepted a signed Stripe delivery (200).")
        return 0
    console.print(f"The bot at {target} answered {status}: {text[:300]}")
    return 1


def run_hooks_held(settings: Settings, console: Console) -> int:
    """List the held deliveries: key, type, the date they carry, when received, the note."""
    with Store(settings.data_dir, read_only=True) as store:
        held = JournalRepo(store).with_status([HELD])
    if not held:
        console.print("No delivery is held: none was dated ahead of the bot's clock.")
        return 0
    console.print(f"{len(held)} held, applied by the bot once their time comes:")
    for delivery in held:
        dated = f"{delivery.at:%Y-%m-%d %H:%M} UTC" if delivery.at else "undated"
        line = (
            f"{_shown(delivery.id)} ({_shown(delivery.type)}): dated {dated}, received "
            f"{delivery.received_at:%Y-%m-%d %H:%M} UTC. {delivery.note}"
        )
        console.print(line, markup=False, highlight=False)
    return 0


def _shown(text: str) -> str:
    """A sender's text for the terminal: no control characters, at most 120 characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:120])
