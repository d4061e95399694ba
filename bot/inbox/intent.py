"""Detect what a customer email is about from the keyword rules in `care.toml`.

Rules are `[[triage.intents]]` tables (name + keywords), tried in file order: the first intent
with a keyword in the subject or the new text wins, else "other". Keywords match
case-insensitively on word boundaries, so "cancel" matches "Please cancel" but not
"cancellation" (which has its own keyword) or "uncancelable". Negations ("I do not want to
cancel") are not understood: a person reads every item anyway.
"""

from __future__ import annotations

import re
from functools import lru_cache

from config.settings import Intent

OTHER = "other"
# The new text is at the top: the keywords are looked for in its first INTENT_SCAN characters,
# so a huge email costs what a long one does.
INTENT_SCAN = 20_000
# Curly quotes and odd spaces that mail clients put in place of the ones typed in care.toml.
_TRANSLATE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u2011": "-"})


def detect_intent(subject: str, text: str, intents: tuple[Intent, ...]) -> str:
    """The first configured intent whose keywords appear in `subject` or `text`.

    Args:
        subject: the email's decoded subject.
        text: the new text (quotes stripped), so an old quoted "cancel" does not count.
        intents: `settings.triage.intents`, in priority order.

    Returns:
        The intent's name, or "other".
    """
    haystack = f"{subject[:1000]}\n{text[:INTENT_SCAN]}".translate(_TRANSLATE)
    for name, pattern in _compiled(intents):
        if pattern.search(haystack):
            return name
    return OTHER


@lru_cache(maxsize=8)
def _compiled(intents: tuple[Intent, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    rules = []
    for intent in intents:
        words = [k.translate(_TRANSLATE).strip() for k in intent.keywords if k.strip()]
        if not words:
            continue
        alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
        rules.append((intent.name, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)))
    return tuple(rules)
