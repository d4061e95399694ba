"""The one error every settings problem is reported as, in `config/` and at start-up."""


class ConfigError(Exception):
    """A setting is missing or wrong; the message says what to set."""
