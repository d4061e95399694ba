"""Proactive Care: composition root and command line.

    python app.py                      run the Slack bot (HTTP on PORT, or Socket Mode)
    python app.py import PATH [...]    import subscribers or events from a CSV export
    python app.py digest --preview     show what today's digest would hold
    python app.py sync stripe [--since DATE]   backfill from Stripe's API
    python app.py hooks test stripe    send a signed sample to the running bot
    python app.py report|export|backtest  metrics, CSV files, risk-rule replay (bot/metrics/)
    python app.py template preview KIND --customer EMAIL   an outreach draft (templates/)

Nothing happens at import time. `build()` wires everything in start-up order: settings,
token check, storage, clients, services, listeners, scheduler, inbox.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import schedule
from rich.console import Console
from rich.markup import escape

from bot.bulk import settle_heap
from bot.store import StoreError
from config import ConfigError, Settings, load_settings

# Subcommands defined here: the others (report, export, backtest, template) are added only
# when named, or for --help and errors, so these do not import the metrics and templates.
CORE_COMMANDS = ("import", "digest", "sync", "hooks")
FORMATS = ("auto", "generic", "stripe", "shopify", "chargebee", "recharge", "events")
log = logging.getLogger("care")


@dataclass
class Runtime:
    """A built bot: call `start()` to serve, `stop()` to shut down."""

    settings: Settings
    services: object
    bolt: object
    scheduler: schedule.Scheduler
    server: object = None
    socket: object = None
    inbox: object = None
    signals: object = None
    listeners: Executor | None = None  # Bolt's listener threads (lazy work after the ack)
    heartbeat: object = None  # bot.health.Heartbeat: when the scheduler loop last turned
    activity: object = None  # bot.activity.Activity: Slack requests, for background work
    health: object = None  # handlers.health.Health behind GET /healthz
    on_start: Callable[[], None] | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start(self, serve_http: bool = True) -> None:
        if self.settings.slack.app_token:
            from handlers.slack_socket import WatchedSocketModeHandler

            token = self.settings.slack.app_token
            self.socket = WatchedSocketModeHandler(self.bolt, token, self.activity)  # type: ignore[arg-type]
            self.socket.connect()
        self.heartbeat.beat()  # type: ignore[attr-defined]
        if serve_http:
            self.server.start()  # type: ignore[attr-defined]
        if self.inbox is not None:
            self.inbox.start()  # type: ignore[attr-defined]
        if self.signals is not None:
            self.signals.start()  # type: ignore[attr-defined]
        if self.on_start is not None:
            self.on_start()

    def tick(self) -> None:
        self.heartbeat.beat()  # type: ignore[attr-defined]
        self.scheduler.run_pending()

    def stop(self) -> None:
        self.stop_event.set()
        if self.socket is not None:
            self.socket.close()  # type: ignore[attr-defined]
        if self.server is not None:
            self.server.stop()  # type: ignore[attr-defined]
        if self.inbox is not None:
            self.inbox.stop()  # type: ignore[attr-defined]
        if self.signals is not None:  # deliveries already answered are applied first
            self.signals.stop()  # type: ignore[attr-defined]
        if self.listeners is not None:  # claims acked but not yet shown in Slack finish first
            self.listeners.shutdown(wait=True)
        self.services.publisher.close()  # type: ignore[attr-defined]  # their queued edits too
        self.services.home.close()  # type: ignore[attr-defined]  # and the Homes to redraw
        self.services.repos.store.close()  # type: ignore[attr-defined]


def build(
    settings: Settings, *, clock=None, client=None, port: int | None = None, pacer=None
) -> Runtime:  # noqa: ANN001
    """Wire the bot from settings. Tests pass a clock, a client on the fake Slack and port 0."""
    from slack_bolt import App

    from bot.activity import Activity
    from bot.blocks.render import DigestRenderer
    from bot.care import CareService, Permissions
    from bot.clock import SystemClock
    from bot.enginerun import resume_keeping
    from bot.health import Heartbeat
    from bot.jobs import register_digest
    from bot.ledger import TaskLedger
    from bot.outbox.service import Outbox
    from bot.publisher import DigestPublisher
    from bot.repos import Repos
    from bot.store import Store
    from bot.techtouch import TechTouch
    from bot.worklist import WorkList
    from handlers import register
    from handlers.context import Services
    from handlers.home import HomeTabs
    from handlers.listeners import ListenerPools
    from handlers.recovered import show_recovered
    from handlers.report import build_reports
    from handlers.signals import build_signals
    from handlers.slack_sink import SlackSink, make_client

    settings.require_slack()
    store = Store(settings.data_dir)
    repos = Repos.open(store)
    _load_and_freeze(repos)
    resume_keeping(store)  # the engine run's files, kept as the bot writes them (bot/enginerun.py)
    clock = clock or SystemClock()
    client = client or make_client(settings.slack.bot_token, settings.slack.api_url)
    listeners = ListenerPools()  # an ack never queues behind lazy work (handlers/listeners.py)
    bolt = App(
        client=client,
        listener_executor=listeners,
        # Socket Mode needs no signing secret; an unguessable one keeps HTTP signatures meaningless.
        signing_secret=settings.slack.signing_secret or secrets.token_hex(32),
        token_verification_enabled=False,
        logger=logging.getLogger("care.bolt"),
    )
    listeners.attach(bolt)
    care = CareService(
        repos, clock, settings.timezone, Permissions(settings.slack.managers, settings.slack.leads)
    )
    renderer = DigestRenderer(settings.timezone, clock)
    publisher = DigestPublisher(repos, settings, clock, SlackSink(client), renderer, pacer)
    services = Services(settings, repos, clock, care, publisher, client)
    services.outbox = Outbox(repos, settings.smtp, settings.imap, clock, care)
    services.worklist = WorkList(
        repos, settings.lifecycle.grace_days, settings.digest.must_show_value, tz=settings.timezone
    )
    services.ledger = TaskLedger(repos)
    services.home = HomeTabs(services)
    publisher.before_posting.append(services.home.warm)  # not on a claim's turn while it posts
    services.drafts = _build_drafts(settings, repos)
    scheduler = schedule.Scheduler()
    services.triage = _build_inbox(settings, services, scheduler)
    threads = services.triage.threads if services.triage is not None else None
    publisher.tech_touch = TechTouch(repos, settings, services.drafts, services.outbox, threads)
    services.signals = build_signals(services)
    services.signals.schedule(scheduler)
    register(bolt, services)
    register_digest(scheduler, settings, publisher)
    activity = Activity(clock)  # background work waits for lulls in Slack requests
    build_reports(services, scheduler, activity)  # /care report, weekly report, Home headline
    runtime = Runtime(
        settings,
        services,
        bolt,
        scheduler,
        inbox=services.triage,
        signals=services.signals,
        listeners=listeners,
        activity=activity,
    )
    runtime.heartbeat = Heartbeat(clock)
    runtime.server, runtime.health = _build_http(settings, bolt, services, runtime, port)
    runtime.on_start = partial(show_recovered, services)  # a log a kill cut short, completed
    return runtime


def _build_http(settings: Settings, bolt, services, runtime: Runtime, port: int | None):  # noqa: ANN001, ANN202
    """The front door: /slack/events (not in Socket Mode), /inbox (with a secret), /healthz."""
    from handlers.health import register_health
    from handlers.http import HttpServer, ServerLimits
    from handlers.slack_http import register_slack
    from handlers.webhooks import WebApp

    web = WebApp()
    if not settings.slack.app_token:  # in Socket Mode, events come over the socket
        register_slack(web, bolt, settings.slack.signing_secret, runtime.activity)
    if services.triage is not None:
        services.triage.register_http(web)
    services.signals.register_http(web)  # /hooks/<source> for each configured receiver
    health = register_health(web, services, runtime.scheduler, runtime.heartbeat)
    port = settings.slack.port if port is None else port
    limits = ServerLimits(read_timeout=settings.http_read_timeout)
    server = HttpServer(web, "0.0.0.0", port, limits)
    return server, health


def _build_drafts(settings: Settings, repos):  # noqa: ANN001, ANN202
    """Outreach drafts from the templates (the team's folder over the bundled one)."""
    from bot.outreach.drafts import DraftService
    from bot.outreach.templates import Templates

    return DraftService(repos, settings, Templates.from_settings(settings))


def _load_and_freeze(repos) -> None:  # noqa: ANN001
    """Read the data files now (a corrupt one stops the bot at start, not mid-claim), then move
    the loaded documents out of the garbage collector's sight: at 100k subscribers a full
    collection walking them paused a claim for over 200 ms."""
    repos.subscribers.count()
    repos.tasks.spread()  # an old directory's tasks, before any claim can wait on it
    repos.digests.count()
    repos.events.count()
    repos.outreach.count()
    repos.audit.count()
    settle_heap()


def _build_inbox(settings: Settings, services, scheduler: schedule.Scheduler):  # noqa: ANN001, ANN202
    """The shared inbox's pieces, when a triage channel is configured; None otherwise."""
    if not settings.slack.triage_channel:
        return None
    from handlers.triage import build_triage

    return build_triage(settings, services, scheduler)


def run_bot(settings: Settings) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = build(settings)
    runtime.start(
        serve_http=True
    )  # /healthz and /inbox in both modes; /slack/events only over HTTP
    mode = (
        "Socket Mode"
        if settings.slack.app_token
        else f"HTTP on port {settings.slack.port} (/slack/events)"
    )
    log.info(
        "Proactive Care is running: %s; digest at %s", mode, settings.digest.time.strftime("%H:%M")
    )
    runtime.scheduler.run_all()  # a digest missed while the bot was down is posted now, once
    try:
        while not runtime.stop_event.wait(1.0):
            runtime.tick()
    except KeyboardInterrupt:
        log.info("Stopping")
    finally:
        runtime.stop()
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Proactive Care for Slack")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="import subscribers or events from a CSV file")
    imp.add_argument("path")
    imp.add_argument("--format", choices=FORMATS, default="auto")
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change, change nothing"
    )
    imp.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        help="how to read dates like 02/03/2026: day first (dmy) or month first (mdy)",
    )
    dig = sub.add_parser("digest", help="the daily digest")
    dig.add_argument("--preview", action="store_true", help="show it without changing any data")
    dig.add_argument(
        "--date", type=date.fromisoformat, help="YYYY-MM-DD (default: today, team timezone)"
    )
    dig.add_argument("--json", action="store_true", help="print one JSON object")
    dig.add_argument(
        "--all", action="store_true", help="every due task, posted and queued, one line each"
    )
    syn = sub.add_parser("sync", help="backfill live signals from a billing system's API")
    syn.add_argument("source", choices=["stripe"])
    syn.add_argument("--since", type=date.fromisoformat, help="also replay events since YYYY-MM-DD")
    syn.add_argument(
        "--url", default="", help="while the bot runs: its /hooks/stripe URL (default: local)"
    )
    hooks = sub.add_parser("hooks", help="webhook receivers")
    hooks.add_argument(
        "action",
        choices=["test", "held"],
        help="test: send the bot a signed sample; held: list deliveries dated ahead of its clock",
    )
    hooks.add_argument("source", nargs="?", default="stripe", choices=["stripe"])
    hooks.add_argument("--url", default="", help="the bot's /hooks/stripe URL (default: local)")
    if _command(argv) not in CORE_COMMANDS:  # their modules cost a `digest --preview` 0.3 s
        from bot.metrics.cli import add_commands

        add_commands(sub)
        from bot.outreach.cli import add_commands as add_template_commands

        add_template_commands(sub)
    return parser.parse_args(argv)


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named (the first argument that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    try:
        settings = load_settings()
        if args.command == "import":
            from bot.importers.cli import run_import

            return run_import(
                settings,
                args.path,
                args.format,
                args.dry_run,
                console,
                date_order=args.date_order,
            )
        if args.command in ("report", "export", "backtest"):
            from bot.metrics.cli import run_command

            return run_command(args, settings, console)
        if args.command == "template":
            from bot.outreach.cli import run_template

            return run_template(args, settings, console)
        if args.command == "digest":
            if not args.preview:
                console.print("Posting happens in Slack (/care digest now); use --preview here.")
                return 2
            from bot.preview import run_preview

            return run_preview(settings, args.date, args.json, console, every=args.all)
        if args.command == "sync":
            from bot.signals.cli import run_sync

            return run_sync(settings, args.source, args.since, console, args.url)
        if args.command == "hooks":
            from bot.signals.cli import run_hooks_held, run_hooks_test

            if args.action == "held":
                return run_hooks_held(settings, console)
            return run_hooks_test(settings, args.source, args.url, console)
        return run_bot(settings)
    except (ConfigError, StoreError) as exc:
        # escape: "[slack] digest_channel" in the message is text, not rich markup
        console.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, markup=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
