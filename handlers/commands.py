"""`/care` subcommands: ack with the answer (ephemeral), then update Slack messages after the ack.

claim ID | release ID | assign ID @user | snooze ID DAYS | done ID
log ID|EMAIL CHANNEL OUTCOME [note] | mine | queue [kind] | lookup EMAIL|NAME | history ID | stats [7d|30d]
report [7d|30d|90d] | digest now | triage | inbox retry|drop ID | help
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import queue
from bot.audit import SURFACE_COMMAND
from bot.blocks import cards, replies
from bot.blocks.audit import build_history_blocks, build_task_history
from bot.blocks.ids import COMMAND
from bot.blocks.queue import MAX_QUEUE_ROWS, build_queue
from bot.care import CareError, NotAllowed, normalize_choice
from bot.models import OUTREACH_CHANNELS, OUTREACH_OUTCOMES, Task
from bot.repos.digests import POSTED
from bot.risk import score
from bot.stage import lifecycle_stage
from bot.stats import team_stats
from handlers.context import Services
from handlers.in_time import InTime
from handlers.present import stats_view, task_entry_ids
from handlers.triage_commands import list_open, parked_command

log = logging.getLogger(__name__)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
SLACK_ENTITY = re.compile(r"<([^<>]+)>")  # <@U1|ann>, <#C1|general>, <mailto:…|…>, <http…|…>


@dataclass
class Outcome:
    """What a subcommand answers now, and the Slack updates to make after the ack."""

    reply: dict[str, Any]
    changed: list[Task] = field(default_factory=list)
    after: Callable[[], None] | None = None


def register(app: App, services: Services) -> None:
    def on_command(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
        with InTime(ack, respond) as answer:  # within Slack's 3 s, even if the disk stalls
            outcome = run_command(services, body)
            answer(response_type="ephemeral", **outcome.reply)
        # Nothing after the answer may raise: Bolt would replace the answer with an error.
        try:
            if outcome.changed:
                services.publisher.refresh(outcome.changed)  # queued: edits never block this
                services.home.refresh_for(outcome.changed, body.get("user_id", ""))
                if services.signals is not None:
                    services.signals.alerts.refresh(outcome.changed)
            if outcome.after is not None:
                outcome.after()
        except Exception:
            log.exception("Answered /care %s, but updating Slack after it failed", body.get("text"))

    app.command(COMMAND)(on_command)


def plain_text(text: str) -> str:
    """Command text as the manager typed it, from the form Slack sends with escaping on.

    Slack wraps mentions, channels, links and emails (`<mailto:ann@x.com|ann@x.com>`) and
    HTML-escapes `&`, `<`, `>`; ids and emails must reach the lookups bare.
    """
    return (
        SLACK_ENTITY.sub(_entity_text, text)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def _entity_text(match: re.Match[str]) -> str:
    target, _, label = match[1].partition("|")
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    if target[:1] in "@#":  # <@U1|ann>, <#C1|general>
        return target[0] + (label or target[1:])
    if target[:1] == "!":  # <!here>, <!subteam^S1|@team>
        return label or "@" + target[1:].split("^")[0]
    return target  # a link: the URL itself


def run_command(services: Services, body: dict[str, Any]) -> Outcome:
    """Parse and run one `/care` command; never raises for a user's mistake."""
    text = (body.get("text") or "").strip()
    user = body.get("user_id", "")
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word != "assign":  # assign reads the <@U…|name> mention itself
        rest = plain_text(rest)
    args = rest.split()
    handler = SUBCOMMANDS.get(word)
    if handler is None:
        return Outcome(
            replies.build_help() if word in ("", "help") else replies.build_unknown_subcommand(word)
        )
    try:
        return handler(services, user, args, rest.strip())
    except NotAllowed:
        return Outcome(replies.build_not_a_manager())
    except CareError as exc:
        return Outcome(replies.build_error(str(exc), mrkdwn=True))


def _ids(args: list[str], usage: str) -> list[str]:
    if not args:
        raise CareError(f"Usage: `{usage}`")
    return args[:1]


def _claim(services: Services, user: str, args: list[str], _: str) -> Outcome:
    task_ids = task_entry_ids(services, _ids(args, "/care claim TASK-ID")[0])
    result = services.care.claim(task_ids, user, SURFACE_COMMAND)
    name = _name(services, task_ids)
    if result.holder:
        return Outcome(
            replies.build_already_claimed(
                result.holder, result.holder_since, services.settings.timezone, name
            )
        )
    if result.already_mine:
        return Outcome(replies.build_info("You already have it. Reach out, then log it."))
    return Outcome(replies.build_claimed(task_ids, name), changed=result.claimed)


