"""Fixtures for driving `python app.py import` through `app.main`."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CARE_DATA_DIR for the command line, in a directory with no stray .env or care.toml."""
    path = tmp_path / "data"
    monkeypatch.setenv("CARE_DATA_DIR", str(path))
    monkeypatch.delenv("CARE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    return path
