"""One customer, one conversation: the last contact, the quiet days, and deferred touches."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace

from bot.blocks.digest import build_digest_parent
from bot.blocks.entry import build_entry_blocks
from bot.digest import plan_digest
from bot.outreach.contact import days_ago, deferrable, last_contact, reached_within
from tests.bot.blocks.factories import NOW, TZ, entry, task
from tests.bot.builders import TODAY, at_noon, event, member, outreach_on

NY = ZoneInfo("America/New_York")


def test_the_last_contact_is_the_latest_touch_that_is_not_an_unanswered_call() -> None:
    old = outreach_on("cus_a", ["t1"], TODAY - timedelta(days=9))
    email = replace(outreach_on("cus_a", ["t2"], TODAY - timedelta(days=3)), channel="email")
    unanswered = outreach_on("cus_a", ["t3"], TODAY - timedelta(days=1), outcome="no_answer")

    assert last_contact([old, unanswered, email]) == email
    assert last_contact([unanswered]) is None


@pytest.mark.parametrize(
    ("ago", "quiet", "within"), [(0, 7, True), (6, 7, True), (7, 7, False), (1, 0, False)]
)
def test_reached_within_counts_local_days(ago: int, quiet: int, within: bool) -> None:
    contact = outreach_on("cus_a", ["t"], TODAY - timedelta(days=ago))
    assert reached_within(contact, TODAY, quiet, NY) is within


def test_only_entries_without_churn_risk_may_wait() -> None:
    assert deferrable(["checkin_30", "anniversary"])
    assert not deferrable(["checkin_30", "churn_risk"])
    assert not deferrable([])


def test_days_ago_reads_naturally() -> None:
    assert [days_ago(at_noon(TODAY - timedelta(days=n)), TODAY, NY) for n in (0, 1, 3)] == [
        "today",
        "yesterday",
        "3 days ago",
    ]


def test_an_entry_says_who_reached_the_customer_how_and_when() -> None:
    e = entry(task("k7qx2", "checkin_30"))
    e.contact = replace(
        outreach_on("cus_1", ["x"], TODAY - timedelta(days=3)), by="U0DANA", channel="email"
    )

    texts = [b for b in build_entry_blocks(e, TODAY, TZ, NOW) if b["type"] == "context"]

    assert (
        ":speech_balloon: Reached by <@U0DANA> by email 3 days ago"
        in texts[-1]["elements"][0]["text"]
    )


def test_the_parent_says_how_many_were_deferred_even_when_nothing_else_is_due() -> None:
    busy = build_digest_parent(TODAY, {"checkin_30": 2, "deferred": 3}, {"open": 2})
    quiet = build_digest_parent(TODAY, {"deferred": 1}, {})

    assert "*2 proactive touches due today*" in str(busy)  # deferred ones are not counted as due
    assert "Deferred: *3* customers reached in the last few days" in str(busy)
    assert "Nothing due today" in str(quiet) and "Deferred: *1* customer reached" in str(quiet)


def test_a_lifecycle_touch_waits_while_the_customer_was_reached_in_the_quiet_days(
    repos, settings
) -> None:
    repos.subscribers.put_many(
        [member("cus_a", tenure=30), member("cus_b", tenure=30), member("cus_c", tenure=90)]
    )
    repos.outreach.add(outreach_on("cus_a", [], TODAY - timedelta(days=2)))
    repos.outreach.add(outreach_on("cus_c", [], TODAY - timedelta(days=2)))
    repos.events.add(event("cus_c", "cancel_request", TODAY - timedelta(days=1)))

    plan = plan_digest(TODAY, repos, settings, at_noon(TODAY))
    later = plan_digest(TODAY + timedelta(days=5), repos, settings, at_noon(TODAY))

    assert sorted(e.subscriber.id for e in plan.entries) == ["cus_b", "cus_c"]  # churn risk: never
    assert plan.deferred == 1
    assert "cus_a" in {e.subscriber.id for e in later.entries} and later.deferred == 0
