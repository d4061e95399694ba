"""Fixtures for the outbox: SMTP settings for the session's server, a Dovecot for Sent."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.care import CareService, Permissions
from bot.outbox.service import Outbox
from bot.outbox.smtp import SmtpTransport
from bot.repos import Repos
from config.settings import ImapSettings
from config.smtp import SmtpSettings
from tests.bot.inbox.conftest import _dovecot_binary
from tests.inbox_server import USERS, DovecotServer
from tests.smtp_server import USERS as SMTP_USERS


@pytest.fixture(scope="module")
def sent_dovecot():
    """A Dovecot for the copies in Sent, shared by a module (each test looks for its own id)."""
    server = DovecotServer(_dovecot_binary())
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def repos(file_store) -> Repos:
    """Sending is about the wire, not the storage: one run on real JSON files is enough."""
    return Repos.open(file_store)


@pytest.fixture
def smtp_settings(smtp_server) -> SmtpSettings:
    user = next(iter(SMTP_USERS))
    return SmtpSettings(
        host=smtp_server.host,
        port=smtp_server.port,
        user=user,
        password=SMTP_USERS[user],
        security="starttls",
        sender=f"Acme Support <{user}>",
        timeout=5,
        save_sent="true",
    )


@pytest.fixture
def mailbox(sent_dovecot) -> ImapSettings:
    return ImapSettings(
        host=sent_dovecot.host,
        port=sent_dovecot.port,
        user="care",
        password=USERS["care"],
        ssl="false",
    )


@pytest.fixture
def make_outbox(repos, clock, smtp_server, smtp_settings, mailbox):
    def build(smtp: SmtpSettings | None = None, imap: ImapSettings | None = None) -> Outbox:
        smtp = smtp or smtp_settings
        care = CareService(repos, clock, ZoneInfo("UTC"), Permissions())
        transport = SmtpTransport(smtp, ssl_context=smtp_server.ssl_context())
        return Outbox(repos, smtp, imap or mailbox, clock, care, transport=transport)

    return build
