"""Hand one message to the SMTP server, and say clearly why when it cannot be done.

The envelope and data are sent step by step (MAIL, RCPT, DATA) so a failure is known to have
happened before the server had the message (safe to retry) or while it was taking it (it may
have been delivered: `SendError.maybe_sent`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email import policy
from email.message import EmailMessage

from config.smtp import SmtpSettings

log = logging.getLogger(__name__)

AUTH, REFUSED, TIMEOUT, CONNECTION, TLS, INVALID, UNCERTAIN = (
    "auth",
    "refused",
    "timeout",
    "connection",
    "tls",
    "invalid",
    "uncertain",
)
AUTH_HELP = (
    "The mail server {host} refused the login for {user}: check SMTP_USER and SMTP_PASSWORD "
    "(Gmail and Microsoft 365 need an app password)"
)


class SendError(Exception):
    """Sending failed. `kind` is one of auth, refused, timeout, connection, tls, invalid,
    uncertain; `maybe_sent` is true when the server may already have the message."""

    def __init__(self, kind: str, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.maybe_sent = maybe_sent


def _said(code: int, response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)
    return f"{code} {' '.join(text.split())}"[:300]


class SmtpTransport:
    """Sends messages through the configured server, one connection per message.

    Args:
        settings: host, port, security, login and sender.
        ssl_context: for ssl/starttls; the system's trusted CAs by default.
    """

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> str:
        """Send `msg` from envelope `sender` to `recipient`; returns the server's answer.

        Raises:
            SendError: with a sentence a manager can act on.
        """
        s = self.settings
        stage = "connect"
        try:
            conn = self._connect()
            try:
                stage = "login"
                if s.user:
                    conn.login(s.user, s.password)
                stage = "envelope"
                code, resp = conn.mail(sender)
                if code != 250:
                    raise SendError(
                        REFUSED, f"The mail server refused the sender {sender}: {_said(code, resp)}"
                    )
                code, resp = conn.rcpt(recipient)
                if code not in (250, 251):
                    raise SendError(
                        REFUSED,
                        f"The mail server refused the recipient {recipient}: {_said(code, resp)}",
                    )
                stage = "data"
                code, resp = conn.data(msg.as_bytes(policy=policy.SMTP))
                if code != 250:
                    raise SendError(
                        REFUSED, f"The mail server refused the message: {_said(code, resp)}"
                    )
                return _said(code, resp)
            finally:
                try:
                    conn.quit()
                except (smtplib.SMTPException, OSError):
                    conn.close()
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                AUTH,
                AUTH_HELP.format(host=s.host, user=s.user)
                + f". Server said: {_said(exc.smtp_code, exc.smtp_error)}",
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            kind = TLS if stage == "connect" else AUTH
            raise SendError(
                kind,
                f"The mail server {s.host} does not support {'STARTTLS' if kind == TLS else 'login'}: {exc}",
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(
                REFUSED, f"The mail server {s.host} said: {_said(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except ssl.SSLError as exc:
            raise SendError(
                TLS,
                f"TLS with {s.host}:{s.port} failed ({exc.reason or exc}): check SMTP_SECURITY and SMTP_PORT",
            ) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
                raise self._connection_error(exc, stage) from exc
            raise SendError(
                TIMEOUT,
                f"The mail server {s.host}:{s.port} did not answer in {s.timeout:g} s"
                + (
                    " while taking the message: it may have been delivered"
                    if stage == "data"
                    else ""
                ),
                maybe_sent=stage == "data",
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise self._connection_error(exc, stage) from exc

    def _connection_error(self, exc: Exception, stage: str) -> SendError:
        s = self.settings
        return SendError(
            CONNECTION,
            f"Could not reach the mail server {s.host}:{s.port}: {exc or type(exc).__name__}"
            + (
                " (while it took the message: it may have been delivered)"
                if stage == "data"
                else ""
            ),
            maybe_sent=stage == "data",
        )

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self.ssl_context or ssl.create_default_context()
        conn: smtplib.SMTP
        if s.security == "ssl":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
        except BaseException:
            conn.close()
            raise
        return conn
