"""Settings: `.env` and the environment for secrets, `care.toml` for the team's rules."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
