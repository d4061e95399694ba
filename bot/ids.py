"""Short, typeable ids derived from stable keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

# No 0/o, 1/l/i: ids are read aloud and typed into /care commands.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


_BASE = len(ALPHABET)
# Two digits at once: PAIRS[d0 + BASE * d1] is ALPHABET[d0] + ALPHABET[d1].
_PAIRS = [a + b for b in ALPHABET for a in ALPHABET]
_PAIR = _BASE * _BASE


def short_id(key: str, taken: Callable[[str], bool], length: int = 5) -> str:
    """A `length`-character id for `key`, stable for the same key, never one that is `taken`.

    The digest's base-31 digits, least significant first.
    """
    salt = 0
    while True:
        digest = hashlib.blake2b(_utf8(f"{key}#{salt}"), digest_size=8).digest()
        number = int.from_bytes(digest, "big")
        if length == 5:  # the usual length: two pairs and a digit
            low, rest = _PAIRS[number % _PAIR], number // _PAIR
            candidate = low + _PAIRS[rest % _PAIR] + ALPHABET[rest // _PAIR % _BASE]
        else:
            candidate = _digits(number, length)
        if not taken(candidate):
            return candidate
        salt += 1
        if salt % 50 == 0:
            length += 1


def _digits(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, _BASE)
        chars.append(ALPHABET[rem])
    return "".join(chars)


def stable_id(*parts: object) -> str:
    """A 16-hex-digit id for an immutable record (an event, an outreach) from its content."""
    return hashlib.blake2b(_utf8("\x1f".join(str(p) for p in parts)), digest_size=8).hexdigest()


def _utf8(text: str) -> bytes:
    # surrogatepass: a key with lone surrogates (undecodable header bytes) still hashes; every
    # other str gives the same bytes as before, so existing ids do not change.
    return text.encode("utf-8", "surrogatepass")
