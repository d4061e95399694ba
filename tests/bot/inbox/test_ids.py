"""Addresses and Message-IDs from raw UTF-8 headers (RFC 6532) are storable and normalised."""

from __future__ import annotations

import json

from bot.inbox.ids import clean_text, message_ids, normalize_address, normalize_id


def _escaped(text: str) -> str:
    """What the stdlib parser hands over for raw UTF-8 header bytes."""
    return text.encode("utf-8").decode("ascii", errors="surrogateescape")


def test_surrogate_escaped_utf8_header_becomes_text():
    assert clean_text(_escaped("José <josé@exämple.com>")) == "José <josé@exämple.com>"


def test_legacy_8bit_header_falls_back_to_windows_1252():
    assert clean_text("caf\udce9") == "café"


def test_any_lone_surrogate_is_replaced_so_json_can_write_it():
    cleaned = clean_text("a\ud800b" + _escaped("é"))
    json.dumps(cleaned).encode("utf-8")
    assert cleaned == "a\ufffdbé"


def test_address_is_nfc_lower_cased_with_unicode_idna_domain():
    decomposed = "Jose\u0301@Exa\u0308mple.COM"
    assert normalize_address(decomposed) == "josé@exämple.com"
    assert normalize_address("<bob@xn--exmple-cua.com>") == "bob@exämple.com"
    assert normalize_address(_escaped("josé@exämple.com")) == "josé@exämple.com"


def test_things_that_are_not_addresses_give_empty():
    assert normalize_address("no at sign") == ""
    assert normalize_address("two words@example.com") == ""
    assert normalize_address("a" * 400 + "@example.com") == ""


def test_message_ids_are_nfc_and_long_ones_become_a_short_stable_digest():
    assert normalize_id(_escaped("<ça@exämple.com>")) == "<ça@exämple.com>"
    long_id = "<" + "x" * 5000 + "@example.com>"
    short = normalize_id(long_id)
    assert short == normalize_id(long_id) and len(short) < 100 and short.startswith("<")


def test_references_list_every_id_and_first_takes_a_bare_token():
    assert message_ids("<a@x> junk <b@y>\r\n <c@z>") == ["<a@x>", "<b@y>", "<c@z>"]
    assert message_ids("bare@id trailing", first=True) == ["<bare@id>"]
    assert message_ids("   ", first=True) == []
