"""Fixtures for the inbox tests: a real Dovecot, IMAP settings for it, the recording poster,
the ingestor posting to it, and a subscriber who writes in."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from bot.inbox.imap import ImapConnector
from bot.inbox.ingest import Ingestor
from bot.models import Subscriber, Subscription
from config.settings import ImapSettings
from tests.bot.inbox.mail import RecordingPoster
from tests.inbox_server import USERS, DovecotServer, find_dovecot


def _dovecot_binary() -> str:
    binary = find_dovecot()
    if binary is None:
        pytest.skip(
            "dovecot is not installed: run `make imap-server` (Debian's dovecot-imapd) or `make test`"
        )
    return binary


@pytest.fixture
def dovecot():
    """A running Dovecot with empty mailboxes for the test users; stopped and removed after."""
    server = DovecotServer(_dovecot_binary())
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def tls_dovecot():
    """A Dovecot that also offers STARTTLS and implicit TLS with a throwaway certificate."""
    binary = _dovecot_binary()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the TLS test certificate (apt-get install openssl)")
    server = DovecotServer(binary, tls=True)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def imap_settings(dovecot):
    return ImapSettings(
        host=dovecot.host,
        port=dovecot.port,
        user="care",
        password=USERS["care"],
        folder="INBOX",
        ssl="false",
        poll_seconds=1,
    )


@pytest.fixture
def poster():
    return RecordingPoster()


@pytest.fixture
def ingestor(repos, settings, clock, poster):
    """The inbox service posting to the recording poster."""
    return Ingestor(repos, settings, clock, poster)


@pytest.fixture
def ann(repos):
    """A subscriber who writes in: Ann Lee, ann@example.com."""
    sub = Subscriber(
        id="cus_ann",
        email="ann@example.com",
        name="Ann Lee",
        source="stripe",
        subscriptions=[Subscription(id="sub_1", plan="Monthly beans", amount=30.0)],
        first_started=date(2025, 3, 1),
    )
    repos.subscribers.put(sub)
    return sub


@pytest.fixture
def make_connector(repos, settings, clock, poster, imap_settings):
    """Build a connector over the shared store, as a restarted bot process would."""
    connectors = []

    def build(imap: ImapSettings | None = None, **kw) -> ImapConnector:
        ingestor = Ingestor(repos, settings, clock, poster)
        connector = ImapConnector(
            imap or imap_settings,
            ingestor,
            repos.inbox,
            clock,
            min_backoff=0.05,
            max_backoff=0.2,
            timeout=5,
            **kw,
        )
        connectors.append(connector)
        return connector

    yield build
    for connector in connectors:
        connector.close()
