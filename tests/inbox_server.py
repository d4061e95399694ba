"""A real, throwaway Dovecot IMAP server for the inbox tests (Debian's `dovecot-imapd`).

`DovecotServer` writes a config into a fresh temporary directory (loopback only, plaintext
login allowed, a passwd-file with test users, maildirs, base_dir/state/logs all inside),
runs `dovecot -F -c CONF` as a child process on a free port and waits until it answers.
Helpers deliver mail with APPEND, recreate a folder (which gives it a new UIDVALIDITY) and
read a message's flags, all through `imaplib` as a mail client would.

`make test` installs dovecot when it is missing (`make imap-server`); without it the IMAP
tests are skipped with a reason that says so.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

USERS = {"care": "care-test-password", "other": "other-password"}
DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def find_dovecot() -> str | None:
    """The dovecot binary, or None when it is not installed."""
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A loopback port nobody listens on right now (bind port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def greets(host: str, port: int, greeting: bytes) -> bool:
    """Whether a server listens on `port` and its first line starts with `greeting`."""
    with (
        contextlib.suppress(OSError),
        socket.create_connection((host, port), 0.5) as sock,
    ):
        sock.settimeout(2)
        return sock.recv(64).startswith(greeting)
    return False


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _is_ours(pid: int, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _end(pids: list[int], marker: str, timeout: float = 5.0) -> None:
    """Terminate these pids (only while their command line still names this instance)."""
    for pid in pids:
        if _is_ours(pid, marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_is_ours(pid, marker) for pid in pids):
        if time.monotonic() > deadline:
            for pid in pids:
                if _is_ours(pid, marker):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


class DovecotServer:
    """One Dovecot instance with its own config, users and maildirs.

    Args:
        binary: path of the dovecot executable.
        tls: also offer STARTTLS on `port` and implicit TLS on `tls_port`, with a throwaway
            self-signed certificate for 127.0.0.1 (`cert` is the file a client should trust).
    """

    def __init__(self, binary: str, tls: bool = False) -> None:
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.root = Path(tempfile.mkdtemp(prefix="care-dovecot-"))
        self.root.chmod(0o755)  # mail processes run as an unprivileged user when we are root
        self.config = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.cert = self.root / "cert.pem"
        self._write_config()

    # ----- lifecycle ---------------------------------------------------------------------

    def _write_config(self) -> None:
        root = self.root
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir()
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            login_lines = ""
        else:
            mail_user = pwd.getpwuid(os.getuid())
            name = mail_user.pw_name
            login_lines = f"default_login_user = {name}\ndefault_internal_user = {name}\n"
            login_lines += f"default_internal_group = {grp.getgrgid(os.getgid()).gr_name}\n"
        self.mail_uid, self.mail_gid = mail_user.pw_uid, mail_user.pw_gid
        os.chown(root / "mail", self.mail_uid, self.mail_gid)
        ssl_lines = self._make_cert() if self.tls_port else "ssl = no\n"
        users = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in USERS.items())
        (root / "users").write_text(users)
        self.config.write_text(
            f"""# Throwaway Dovecot for the Proactive Care tests: loopback only.
protocols = imap
listen = {self.host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = care-test-{self.port}
log_path = {self.log}
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
{login_lines}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""
        )

    def _make_cert(self) -> str:
        key = self.root / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        key.chmod(0o644)  # read by dovecot's login processes (throwaway key, temp dir)
        return f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}\n"

    def start(self, timeout: float = 15.0) -> None:
        """Run dovecot in the foreground as a child and wait until it answers on the port.

        A restart right after `stop()` can find the old master's socket still in place on a
        loaded machine ("Socket already exists"): dovecot exits at once, and is started again
        until the deadline.
        """
        self.process = self._spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                if "already exists" in err and time.monotonic() + 0.2 < deadline:
                    if self.process.stderr:
                        self.process.stderr.close()
                    time.sleep(0.2)
                    self.process = self._spawn()
                    continue
                raise RuntimeError(
                    f"dovecot exited ({self.process.returncode}): {err}{self.log_text()}"
                )
            if greets(self.host, self.port, b"* OK"):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log_text()}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        """Stop the server and every process it started (its data stays for `start()`).

        Dovecot's session, log and stats processes outlive a terminated master, so they are
        collected first and ended by pid: an outage then really drops every connection.
        """
        process, self.process = self.process, None
        if process is None:
            return
        children = _descendants(process.pid)
        _end(children, marker=f"care-test-{self.port}")  # sessions first: the master exits faster
        if process.poll() is None:
            process.kill()  # a graceful master shutdown waits a second; the data is on disk
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
        _end(_descendants(process.pid) + children, marker=f"care-test-{self.port}")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    # ----- mail client helpers -----------------------------------------------------------

    @contextlib.contextmanager
    def client(self, user: str = "care") -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(user, USERS[user])
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def append(
        self,
        raw: bytes,
        flags: str = "",
        folder: str = "INBOX",
        user: str = "care",
        received: datetime | None = None,
    ) -> int:
        """Deliver a message by APPEND (arrival time `received`, default now); returns its UID."""
        when = imaplib.Time2Internaldate(received) if received else None
        with self.client(user) as conn:
            typ, data = conn.append(folder, f"({flags})" if flags else None, when, raw)
            assert typ == "OK", data
            conn.select(folder)
            _, uids = conn.uid("SEARCH", "ALL")
            return max(int(u) for u in uids[0].split())

    def recreate_folder(self, folder: str, user: str = "care") -> None:
        """Delete and create `folder` (not INBOX): it comes back empty with a new UIDVALIDITY."""
        if folder.upper() == "INBOX":
            raise ValueError("IMAP cannot delete INBOX: use another folder for this test")
        with self.client(user) as conn:
            conn.delete(folder)
            typ, data = conn.create(folder)
            assert typ == "OK", data

    def create_folder(self, folder: str, user: str = "care") -> None:
        with self.client(user) as conn:
            typ, data = conn.create(folder)
            assert typ == "OK", data

    def uidvalidity(self, folder: str = "INBOX", user: str = "care") -> int:
        with self.client(user) as conn:
            conn.select(folder, readonly=True)
            _, values = conn.response("UIDVALIDITY")
            return int(values[0])

    def flags(self, uid: int, folder: str = "INBOX", user: str = "care") -> set[str]:
        """The flags of one message, e.g. {"$CareHandled"} or {"\\\\Seen"}."""
        with self.client(user) as conn:
            conn.select(folder, readonly=True)
            _, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            text = data[0].decode() if data and data[0] else ""
            inside = text.partition("FLAGS (")[2].partition(")")[0]
            return set(inside.split())

    def uids(self, folder: str = "INBOX", user: str = "care") -> list[int]:
        with self.client(user) as conn:
            conn.select(folder, readonly=True)
            _, data = conn.uid("SEARCH", "ALL")
            return sorted(int(u) for u in data[0].split())