def _release(services: Services, user: str, args: list[str], _: str) -> Outcome:
    task_ids = task_entry_ids(services, _ids(args, "/care release TASK-ID")[0], claimed_by=user)
    tasks = services.care.release(task_ids, user, SURFACE_COMMAND)
    return Outcome(replies.build_released(task_ids, _name(services, task_ids)), changed=tasks)


def _assign(services: Services, user: str, args: list[str], _: str) -> Outcome:
    match = MENTION.match(args[1]) if len(args) >= 2 else None
    if match is None:
        raise CareError("Usage: `/care assign TASK-ID @person`")
    task_ids = task_entry_ids(services, args[0])
    tasks = services.care.assign(task_ids, match[1], user, SURFACE_COMMAND)
    return Outcome(
        replies.build_assigned(task_ids, match[1], _name(services, task_ids)), changed=tasks
    )


def _snooze(services: Services, user: str, args: list[str], _: str) -> Outcome:
    if len(args) < 2 or not args[1].rstrip("d").isdigit():
        raise CareError("Usage: `/care snooze TASK-ID DAYS` (1 to 30)")
    task_ids = task_entry_ids(services, args[0])
    tasks = services.care.snooze(task_ids, int(args[1].rstrip("d")), user, SURFACE_COMMAND)
    until = tasks[0].snoozed_until
    assert until is not None
    return Outcome(
        replies.build_snoozed(task_ids, until, services.care.today(), _name(services, task_ids)),
        changed=tasks,
    )


def _done(services: Services, user: str, args: list[str], _: str) -> Outcome:
    task_ids = task_entry_ids(services, _ids(args, "/care done TASK-ID")[0])
    tasks = services.care.done(task_ids, user, SURFACE_COMMAND)
    return Outcome(replies.build_done(task_ids, _name(services, task_ids)), changed=tasks)


def _log(services: Services, user: str, args: list[str], rest: str) -> Outcome:
    usage = "/care log TASK-ID|EMAIL CHANNEL OUTCOME [note]"
    if len(args) < 3:
        raise CareError(
            f"Usage: `{usage}`; channel: email, call, sms, slack, other; outcome: "
            "reached, left_message, no_answer, saved, lost"
        )
    target, channel, outcome_word = args[0], args[1], args[2]
    note_start = 3
    if outcome_word.lower() in ("left", "no") and len(args) > 3:  # "left message", "no answer"
        outcome_word, note_start = f"{outcome_word}_{args[3]}", 4
    normalize_choice(channel, OUTREACH_CHANNELS, "channel")
    outcome = normalize_choice(outcome_word, OUTREACH_OUTCOMES, "outcome")
    if outcome == "follow_up":
        raise CareError("A follow-up needs a date: use the Log outreach button in the digest.")
    note = (
        rest.split(None, note_start)[note_start]
        if len(rest.split(None, note_start)) > note_start
        else ""
    )
    task = services.repos.tasks.get(target)
    resolved: str | list[str] = task_entry_ids(services, task.id) if task else target
    result = services.care.log_outreach(
        resolved, user, channel, outcome, note, surface=SURFACE_COMMAND
    )
    ids = [t.id for t in result.closed]
    post = lambda: post_outreach_reply(services, result.closed, result.outreach)  # noqa: E731
    return Outcome(
        replies.build_logged(ids, result.outreach.channel, outcome),
        changed=result.closed,
        after=post,
    )


def post_outreach_reply(services: Services, closed: list[Task], outreach: Any) -> None:
    """The short log line in the digest thread the task was posted in, for the team to see."""
    for task in closed:
        link = task.slack or {}
        if link.get("channel") and (link.get("thread_ts") or link.get("ts")):
            message = cards.build_outreach_reply(outreach)
            services.client.chat_postMessage(
                channel=link["channel"], thread_ts=link.get("thread_ts") or link["ts"], **message
            )
            return


def _mine(services: Services, user: str, args: list[str], _: str) -> Outcome:
    today, grace = services.care.today(), services.settings.lifecycle.grace_days
    tz = services.settings.timezone
    ranked = queue.rank(services.repos, services.ledger.claimed_by(user), today, grace, tz)
    tasks = [t for entry in ranked for t in entry.tasks]  # bot.priority order
    subs = {
        t.subscriber_id: s for t in tasks if (s := services.repos.subscribers.get(t.subscriber_id))
    }
    return Outcome(cards.build_mine(user, tasks, subs, services.care.today()))


def _queue(services: Services, user: str, args: list[str], rest: str) -> Outcome:
    today = services.care.today()
    kind = rest.strip()[:40]
    ranked = queue.of_kind(services.worklist.queued(today), kind)
    shown = queue.with_subscribers(services.repos, ranked[:MAX_QUEUE_ROWS])
    tasks = sum(len(e.tasks) for e in ranked)
    return Outcome(build_queue(shown, len(ranked), tasks, today, kind))


