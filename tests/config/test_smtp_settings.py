"""SMTP_* settings: defaults per security mode, clear errors for wrong values."""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings


def _load(**env: str):
    return load_settings({"CARE_DATA_DIR": "/tmp/x", **env}, dotenv=False).smtp


def test_sending_is_off_until_a_host_is_set():
    assert not _load().enabled


def test_gmail_style_settings_default_the_port_and_the_sender():
    smtp = _load(SMTP_HOST="smtp.gmail.com", SMTP_USER="support@shop.example", SMTP_PASSWORD="pw")
    assert (smtp.port, smtp.security, smtp.sender) == (587, "starttls", "support@shop.example")
    assert smtp.enabled and not smtp.saves_copy  # Gmail files SMTP mail in Sent itself


def test_implicit_tls_defaults_to_465_and_a_generic_host_gets_a_copy_in_sent():
    smtp = _load(
        SMTP_HOST="mail.shop.example", SMTP_SECURITY="ssl", SMTP_FROM="Shop <s@shop.example>"
    )
    assert smtp.port == 465 and smtp.saves_copy
    assert smtp.from_address().display_name == "Shop"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SMTP_SECURITY": "tls13"}, "SMTP_SECURITY"),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({"SMTP_FROM": "not an address"}, "SMTP_FROM"),
        ({"SMTP_FROM": "a@b.example\r\nBcc: x@y.example"}, "SMTP_FROM"),
        ({"SMTP_SAVE_SENT": "maybe"}, "SMTP_SAVE_SENT"),
    ],
)
def test_wrong_values_name_the_variable(env, names):
    with pytest.raises(ConfigError, match=names):
        _load(SMTP_HOST="mail.shop.example", SMTP_USER="s@shop.example", **env)
