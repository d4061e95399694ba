"""A real SMTP server for the sending tests: aiosmtpd in its own process, on loopback.

`python -m tests.smtp_server --spool DIR --cert C --key K --port P --tls-port Q` serves SMTP
with STARTTLS required before AUTH (PLAIN/LOGIN, the users in `USERS`) on P, and implicit TLS
on Q. Every message accepted is written to DIR as `<n>.eml` (the bytes exactly as received)
and `<n>.json` (envelope sender and recipients, the login), so a test reads back what the
customer's server got. Recipients at `refused.example` are refused with 550 at RCPT.

Why aiosmtpd and not Postfix: a Postfix instance needs the system's postfix user, a queue
owned by root and a master daemon per machine; aiosmtpd (Apache-2.0) is one child process the
test session owns, with the same wire protocol (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA).

`SmtpServer` starts it once per test session (see tests/conftest.py) and reads the spool.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.inbox_server import free_port, greets

USERS = {"care@example.com": "smtp-test-password"}
REFUSED_DOMAIN = "refused.example"


# ----- the server process ---------------------------------------------------------------


def _serve(args: argparse.Namespace) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    spool = Path(args.spool)
    counter = {"n": len(list(spool.glob("*.eml")))}
    lock = threading.Lock()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
            if address.lower().endswith("@" + REFUSED_DOMAIN):
                return "550 5.1.1 No such user here"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
            with lock:
                counter["n"] += 1
                name = f"{counter['n']:05d}"
            login = session.auth_data.login.decode() if session.auth_data else ""
            meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "login": login}
            (spool / f"{name}.json.tmp").write_text(json.dumps(meta))
            (spool / f"{name}.eml.tmp").write_bytes(envelope.original_content or envelope.content)
            os.replace(spool / f"{name}.eml.tmp", spool / f"{name}.eml")
            os.replace(spool / f"{name}.json.tmp", spool / f"{name}.json")
            return f"250 2.0.0 Ok: queued as {name}"

    def authenticator(server, session, envelope, mechanism, data):  # noqa: ANN001, ANN202
        ok = (
            isinstance(data, LoginPassword)
            and USERS.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    common = {"authenticator": authenticator, "auth_required": True, "hostname": "127.0.0.1"}
    starttls = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=context,
        require_starttls=True,
        server_hostname="127.0.0.1",
        **{k: v for k, v in common.items() if k != "hostname"},
        ident="care-test-smtp",
    )
    implicit = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=args.tls_port,
        ssl_context=context,
        server_hostname="127.0.0.1",
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # the whole connection is TLS; aiosmtpd only tracks STARTTLS
        ident="care-test-smtp",
    )
    starttls.start()
    implicit.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(0.5):  # a test run that was killed cannot stop us: leave with it
        if os.getppid() != parent:
            break
    starttls.stop()
    implicit.stop()


# ----- the test-side handle -------------------------------------------------------------


class SmtpServer:
    """One aiosmtpd process with its certificate and spool, for a whole test session."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="care-smtp-"))
        self.spool = self.root / "spool"
        self.spool.mkdir()
        self.cert, self.key = self.root / "cert.pem", self.root / "key.pem"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.key), "-out", str(self.cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.smtp_server", "--spool", str(self.spool),
             "--cert", str(self.cert), "--key", str(self.key),
             "--port", str(self.port), "--tls-port", str(self.tls_port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"the test SMTP server exited: {err[-3000:]}")
            if greets(self.host, self.port, b"220"):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the test SMTP server did not answer")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's throwaway certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    # ----- reading what arrived ---------------------------------------------------------

    def count(self) -> int:
        return len(list(self.spool.glob("*.json")))

    def received(self, since: int = 0) -> list[tuple[EmailMessage, dict[str, Any]]]:
        """Messages accepted after the first `since`, parsed, with their envelope."""
        out = []
        for meta_path in sorted(self.spool.glob("*.json"))[since:]:
            raw = meta_path.with_suffix(".eml").read_bytes()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            meta = json.loads(meta_path.read_text())
            meta["raw"] = raw
            out.append((msg, meta))  # type: ignore[arg-type]
        return out

    def wait_for(
        self, since: int, count: int = 1, timeout: float = 10.0
    ) -> list[tuple[EmailMessage, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(since)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(
            f"expected {count} message(s) after #{since}, got {len(self.received(since))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--spool", "--cert", "--key"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-port", type=int, required=True)
    _serve(parser.parse_args())


if __name__ == "__main__":
    main()
