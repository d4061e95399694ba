"""care.toml files for the config tests: the bundled one with a line changed, or any text."""

from __future__ import annotations

from pathlib import Path

from config.settings import DEFAULT_CONFIG

DEFAULT_TOML = DEFAULT_CONFIG.read_text()


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "care.toml"
    path.write_text(text)
    return path


def with_changed(tmp_path: Path, old: str, new: str) -> Path:
    """The default care.toml with one line changed."""
    assert old in DEFAULT_TOML, old
    return write_config(tmp_path, DEFAULT_TOML.replace(old, new, 1))
