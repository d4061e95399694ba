"""Shared fixtures: stores on memory and on a real JSON directory, a fixed clock, settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.repos import Repos
from bot.store import Store
from config import load_settings

pytest_plugins = ["tests.fakeslack.fixtures", "tests.localstripe"]

# ../shared beside the checkout (CI clones main with shared/ next to it).
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(params=["memory", "json"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """A store on TinyDB's MemoryStorage and on real JSON files, as TinyDB's own tests do."""
    s = Store.memory() if request.param == "memory" else Store(tmp_path / "data", shards=8)
    yield s
    s.close()


@pytest.fixture
def file_store(tmp_path: Path):
    s = Store(tmp_path / "data", shards=8)
    yield s
    s.close()


@pytest.fixture
def repos(store: Store) -> Repos:
    return Repos.open(store)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 15, 14, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings({"CARE_DATA_DIR": str(tmp_path / "data")}, dotenv=False)


@pytest.fixture(scope="session")
def smtp_server():
    """One real SMTP server (aiosmtpd, STARTTLS + AUTH, own process) for the whole session."""
    import shutil

    from tests.smtp_server import SmtpServer

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the SMTP test certificate (apt-get install openssl)")
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
