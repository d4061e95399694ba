"""Settings for sending email (SMTP), read from the environment only.

`SMTP_SECURITY=ssl` is implicit TLS (port 465 by default), `starttls` upgrades a plain
connection (port 587 by default); `none` is for a loopback relay only. `SMTP_FROM` is the
shared support address customers see and reply to (`Name <support@example.com>` or a bare
address); it defaults to `SMTP_USER`, then to `IMAP_USER`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a sender is parsed: every command reads the settings
    from email.headerregistry import Address

SECURITY_MODES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
SELF_FILING_HOSTS = ("gmail.com", "googlemail.com", "office365.com", "outlook.com")


class SmtpConfigError(ValueError):
    """An SMTP setting is wrong; the message says which and what to set."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    security: str = "starttls"  # ssl | starttls | none
    sender: str = ""  # SMTP_FROM, e.g. "Acme Support <support@acme.com>"
    sent_folder: str = ""  # IMAP folder for copies; "" finds the \Sent folder (else "Sent")
    timeout: float = 20.0
    save_sent: str = "auto"  # auto | true | false: APPEND a copy to the IMAP Sent folder

    @property
    def saves_copy(self) -> bool:
        """Whether the bot files a copy in Sent (Gmail and Microsoft 365 file SMTP mail
        themselves, so `auto` leaves it to them)."""
        if self.save_sent != "auto":
            return self.save_sent == "true"
        return not self.host.lower().endswith(SELF_FILING_HOSTS)

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender)

    def from_address(self) -> Address:
        """`SMTP_FROM` as an `Address` (display name and addr-spec)."""
        return parse_from(self.sender)


def parse_from(value: str) -> Address:
    """Parse `Name <user@host>` or `user@host`.

    Raises:
        SmtpConfigError: the value is not one plain address.
    """
    from email.headerregistry import Address
    from email.utils import parseaddr

    name, addr = parseaddr(value)
    if not addr or "@" not in addr or any(c in value for c in "\r\n"):
        raise SmtpConfigError(
            f"SMTP_FROM {value!r} is not an email address: use support@yourshop.com "
            "or 'Your Shop Support <support@yourshop.com>'"
        )
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise SmtpConfigError(f"SMTP_FROM {value!r} is not an email address: {exc}") from exc


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings:
    """Read `SMTP_*` from `env`; nothing set means sending is off.

    Raises:
        SmtpConfigError: naming the variable that is wrong.
    """
    host = env.get("SMTP_HOST", "").strip()
    security = env.get("SMTP_SECURITY", "starttls").strip().lower() or "starttls"
    security = {"tls": "ssl", "true": "ssl", "false": "none", "plain": "none"}.get(
        security, security
    )
    if security not in SECURITY_MODES:
        raise SmtpConfigError("SMTP_SECURITY must be ssl (port 465), starttls (587) or none")
    port_text = env.get("SMTP_PORT", "").strip() or str(DEFAULT_PORTS[security])
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SmtpConfigError(f"SMTP_PORT must be a port number, got {port_text!r}")
    save_sent = env.get("SMTP_SAVE_SENT", "auto").strip().lower() or "auto"
    save_sent = {"1": "true", "yes": "true", "0": "false", "no": "false"}.get(save_sent, save_sent)
    if save_sent not in ("auto", "true", "false"):
        raise SmtpConfigError("SMTP_SAVE_SENT must be auto, true or false")
    user = env.get("SMTP_USER", "").strip()
    sender = env.get("SMTP_FROM", "").strip() or user or env.get("IMAP_USER", "").strip()
    settings = SmtpSettings(
        host=host,
        port=int(port_text),
        user=user,
        password=env.get("SMTP_PASSWORD", ""),
        security=security,
        sender=sender,
        sent_folder=env.get("SMTP_SENT_FOLDER", "").strip(),
        save_sent=save_sent,
    )
    if host:
        if not sender:
            raise SmtpConfigError("SMTP_HOST is set but SMTP_FROM is not: set the support address")
        settings.from_address()
    return settings
