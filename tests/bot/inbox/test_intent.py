"""The intent reader: keywords from care.toml read clause by clause, with negations, hedges,
several intents per email, the words that triggered each, the shared corpus and any text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbox.intent import MAX_MENTIONS, detect_intent, read_intents
from bot.inbox.parse import parse_email
from config.rules import Intent
from tests.conftest import SHARED


@pytest.fixture
def intents(settings):
    return settings.triage.intents


@pytest.mark.parametrize(
    ("subject", "text", "intent"),
    [
        ("Please cancel", "", "cancel"),
        ("Question", "I want to CANCEL my plan.", "cancel"),
        ("Cancellation request", "", "cancel"),
        ("Re: your box", "Can I skip June?", "pause_skip"),
        ("Charged twice?", "", "billing"),
        ("", "I need a refund for last month", "billing"),
        ("", "Where   is my\nORDER? It has not arrived", "delivery"),
        ("", "The jar was broken when it came", "damaged_wrong"),
        ("", "We moved: please update my address", "address_change"),
        ("Hello", "Do you have a decaf roast?", "other"),
    ],
)
def test_default_rules(intents, subject, text, intent):
    assert detect_intent(subject, text, intents) == intent


def test_cancel_does_not_match_inside_other_words(intents):
    assert (
        detect_intent("Order", "Why was my order cancelled? It's uncancelable!", intents) == "other"
    )


def test_first_intent_in_config_order_wins(intents):
    text = "I was charged twice, so please refund me and cancel everything."

    assert detect_intent("", text, intents) == "cancel"


def test_curly_apostrophes_match_straight_keywords(intents):
    assert detect_intent("", "My box hasn\u2019t arrived yet", intents) == "delivery"


def test_custom_rules_are_used_in_their_own_order():
    rules = (
        Intent("vip", ("urgent",)),
        Intent("cancel", ("cancel",)),
    )

    assert detect_intent("URGENT: cancel", "", rules) == "vip"
    assert detect_intent("cancel.", "", rules) == "cancel"
    assert detect_intent("", "", ()) == "other"


def test_keywords_with_regex_characters_are_literal():
    rules = (Intent("price", ("$9.99", "c++")),)

    assert detect_intent("", "Is it still $9.99?", rules) == "price"
    assert detect_intent("", "Is it still $9x99?", rules) == "other"


# ----- negations, hedges, several intents, triggers (issue 12 item 4) ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I do not want to cancel",
        "I don't want to cancel my subscription, I love it",
        "I don\u2019t really want to cancel",
        "Not cancelling, just asking about the next box",
        "No need to cancel, the box turned up today",
        "Please do NOT cancel my order",
        "I never asked to cancel anything",
        "I'd rather pause than cancel",
        "Can I pause instead of cancelling?",
        "I was going to cancel but the new menu looks great",
        "We were about to cancel, then your email came",
        "I'm thinking about cancelling",
        "I considered cancelling last month",
        "If you would like to cancel or change the configuration, use the tool",
        "Just wondering whether I should cancel",
    ],
)
def test_negated_and_hedged_cancels_are_not_cancel_requests(intents, text):
    reading = read_intents("Hello", text, intents)

    assert reading.hit("cancel") is None
    [aside] = [h for h in reading.set_aside if h.name == "cancel"]
    assert aside.why in ("negated", "hedged") and "cancel" in aside.trigger.lower()


@pytest.mark.parametrize(
    ("subject", "text", "trigger"),
    [
        ("Please cancel my subscription", "", "Please cancel my subscription"),
        ("Hi", "I want to cancel, thanks.", "I want to cancel"),
        ("Hi", "Could you please cancel my order?", "Could you please cancel my order?"),
        ("Re: Cancel", "", "Cancel"),
        ("Hi", "No longer need the box. Cancel it now.", "Cancel it now."),
        ("Hi", "Don't charge me again, cancel my subscription", "cancel my subscription"),
        ("Hi", "I'm cancelling my membership today.", "I'm cancelling my membership today."),
        ("Hi", "Don't forget to cancel my plan please", "Don't forget to cancel my plan please"),
    ],
)
def test_plain_cancel_requests_count_with_their_words(intents, subject, text, trigger):
    hit = read_intents(subject, text, intents).hit("cancel")

    assert hit is not None and hit.trigger == trigger and hit.confidence >= 0.8


def test_a_bare_question_about_cancelling_is_a_weaker_request(intents):
    hit = read_intents("Question", "How do I cancel?", intents).hit("cancel")

    assert hit is not None and hit.confidence == 0.5


@pytest.mark.parametrize(
    ("subject", "text", "counted", "aside"),
    [
        ("Skip December", "Please don't cancel.", ["pause_skip"], ["cancel"]),
        ("Hi", "Please skip December and don't cancel my plan.", ["pause_skip"], ["cancel"]),
        ("Hi", "Do not cancel. Just skip the next box, and refund the last one.",
         ["pause_skip", "billing"], ["cancel"]),
        ("Hi", "I was charged twice. I want to cancel.", ["cancel", "billing"], []),
        ("Moving", "We moved: please update my address and skip June", ["pause_skip", "address_change"], []),
        ("Hi", "Don't skip my box, but please cancel the gift one", ["cancel"], ["pause_skip"]),
    ],
)  # fmt: skip
def test_an_email_carries_every_intent_it_asks_for(intents, subject, text, counted, aside):
    reading = read_intents(subject, text, intents)

    assert [h.name for h in reading.intents] == counted  # in care.toml's priority order
    assert [h.name for h in reading.set_aside] == aside
    assert all(h.trigger for h in reading.intents + reading.set_aside)


def test_a_cancel_both_negated_and_asked_counts_and_keeps_the_negated_words(intents):
    text = "Please don't cancel my plan. How do I cancel the gift box?"

    reading = read_intents("Hi", text, intents)

    assert reading.hit("cancel").trigger == "How do I cancel the gift box?"
    assert [h.trigger for h in reading.set_aside] == ["Please don't cancel my plan."]


def test_triggers_are_clipped(intents):
    word = "a" * 500
    hit = read_intents("", f"Please cancel {word} {word}", intents).hit("cancel")

    assert hit is not None and len(hit.trigger) <= 100


def test_only_the_first_words_of_a_huge_email_are_read(intents):
    text = "hello " * 10_000 + "please cancel"

    assert read_intents("", text, intents).intents == ()


# ----- every message of the shared corpus ---------------------------------------------------

CORPUS = sorted(
    p for p in (SHARED / "email-corpus").rglob("*") if p.is_file() and "LICENSE" not in p.name
)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(SHARED)))
def test_no_corpus_message_is_read_as_a_cancel_request(intents, path):
    # The corpus (its README) holds replies, bounces, complaints, receipts and list mail: no
    # message in it asks to cancel. Its footers ("to unsubscribe, see ...", "if you would like
    # to cancel or change the configuration ...") must not count.
    parsed = parse_email(path.read_bytes())
    for subject, text in ((parsed.subject, parsed.text), (parsed.subject, parsed.full_text)):
        reading = read_intents(subject, text, intents)
        assert reading.hit("cancel") is None, (reading.intents, path)


def test_the_corpus_is_there():
    assert len(CORPUS) > 50


# ----- any text --------------------------------------------------------------------------


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=st.text(max_size=200), text=st.text(max_size=3000))
def test_any_text_reads_without_error_and_every_hit_is_explained(intents, subject, text):
    reading = read_intents(subject, text, intents)

    names = [i.name for i in intents]
    assert [h.name for h in reading.intents] == sorted(
        (h.name for h in reading.intents), key=names.index
    )
    for hit in reading.intents + reading.set_aside:
        assert hit.name in names and 0.5 <= hit.confidence <= 0.95
        assert len(hit.trigger) <= 100
        assert bool(hit.why) == (hit in reading.set_aside)
    assert reading.primary == (reading.intents[0].name if reading.intents else "other")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.sampled_from(["", "Hi. ", "Thanks!\n", "I love the coffee, "]),
    negation=st.sampled_from(
        ["I do not want to", "I don't want to", "no need to", "please do not"]
    ),
    after=st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=60),
)
def test_a_negated_cancel_never_counts_whatever_surrounds_it(intents, before, negation, after):
    reading = read_intents("Hello", f"{before}{negation} cancel.{after and ' '}", intents)

    assert reading.hit("cancel") is None


def test_only_the_first_mentions_of_an_intent_are_judged(intents):
    # A crafted email repeating a keyword costs what 20 mentions do; the 21st is not read.
    text = "cancel?\n" * MAX_MENTIONS + "Please cancel my subscription."

    assert read_intents("", text, intents).hit("cancel").confidence == 0.8  # a line's lead
    assert (
        read_intents("", "Please cancel my subscription.", intents).hit("cancel").confidence == 0.95
    )
