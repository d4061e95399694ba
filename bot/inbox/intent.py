"""Read what a customer email asks for, clause by clause, with the words that decided it.

Rules are the `[[triage.intents]]` tables of care.toml (name + keywords), in priority order.
The subject and the new text are cut into clauses (at sentence punctuation, line ends and
"but", "and", "so", ...), and each keyword found is judged by the few words before it in its
own clause:

- a negation ("do not want to cancel", "no need to cancel", "not cancelling", "never asked to")
  or a hedge ("was going to cancel but", "thinking about", "if you would like to cancel")
  sets the mention aside: it is shown, never counted;
- otherwise the intent counts, and an email may carry several ("skip December" and
  "don't cancel": pause/skip counts, cancel is set aside).

Each intent keeps its trigger (the words around the keyword) so the card can say why, and a
confidence: 0.5 for a bare mention, more when the clause asks for it ("please", "I want to",
"can you"), starts with it ("Cancel my subscription") or names what to cancel ("... my
subscription", "... now"). Rule-based and explainable: no model, no network.

Every scan is bounded and linear: the text is split on whitespace (no regular expression that
can backtrack), at most `MAX_TOKENS` words are read, and keywords are looked up by first word.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from config.rules import Intent

OTHER = "other"
# The new text is at the top: only its first INTENT_SCAN characters (and MAX_TOKENS words) are
# read, so a huge email costs what a long one does.
INTENT_SCAN = 20_000
SUBJECT_SCAN = 1_000
MAX_TOKENS = 5_000
MAX_MENTIONS = 20  # mentions of one intent judged per email; later ones add nothing
LOOKBACK = 5  # words before a keyword that can negate, hedge or ask for it
TRIGGER_BEFORE, TRIGGER_AFTER = 4, 3  # words kept around the keyword as its trigger
TRIGGER_CHARS = 100
BASE, ASKED, LEADS, NAMED, EXPLICIT, CEILING = 0.5, 0.3, 0.3, 0.15, 0.3, 0.95

# Curly quotes and odd spaces that mail clients put in place of the ones typed in care.toml.
_TRANSLATE = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u2011": "-", "/": " ", "\u201c": '"'}
)
_LEAD = "\"'([{<*_~`"
_TRAIL = ".,!?;:\"')]}>*_~`"
_CLAUSE_END = frozenset(".!?;:,")
# Words that start a new clause: a negation before them does not reach past them.
_JOINS = frozenset(
    {"but", "however", "although", "though", "and", "so", "because", "then", "yet", "while"}
)
_NEGATIONS = frozenset(
    {
        "not", "no", "never", "nor", "without", "don't", "dont", "doesn't", "doesnt", "didn't",
        "didnt", "won't", "wont", "isn't", "isnt", "wasn't", "wasnt", "aren't", "arent",
        "weren't", "shouldn't", "wouldn't", "needn't", "instead", "nothing", "neither", "than",
    }
)  # fmt: skip
# "no longer want it", "don't forget to cancel": these do not negate what follows.
_NOT_NEGATING = frozenset({("no", "longer"), ("don't", "forget"), ("dont", "forget")})
_NEGATING_PAIRS = frozenset({("rather", "than")})  # "pause rather than cancel"
_HEDGES = frozenset(
    {
        "thinking", "thought", "considering", "considered", "wondering", "wondered",
        "almost", "nearly", "maybe", "perhaps", "might", "if", "whether", "unless", "case",
        "tempted", "debating", "planned",
    }
)  # fmt: skip
_PAST_PLANS = frozenset({"was", "were", "had"})  # "was going to", "were about to"
_PLANNING = frozenset({"going", "planning", "about", "gonna"})
_ASKING = frozenset(
    {
        "please", "pls", "plz", "kindly", "want", "wanna", "wish", "like", "need", "must",
        "going", "decided", "ready", "request", "requesting", "asking", "you", "i'd", "i'm",
        "forget",
    }
)  # fmt: skip
_NAMED = frozenset(
    {
        "my", "our", "the", "this", "it", "everything", "all", "subscription", "account",
        "membership", "plan", "order", "orders", "box", "now", "immediately", "asap", "please",
        "request", "today", "effective", "renewal",
    }
)  # fmt: skip


@dataclass(frozen=True)
class IntentHit:
    """One intent found in an email.

    Attributes:
        name: the intent's name from care.toml.
        trigger: the words that triggered it, as written (raw outside text: escape to show).
        confidence: 0.5 to 0.95; how plainly the clause asks for it (see the module doc).
        why: for a mention set aside, "negated" or "hedged"; "" for one that counts.
    """

    name: str
    trigger: str
    confidence: float = BASE
    why: str = ""


@dataclass(frozen=True)
class Reading:
    """What an email asks for: the intents that count, and the mentions set aside."""

    intents: tuple[IntentHit, ...] = ()  # at most one per intent, in priority order
    set_aside: tuple[IntentHit, ...] = ()  # negated or hedged mentions, one per intent (an
    # intent may be both: "don't cancel my plan, cancel the gift box")

    @property
    def primary(self) -> str:
        """The highest-priority intent that counts, or "other"."""
        return self.intents[0].name if self.intents else OTHER

    def hit(self, name: str) -> IntentHit | None:
        """The counted hit for intent `name`, or None."""
        return next((h for h in self.intents if h.name == name), None)


def read_intents(subject: str, text: str, intents: tuple[Intent, ...]) -> Reading:
    """Every configured intent the email asks for, and the mentions it negates or hedges.

    Args:
        subject: the email's decoded subject.
        text: the new text (quotes stripped), so an old quoted "cancel" does not count.
        intents: `settings.triage.intents`, in priority order.

    Returns:
        The intents that count (in priority order, the best hit of each) and those set aside.
    """
    table = _compiled(intents)
    if not table:
        return Reading()
    counted: dict[str, IntentHit] = {}
    aside: dict[str, IntentHit] = {}
    mentions: dict[str, int] = {}
    for clause in _clauses(subject[:SUBJECT_SCAN], text[:INTENT_SCAN]):
        for hit in _hits(clause, table, mentions):
            best = counted if not hit.why else aside
            if hit.name not in best or hit.confidence > best[hit.name].confidence:
                best[hit.name] = hit
    order = {intent.name: i for i, intent in enumerate(intents)}
    ranked = sorted(counted.values(), key=lambda h: order[h.name])
    left = sorted(aside.values(), key=lambda h: order[h.name])
    return Reading(tuple(ranked), tuple(left))


def detect_intent(subject: str, text: str, intents: tuple[Intent, ...]) -> str:
    """The highest-priority intent the email asks for (see `read_intents`), or "other"."""
    return read_intents(subject, text, intents).primary


# ----- the scan ---------------------------------------------------------------------------

_Table = dict[str, tuple[tuple[str, tuple[str, ...]], ...]]  # first word -> (name, words)


@lru_cache(maxsize=8)
def _compiled(intents: tuple[Intent, ...]) -> _Table:
    table: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for intent in intents:
        for keyword in intent.keywords:
            words = tuple(_word(w) for w in keyword.translate(_TRANSLATE).lower().split())
            words = tuple(w for w in words if w)
            if words:
                table.setdefault(words[0], []).append((intent.name, words))
    # Longer keywords first: "has not arrived" before "not arrived"... at the same word.
    return {k: tuple(sorted(v, key=lambda e: -len(e[1]))) for k, v in table.items()}


def _word(token: str) -> str:
    return token.strip(_LEAD).rstrip(_TRAIL).lower()


def _clauses(subject: str, text: str) -> Iterator[list[tuple[str, str]]]:
    """Clauses as lists of (word, as written); at most MAX_TOKENS words in all."""
    budget = MAX_TOKENS
    for line in f"{subject}\n{text}".translate(_TRANSLATE).splitlines():
        clause: list[tuple[str, str]] = []
        for token in line.split():
            if budget <= 0:
                break
            budget -= 1
            word = _word(token)
            if word in _JOINS:
                if clause:
                    yield clause
                clause = []
                continue
            if word:
                clause.append((word, token))
            tail = token[len(token.rstrip(_TRAIL)) :]
            if any(c in _CLAUSE_END for c in tail):
                if clause:
                    yield clause
                clause = []
        if clause:
            yield clause
        if budget <= 0:
            return


def _hits(
    clause: list[tuple[str, str]], table: _Table, mentions: dict[str, int]
) -> Iterator[IntentHit]:
    words = [w for w, _ in clause]
    i = 0
    while i < len(words):
        found = None
        for name, keyword in table.get(words[i], ()):
            if tuple(words[i : i + len(keyword)]) == keyword:
                found = name, keyword
                break
        if found is None:
            i += 1
            continue
        name, keyword = found
        mentions[name] = mentions.get(name, 0) + 1
        if mentions[name] <= MAX_MENTIONS:
            yield _judge(name, clause, words, i, len(keyword))
        i += len(keyword)


def _judge(
    name: str, clause: list[tuple[str, str]], words: list[str], start: int, length: int
) -> IntentHit:
    """One keyword at `words[start:start + length]`, judged by the words around it (a fixed
    number of them: a clause of many keywords costs linear time)."""
    before = words[max(0, start - LOOKBACK) : start]
    after = words[start + length : start + length + 3]
    lo, hi = max(0, start - TRIGGER_BEFORE), start + length + TRIGGER_AFTER
    trigger = " ".join(raw[:TRIGGER_CHARS] for _, raw in clause[lo:hi])
    trigger = trigger[:TRIGGER_CHARS].rstrip(",;:")
    why = _set_aside(before)
    if why:
        return IntentHit(name, trigger, BASE, why)
    confidence = BASE
    if any(w in _ASKING for w in before[-3:]):
        confidence += ASKED
    if start == 0:
        confidence += LEADS
    if any(w in _NAMED for w in after):
        confidence += NAMED
    if length > 1:
        confidence += EXPLICIT
    return IntentHit(name, trigger, round(min(confidence, CEILING), 2))


def _set_aside(before: list[str]) -> str:
    """ "negated" or "hedged" when the words before a keyword say it is not asked for."""
    for j, word in enumerate(before):
        following = before[j + 1] if j + 1 < len(before) else ""
        if word in _NEGATIONS and (word, following) not in _NOT_NEGATING:
            return "negated"
        if (word, following) in _NEGATING_PAIRS:
            return "negated"
        if word.endswith("n't") and word not in ("can't", "couldn't") and following != "forget":
            return "negated"
    for j, word in enumerate(before):
        if word in _HEDGES:
            return "hedged"
        if word in _PAST_PLANS and j + 1 < len(before) and before[j + 1] in _PLANNING:
            return "hedged"
    return ""
