"""Slack listeners, one module per surface; each exposes `register(app, services)`."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, email, events, link, reply, triage_buttons, views
from handlers.context import Services


def register(app: App, services: Services) -> None:
    events.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    email.register(app, services)
    views.register(app, services)
    if services.triage is not None:
        triage_buttons.register(app, services)
        reply.register(app, services)
        link.register(app, services)
