"""Live signals' routes and Slack side: `/hooks/<source>` and the alerts they raise.

`build_signals` wires the journal-then-apply intake (bot.signals.intake) to the alert service
(bot.alerts), which posts through the Slack client. `Signals.register_http` adds one signed
route per configured receiver: the body limit, then the vendor's own check on the raw bytes
(401), then the journal (200 once stored). A vendor whose secret is not set has no route (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import schedule

from bot.alerts import AlertService
from bot.clock import Clock
from bot.signals.apply import SignalApplier
from bot.signals.freshness import QuietWatch, SourceState, source_states
from bot.signals.intake import Intake
from bot.signals.sources import configured_receivers
from handlers.context import Services
from handlers.slack_sink import SlackSink
from handlers.webhooks import Malformed, Reply, SignedRequest, WebApp


@dataclass
class Signals:
    intake: Intake
    alerts: AlertService
    quiet: QuietWatch
    clock: Clock

    def register_http(self, web: WebApp) -> None:
        for source in self.intake.receivers:
            web.signed_route(
                f"/hooks/{source}",
                verifier=self._verifier(source),
                max_body=self.intake.max_body,
                handler=self._handler(source),
            )

    def _verifier(self, source: str):  # noqa: ANN202 - handlers.webhooks.Verifier
        def verify(body: bytes, headers: Mapping[str, str]) -> str | None:
            refused = self.intake.verify(source, body, headers)
            if refused is not None and refused.status == 400:
                raise Malformed(str(refused))
            return str(refused) if refused is not None else None

        return verify

    def _handler(self, source: str):  # noqa: ANN202 - handlers.webhooks.Handler
        def handle(request: SignedRequest) -> Reply:
            answer = self.intake.accept(source, request.body, request.headers)
            if answer.status == 400:
                raise Malformed(str(answer.body.get("error", "malformed delivery")))
            return Reply(answer.status, dict(answer.body))

        return handle

    def states(self) -> list[SourceState]:
        """Every configured source's freshness (and any that has sent before)."""
        rules = self.alerts.settings.alerts
        return source_states(
            self.intake.journal, self.intake.receivers, self.clock.now(), rules.quiet_hours
        )

    def health(self) -> dict[str, Any]:
        """For `/healthz`: each source's state."""
        return {s.source: s.as_dict() for s in self.states()}

    def schedule(self, scheduler: schedule.Scheduler) -> None:
        """Every 15 minutes: warn of quiet sources, apply deliveries whose customer arrived
        (by a CSV import, say) and held ones whose date has come."""
        scheduler.every(15).minutes.do(self.check).tag("signals")

    def check(self) -> None:
        rules = self.alerts.settings.alerts
        self.quiet.check(self.intake.receivers, self.clock.now(), rules.quiet_hours)
        self.intake.retry_waiting()
        self.intake.release_held()

    def start(self) -> None:
        self.intake.start()

    def stop(self) -> None:
        self.intake.stop()


def build_signals(services: Services) -> Signals:
    """The intake for every configured receiver, with alerts posted to the alerts channel."""
    settings, repos = services.settings, services.repos
    intake = Intake(
        configured_receivers(settings.hooks),
        repos.journal,
        SignalApplier(repos, repos.journal, services.clock),
        services.clock,
    )
    alerts = AlertService(repos, repos.alerts, settings, services.clock, SlackSink(services.client))
    intake.on_applied(alerts.on_applied)
    quiet = QuietWatch(
        repos.journal, repos.alerts, SlackSink(services.client), settings.slack.alerts_channel
    )
    return Signals(intake, alerts, quiet, services.clock)
