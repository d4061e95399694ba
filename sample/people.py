"""Building blocks for sample data: names (accents and a hostile one included), dates, ids.

Everything takes a `random.Random`, so the same seed gives the same files.
"""

from __future__ import annotations

import calendar
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

FIRST = (
    "Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Inés", "Jonas",
    "Kwame", "Léa", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Søren", "Tomás",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Anaïs", "Björn", "Łukasz", "Maëlle",
    "Noah", "Olivia", "Sam", "Lena", "Marco", "Aisha", "Ethan", "Mia", "Leo", "Sofia",
)  # fmt: skip
LAST = (
    "Álvarez", "Becker", "Chen", "Dubois", "Eriksen", "Fernández", "García", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lefèvre", "Müller", "Nuñez", "O'Brien", "Petrov", "Quint", "Rossi",
    "Schäfer", "Tanaka", "Urbaniak", "Varga", "Wójcik", "Yılmaz", "Zimmermann", "Smith",
    "Johnson", "Brown", "Okafor", "Novak", "Costa", "Larsen", "Moreau", "Silva", "Kim",
)  # fmt: skip
# Names that must reach Slack escaped: a broadcast mention and a disguised link.
HOSTILE = ("<!channel> Bob", "Eve <https://evil.example|click here>")
OWNERS = ("Dana Whitfield", "Priya Raman", "Marcus Lee", "Sofia Lindqvist")


# Letters NFKD does not split into a base letter and an accent.
_NO_DECOMPOSITION = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ı": "i", "ß": "ss"})


@dataclass
class Person:
    name: str
    email: str
    first: str
    last: str


def ascii_slug(text: str) -> str:
    """`Zoë O'Brien` -> `zoe.obrien`, for sample email addresses."""
    plain = (
        unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
        .encode("ascii", "ignore")
        .decode()
    )
    words = ["".join(c for c in w.lower() if c.isalnum()) for w in plain.split()]
    return ".".join(w for w in words if w) or "customer"


class People:
    """Hands out people with distinct emails; the first ones drawn are the hostile names."""

    def __init__(self, rng: random.Random, domain: str = "example.com") -> None:
        self._rng = rng
        self._domain = domain
        self._used: set[str] = set()
        self._hostile = list(HOSTILE)

    def next(self) -> Person:
        if self._hostile:
            name = self._hostile.pop(0)
            first, last = name, ""
            base = ascii_slug(name.replace("<!channel>", "").split("<")[0])
        else:
            first, last = self._rng.choice(FIRST), self._rng.choice(LAST)
            name = f"{first} {last}"
            base = ascii_slug(name)
        email, n = f"{base}@{self._domain}", 1
        while email in self._used:
            n += 1
            email = f"{base}{n}@{self._domain}"
        self._used.add(email)
        return Person(name=name, email=email, first=first, last=last)


def token(rng: random.Random, length: int = 14) -> str:
    """A Stripe-like random id body."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, the day clamped to the month's length."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def years_ago(today: date, years: int, days_before: int = 0) -> date:
    """The date `years` calendar years before `today`, minus `days_before` days."""
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # Feb 29
        anniversary = date(today.year - years, 2, 28)
    return anniversary - timedelta(days=days_before)


def next_charge(start: date, months: int, today: date) -> date:
    """The first billing date after `today` for a plan billed every `months` months."""
    k = 1
    while add_months(start, k * months) <= today:
        k += 1
    return add_months(start, k * months)


def at(day: date, rng: random.Random) -> datetime:
    """A time during `day`'s working hours (UTC)."""
    return datetime.combine(day, time(rng.randint(7, 19), rng.choice((0, 15, 30, 45))))
