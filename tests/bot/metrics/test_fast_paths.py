"""The report's and the backtest's fast paths give exactly what the plain definitions give.

- `LocalDays.parse` (the local day converted once per hour) against `astimezone` per instant,
  in zones with half-hour offsets and changes at midnight;
- `Book.signals_between` (bisection) against filtering every signal, including a list whose
  local days go back over a midnight clock change;
- `weekly` (one pass, bisection) against `churn` and `movement` computed week by week;
- the backtest's grouped scoring against `risk.score` on the events as models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.metrics.care import Period, churn, movement
from bot.metrics.history import Book, LocalDays, Signal, Spell, Timeline
from bot.metrics.report import weekly
from bot.models import Event, Subscriber, Subscription
from bot.risk import group_signals, score, score_grouped
from config import load_settings

ZONES = [
    "UTC",
    "America/New_York",
    "Asia/Kolkata",  # +05:30: a local midnight inside a UTC hour
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # half-hour DST
    "America/Santiago",  # DST changes at local midnight
    "America/Havana",
]
moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
SETTINGS = load_settings({}, dotenv=False)


@given(at=moments, zone=st.sampled_from(ZONES), form=st.sampled_from(["Z", "iso", "naive"]))
@settings(max_examples=200)
def test_local_day_of_a_stored_timestamp_is_the_day_astimezone_gives(at, zone, form) -> None:
    tz = ZoneInfo(zone)
    local = LocalDays(tz)
    text = {
        "Z": at.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{at.microsecond:06d}Z" if at.microsecond else "Z"),
        "iso": at.astimezone(ZoneInfo("Europe/Paris")).isoformat(),
        "naive": at.replace(tzinfo=None).isoformat(),
    }[form]
    expected = datetime.fromisoformat(text)
    expected = expected if expected.tzinfo else expected.replace(tzinfo=tz)
    # an earlier instant of the same hour fills the cache first
    local.parse(text[:14] + "00:00Z" if form == "Z" else text)
    assert local.parse(text) == (expected, expected.astimezone(tz).date())


def test_every_instant_of_an_hour_split_by_local_midnight_gets_its_own_day() -> None:
    local = LocalDays(ZoneInfo("Asia/Kolkata"))  # local midnight is 18:30 UTC
    assert local.parse("2026-06-14T18:10:00Z")[1] == date(2026, 6, 14)
    assert local.parse("2026-06-14T18:40:00Z")[1] == date(2026, 6, 15)


signal_days = st.lists(st.integers(0, 60), min_size=0, max_size=40)


@given(offsets=signal_days, first=st.integers(-5, 65), length=st.integers(0, 30))
def test_signals_between_is_a_filter_of_the_signals_by_day(offsets, first, length) -> None:
    start = date(2026, 1, 1)
    items = [
        Signal(
            "cus", "nps", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n), start + timedelta(n)
        )
        for n in sorted(offsets)
    ]
    book = Book(UTC, signals={"nps": items})
    lo, hi = start + timedelta(first), start + timedelta(first + length)
    assert book.signals_between("nps", lo, hi) == [s for s in items if lo <= s.day <= hi]
    assert book.signals_between("csat", lo, hi) == []


def test_signals_whose_days_go_back_are_filtered_one_by_one() -> None:
    """A clock set back over midnight: later instants on an earlier local day."""
    at = datetime(2026, 4, 5, 3, 30, tzinfo=UTC)
    days = [date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 4), date(2026, 4, 5)]
    items = [Signal("cus", "nps", at + timedelta(minutes=i), d) for i, d in enumerate(days)]
    book = Book(UTC, signals={"nps": items})
    assert book.signals_between("nps", date(2026, 4, 4), date(2026, 4, 4)) == [items[0], items[2]]
    assert book.signals_between("nps", date(2026, 4, 5), date(2026, 4, 9)) == [items[1], items[3]]


@st.composite
def timelines(draw) -> dict[str, Timeline]:
    """Customers with one to three spells around a span of weeks (some still running)."""
    out = {}
    for n in range(draw(st.integers(0, 12))):
        day, spells = date(2025, 10, 1) + timedelta(draw(st.integers(0, 120))), []
        for _ in range(draw(st.integers(1, 3))):
            length = draw(st.none() | st.integers(1, 90))
            spells.append(Spell(day, None if length is None else day + timedelta(length)))
            if length is None:
                break
            day += timedelta(length + draw(st.integers(1, 40)))
        out[f"c{n}"] = Timeline(f"c{n}", spells)
    return out


@given(book_timelines=timelines(), last=st.integers(30, 200), days=st.integers(1, 120))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_weekly_lines_match_the_churn_and_cancellations_of_each_week(
    book_timelines, last, days
) -> None:
    book = Book(UTC, timelines=book_timelines)
    span = Period.ending(date(2025, 10, 1) + timedelta(last), days)
    lines = weekly(book, [], span, SETTINGS)
    assert [w.period for w in lines] == span.weeks()
    for line in lines:
        assert line.churn_rate == churn(book, line.period)["churn_rate"]
        assert line.cancellations == movement(book, line.period)["cancellations"].value


kinds = st.sampled_from(
    ["cancel_request", "nps", "payment_failed", "payment_recovered", "skip", "order", "pause",
     "resume", "support_contact", "downgrade"]
)  # fmt: skip


@given(
    found=st.lists(st.tuples(kinds, moments, st.none() | st.integers(0, 10)), max_size=12),
    day=st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
    zone=st.sampled_from(ZONES),
    scheduled=st.booleans(),
)
@settings(max_examples=120)
def test_grouped_scoring_gives_the_score_of_the_events(found, day, zone, scheduled) -> None:
    tz = ZoneInfo(zone)
    events = [Event(f"e{i}", "cus", kind, at, value) for i, (kind, at, value) in enumerate(found)]
    sub = Subscriber(
        id="cus",
        subscriptions=[
            Subscription(id="s", started=date(2014, 1, 1), cancel_at_period_end=scheduled)
        ],
    )
    rules = SETTINGS.risk
    grouped = group_signals(
        (e.type, e.at, e.at.astimezone(tz).date(), e.value) for e in events
    )  # once, for every day; then cut to the day as the backtest does
    by_type = {k: [s for s in v if s[0] <= day] for k, v in grouped.items()}
    assert score_grouped(sub, by_type, day, rules) == score(sub, events, day, rules, tz=tz)
