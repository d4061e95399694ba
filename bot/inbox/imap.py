"""The IMAP connector: poll the shared mailbox and hand each new email to the ingest service.

Guarantees (issue 5): nothing lost, nothing posted twice, the mailbox left as the humans see it.

- Progress is UIDVALIDITY + the last handled UID, stored through `InboxRepo`; each message is
  fetched with BODY.PEEK[] (never sets \\Seen), ingested, then flagged with the keyword
  `$CareHandled`, and only then does the UID count as handled. The UID is written at most once
  a second during a poll and always when the poll ends (one store write per email fewer): the
  search skips flagged messages, so a crash in between re-reads at most the few whose flag
  could not be set, and the Message-ID dedupe makes them duplicates. Nothing is ever deleted
  or expunged.
- A crash between posting and flagging re-fetches the message on restart; the Message-ID
  dedupe in the ingest makes it a "duplicate", which is then flagged. A changed UIDVALIDITY
  re-syncs from UID 1 under the same dedupe.
- A poster failure (Slack down) stops the poll at that message; the next poll retries it.
- Any other failure also stops the poll there, until the ingest parks the message (after
  `Ingestor.max_attempts` failures): it answers "parked", the message is flagged and the poll
  moves on, so one bad email never holds up the ones behind it.
- Connection failures back off exponentially (5 s doubling to 5 min) and are visible in the
  stored `ConnectorStatus` and the log; a refused login stops the connector with a clear
  message and leaves the rest of the bot running.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.clock import Clock
from bot.inbox.models import ConnectorStatus, SyncState
from bot.repos.inbox import InboxRepo
from config.settings import ImapSettings

if TYPE_CHECKING:  # the parse stack (inscriptis, lxml) is for a bot that reads a mailbox
    from bot.inbox.ingest import IngestResult

log = logging.getLogger(__name__)

HANDLED_FLAG = "$CareHandled"
AUTH_HELP = (
    "IMAP login for {user} at {host} failed: check IMAP_USER / IMAP_PASSWORD "
    "(Gmail and Microsoft 365 need an app password)"
)
OK, ERROR, STOPPED = "ok", "error", "stopped"
FIRST_SYNC_DAYS = 7
SAVE_SYNC_SECONDS = 1.0  # the last handled UID is written at most this often during a poll
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Ingests(Protocol):
    """What the connector needs from `bot.inbox.ingest.Ingestor`."""

    def ingest(self, raw: bytes, source: str, uid: int = 0) -> IngestResult: ...


class ImapAuthError(Exception):
    """The server refused the login; retrying will not help."""


@dataclass(frozen=True)
class PollResult:
    """One poll: what was ingested, and whether it ended early (error) or for good (stopped)."""

    status: str  # ok | error | stopped
    results: tuple[IngestResult, ...] = ()
    error: str = ""

    @property
    def handled(self) -> int:
        return len(self.results)


class ImapConnector:
    """Polls one IMAP folder. `run()` is meant for a daemon thread; `poll_once()` for tests.

    Args:
        imap_settings: host, port, user, password, folder, ssl mode, poll interval.
        ingestor: turns each raw email into a triage post (`Ingestor`).
        inbox_repo: where sync progress and the connector status are stored.
        clock: the time source for the status.
        stop_event: set it to make `run()` return promptly.
        min_backoff, max_backoff: seconds to wait after the first and after many failures.
        timeout: socket timeout in seconds for every IMAP command.
        history_days: on the first sync of a folder, mail received up to this many days
            before today is read; older mail is left alone for good.
        ssl_context: for IMAP_SSL true/starttls; the system's trusted CAs by default.
    """

    def __init__(
        self,
        imap_settings: ImapSettings,
        ingestor: Ingests,
        inbox_repo: InboxRepo,
        clock: Clock,
        stop_event: threading.Event | None = None,
        *,
        min_backoff: float = 5.0,
        max_backoff: float = 300.0,
        timeout: float = 30.0,
        history_days: int = FIRST_SYNC_DAYS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = imap_settings
        self.ingestor = ingestor
        self.inbox = inbox_repo
        self.clock = clock
        self.stop_event = stop_event or threading.Event()
        self.min_backoff, self.max_backoff, self.timeout = min_backoff, max_backoff, timeout
        self.history_days = history_days
        self.ssl_context = ssl_context
        self.key = f"{imap_settings.user}@{imap_settings.host}/{imap_settings.folder}"
        self.source = f"imap:{imap_settings.host}/{imap_settings.folder}"
        self.stopped = False
        self._conn: imaplib.IMAP4 | None = None
        previous = inbox_repo.connector_status(self.key)
        self.status = ConnectorStatus(key=self.key, handled=previous.handled if previous else 0)

    # ----- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        """Poll every `poll_seconds` (backing off after failures) until stopped."""
        log.info("IMAP connector polling %s every %ss", self.key, self.settings.poll_seconds)
        try:
            while not self.stop_event.is_set():
                result = self.poll_once()
                if result.status == STOPPED:
                    return
                delay = self.settings.poll_seconds if result.status == OK else self.backoff()
                self.stop_event.wait(delay)
        finally:
            self.close()

    def backoff(self) -> float:
        """Seconds to wait after `consecutive_failures` failed polls (exponential, capped)."""
        failures = max(self.status.consecutive_failures, 1)
        return min(self.max_backoff, self.min_backoff * 2 ** min(failures - 1, 30))

    def poll_once(self) -> PollResult:
        """Connect if needed, ingest every new message in UID order, flag and record each."""
        if self.stopped:
            return PollResult(STOPPED, error=self.status.last_error)
        results: list[IngestResult] = []
        try:
            conn = self._connection()
            self._sync(conn, results)
        except ImapAuthError as exc:
            return self._stop(str(exc))
        except Exception as exc:  # connection, protocol or poster failure: retry later
            return self._failed(exc, results)
        self._save_status(connected=True, failures=0, error="", handled=len(results), success=True)
        return PollResult(OK, tuple(results))

    def close(self) -> None:
        """Log out and drop the connection (the mailbox is left as it is)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.logout()
            except Exception:
                log.debug("IMAP logout failed", exc_info=True)

    # ----- one poll ----------------------------------------------------------------------

    def _sync(self, conn: imaplib.IMAP4, results: list[IngestResult]) -> None:
        state = self._select(conn)
        saved, saved_at = state.last_uid, time.monotonic()
        try:
            for uid in self._new_uids(conn, state):
                if self.stop_event.is_set():
                    return
                raw = self._fetch(conn, uid)
                if raw is not None:
                    results.append(self.ingestor.ingest(raw, self.source, uid))
                    self._mark(conn, uid)
                state.last_uid = uid
                if time.monotonic() - saved_at >= SAVE_SYNC_SECONDS:
                    self.inbox.save_sync(state)
                    saved, saved_at = uid, time.monotonic()
        finally:  # the end of the poll, a stop or a failure: progress so far is recorded
            if state.last_uid != saved:
                self.inbox.save_sync(state)

    def _select(self, conn: imaplib.IMAP4) -> SyncState:
        folder = self.settings.folder
        typ, data = conn.select(_quote(folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(
                f"IMAP folder {folder!r} cannot be opened ({_text(data)}): check IMAP_FOLDER"
            )
        _, values = conn.response("UIDVALIDITY")
        uidvalidity = int(values[0]) if values and values[0] else 0
        state = self.inbox.sync_state(self.settings.host, self.settings.user, folder)
        changed = False
        if state.since is None:
            state.since = self.clock.now().date() - timedelta(days=self.history_days)
            changed = True
            log.info(
                "IMAP first sync of %s: reading mail received since %s; older mail is left alone",
                self.key,
                state.since.isoformat(),
            )
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity:
                log.warning(
                    "IMAP UIDVALIDITY of %s changed (%s -> %s): re-reading the folder from UID 1;"
                    " emails already posted are recognised by Message-ID and not posted again",
                    self.key,
                    state.uidvalidity,
                    uidvalidity,
                )
            state.uidvalidity, state.last_uid = uidvalidity, 0
            changed = True
        if changed:
            self.inbox.save_sync(state)
        return state

    def _new_uids(self, conn: imaplib.IMAP4, state: SyncState) -> list[int]:
        criteria = ["UID", f"{state.last_uid + 1}:*", "UNKEYWORD", HANDLED_FLAG]
        if state.since is not None:
            criteria += ["SINCE", _imap_date(state.since)]
        typ, data = conn.uid("SEARCH", *criteria)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID SEARCH failed: {_text(data)}")
        uids = [int(u) for chunk in data if chunk for u in chunk.split()]
        return sorted(u for u in uids if u > state.last_uid)  # "n:*" also matches the last UID

    def _fetch(self, conn: imaplib.IMAP4, uid: int) -> bytes | None:
        typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH {uid} failed: {_text(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        log.info("IMAP message UID %s vanished before it could be read", uid)
        return None

    def _mark(self, conn: imaplib.IMAP4, uid: int) -> None:
        typ, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", f"({HANDLED_FLAG})")
        if typ != "OK":
            # Progress is the stored UID; the flag is a safety net, so only warn.
            log.warning("IMAP could not flag UID %s as %s: %s", uid, HANDLED_FLAG, _text(data))

    # ----- connection and status ---------------------------------------------------------

    def _connection(self) -> imaplib.IMAP4:
        if self._conn is not None:
            try:
                if self._conn.noop()[0] == "OK":
                    return self._conn
            except Exception:
                log.info("IMAP connection to %s was lost: reconnecting", self.settings.host)
            self._conn = None
        self._conn = self._connect()
        return self._conn

    def _connect(self) -> imaplib.IMAP4:
        return connect(self.settings, self.timeout, self.ssl_context)

    def _stop(self, message: str) -> PollResult:
        self.stopped = True
        self._conn = None
        log.error(
            "%s. The inbox connector has stopped; the rest of the bot keeps running.", message
        )
        self._save_status(
            connected=False,
            failures=self.status.consecutive_failures + 1,
            error=message,
            state="stopped",
        )
        return PollResult(STOPPED, error=message)

    def _failed(self, exc: Exception, results: list[IngestResult]) -> PollResult:
        message = f"{type(exc).__name__}: {exc}"[:500]
        is_connection = isinstance(exc, (OSError, EOFError, imaplib.IMAP4.abort))
        if is_connection:
            shutdown(self._conn)
            self._conn = None
        failures = self.status.consecutive_failures + 1
        self._save_status(
            connected=not is_connection and self._conn is not None,
            failures=failures,
            error=message,
            handled=len(results),
            state="retrying",
        )
        log.warning(
            "IMAP poll of %s failed (%d in a row, %d handled first): %s; retrying in %.0fs",
            self.key,
            failures,
            len(results),
            message,
            self.backoff(),
        )
        return PollResult(ERROR, tuple(results), message)

    def _save_status(
        self,
        *,
        connected: bool,
        failures: int,
        error: str,
        handled: int = 0,
        success: bool = False,
        state: str = "",
    ) -> None:
        now: datetime = self.clock.now()
        status = self.status
        if success and status.consecutive_failures:
            log.info("IMAP connector for %s is working again", self.key)
        status.state = state or ("connected" if connected else "retrying")
        status.connected = connected
        status.last_poll_at = now
        status.updated_at = now
        status.consecutive_failures = failures
        status.last_error = error
        status.handled += handled
        if success:
            status.last_success_at = now
        try:
            self.inbox.save_connector_status(status)
        except Exception:  # status is informative; never let it break polling
            log.exception("could not store the IMAP connector status")


def _imap_date(day: date) -> str:
    """IMAP's date format (RFC 3501 date-text), month names in English whatever the locale."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def _quote(folder: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", folder):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    parts = data if isinstance(data, list | tuple) else [data]
    out = []
    for part in parts:
        if isinstance(part, bytes):
            part = part.decode("utf-8", errors="replace")
        out.append(str(part))
    return " ".join(out).strip()[:300]


def connect(
    s: ImapSettings, timeout: float, ssl_context: ssl.SSLContext | None = None
) -> imaplib.IMAP4:
    """Open and log in to the mailbox `s` describes (implicit TLS, STARTTLS or plain).

    Raises:
        ImapAuthError: the server refused the login (the message says what to check).
        OSError, imaplib.IMAP4.error: the connection or the protocol failed.
    """
    context = ssl_context or ssl.create_default_context()
    if s.ssl == "true":
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            s.host, s.port, ssl_context=context, timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(s.host, s.port, timeout=timeout)
        if s.ssl == "starttls":
            try:
                conn.starttls(context)
            except BaseException:
                shutdown(conn)
                raise
    try:
        conn.login(s.user, s.password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        shutdown(conn)
        message = AUTH_HELP.format(user=s.user, host=s.host)
        raise ImapAuthError(f"{message}. Server said: {_text([str(exc)])}") from exc
    return conn


def shutdown(conn: imaplib.IMAP4 | None) -> None:
    if conn is None:
        return
    try:
        conn.shutdown()
    except Exception:
        log.debug("IMAP socket shutdown failed", exc_info=True)
