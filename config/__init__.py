"""Settings: `.env` and the environment for secrets, `care.toml` for the team's rules."""

from config.errors import ConfigError
from config.settings import Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