def _lookup(services: Services, user: str, args: list[str], rest: str) -> Outcome:
    if not rest:
        raise CareError("Usage: `/care lookup EMAIL|NAME`")
    matches = services.repos.subscribers.search(rest)
    if not matches:
        return Outcome(replies.build_not_found(rest, "subscriber"))
    if len(matches) > 1:
        return Outcome(cards.build_lookup_choices(matches, rest))
    sub = matches[0]
    today = services.care.today()
    events = services.repos.events.for_subscriber(sub.id)
    risk = score(sub, events, today, services.settings.risk, tz=services.settings.timezone)
    tasks = [t for t in services.repos.tasks.for_subscriber(sub.id) if t.active]
    card = cards.build_subscriber_card(
        sub,
        today,
        services.settings.timezone,
        stage=lifecycle_stage(sub, today),
        risk=risk,
        open_tasks=tasks,
        outreach=services.repos.outreach.latest(sub.id),
    )
    history = build_history_blocks(services.repos.audit.history(sub.id), services.settings.timezone)
    card["blocks"][-1:-1] = history  # before the card's footer
    return Outcome(card)


def _history(services: Services, user: str, args: list[str], _: str) -> Outcome:
    task_id = _ids(args, "/care history TASK-ID")[0]
    task = services.repos.tasks.get(task_id)
    if task is None:
        return Outcome(replies.build_not_found(task_id))
    entries = services.repos.audit.for_task(task.id, task.subscriber_id)
    return Outcome(
        build_task_history(
            task,
            _name(services, [task.id]),
            entries,
            services.care.today(),
            services.settings.timezone,
        )
    )


def _stats(services: Services, user: str, args: list[str], _: str) -> Outcome:
    period = (args[0] if args else "7d").lower().rstrip("d")
    if period not in ("7", "30"):
        raise CareError("Usage: `/care stats [7d|30d]`")
    stats = team_stats(services.repos, services.clock.now(), int(period))
    return Outcome(cards.build_stats(stats_view(services, stats, with_digest=True)))


def _digest(services: Services, user: str, args: list[str], _: str) -> Outcome:
    if not args or args[0].lower() != "now":
        raise CareError("Usage: `/care digest now`")
    services.care.permissions.require(user)
    day = services.publisher.today()
    record = services.repos.digests.get(day)
    if record is not None and record.status == POSTED:
        link = _permalink(services, record.channel, record.parent_ts)
        return Outcome(replies.build_digest_posted(day, record.channel, link))

    def post() -> None:
        try:
            services.publisher.publish(day)
        except Exception:
            log.exception("Posting the digest for %s failed; it resumes on the next run", day)

    return Outcome(
        replies.build_digest_posting(services.publisher.channel, resuming=record is not None),
        after=post,
    )


def _permalink(services: Services, channel: str, ts: str) -> str | None:
    try:
        return str(services.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except Exception:
        log.warning("chat.getPermalink failed for %s %s", channel, ts, exc_info=True)
        return None


def _triage(services: Services, user: str, args: list[str], _: str) -> Outcome:
    if services.triage is None:
        return Outcome(
            replies.build_info("The shared inbox is not connected. See docs/inbox.md to set it up.")
        )
    return Outcome(list_open(services.triage))


def _report(services: Services, user: str, args: list[str], _: str) -> Outcome:
    from handlers.report import report_reply

    return Outcome(report_reply(services, args))


def _inbox(services: Services, user: str, args: list[str], _: str) -> Outcome:
    if services.triage is None:
        return Outcome(
            replies.build_info("The shared inbox is not connected. See docs/inbox.md to set it up.")
        )
    if len(args) != 2 or args[0].lower() not in ("retry", "drop"):
        raise CareError(
            "Usage: `/care inbox retry ID` or `/care inbox drop ID` (ids: `/care triage`)"
        )
    answer, after = parked_command(services.triage, user, args[0].lower(), args[1])
    return Outcome(answer, after=after)


def _name(services: Services, task_ids: list[str]) -> str:
    task = services.repos.tasks.get(task_ids[0]) if task_ids else None
    sub = services.repos.subscribers.get(task.subscriber_id) if task else None
    return sub.display_name if sub else ""


SUBCOMMANDS: dict[str, Callable[[Services, str, list[str], str], Outcome]] = {
    "claim": _claim,
    "release": _release,
    "assign": _assign,
    "snooze": _snooze,
    "done": _done,
    "log": _log,
    "mine": _mine,
    "queue": _queue,
    "lookup": _lookup,
    "history": _history,
    "stats": _stats,
    "report": _report,
    "digest": _digest,
    "triage": _triage,
    "inbox": _inbox,
}
