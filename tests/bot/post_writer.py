"""A process that posts the day's digest on a data directory and is SIGKILLed part-way, for the
posting kill test (tests/handlers/test_digest_kill.py).

Run from the checkout as `python -m tests.bot.post_writer DATA_DIR WHEN`, with the bot's
settings (SLACK_*, CARE_*) and the clock time (CLOCK, ISO, UTC) in the environment. WHEN is
`never`, `at:K` (killed as the first file write after the K-th `chat.postMessage` starts:
Slack has the message, the store does not), `in:K` (killed inside that write: a temporary file
written but not renamed, or half of the journal's record appended) or `next:K` (killed as the
second write after the K-th post starts). It announces each post (`post N`) and, from the
first post on, each file write (`write tasks/03.json`) on stdout. The bot is `app.build`'s, posting with `publish` exactly as
the digest job does.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

import app
from bot import datafile
from bot.clock import FixedClock
from bot.posting import Pacer
from config import load_settings
from tests.bot.log_writer import announce, kill_during_writes


def main(data_dir: str, when: str) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith(("SLACK_", "CARE_"))}
    settings = load_settings({**env, "CARE_DATA_DIR": data_dir}, dotenv=False)
    clock = FixedClock(datetime.fromisoformat(os.environ["CLOCK"]))
    runtime = app.build(settings, clock=clock, port=0, pacer=Pacer(interval=0))
    publisher = runtime.services.publisher  # type: ignore[attr-defined]
    mode, _, number = when.partition(":")
    posts, real_post = 0, publisher.sink.post
    real_write, real_append = datafile.atomic_write, datafile.append_log

    def post(*args: Any, **kwargs: Any) -> str:
        nonlocal posts
        ts: str = real_post(*args, **kwargs)
        posts += 1
        announce(f"post {posts}")
        if mode == "never" or posts <= int(number):  # once armed, the kill stays armed
            datafile.atomic_write, datafile.append_log = real_write, real_append
            armed = mode != "never" and posts == int(number)  # from here, the n-th write dies
            kill_during_writes(("at:2" if mode == "next" else f"{mode}:1") if armed else "never")
        return ts

    publisher.sink.post = post
    publisher.publish()
    announce("posted")
    publisher.close()
    runtime.services.repos.store.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(*sys.argv[1:3])
