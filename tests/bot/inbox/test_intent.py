"""Keyword intent rules from care.toml: word boundaries, config order, "other"."""

from __future__ import annotations

import pytest

from bot.inbox.intent import detect_intent
from config.settings import Intent


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
