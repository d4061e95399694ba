"""Short ids: the digest's base-31 digits, stable for a key, never one already taken."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from bot.ids import ALPHABET, short_id


def digits(key: str, salt: int, length: int) -> str:
    """The id of `key` at `salt`, digit by digit (least significant first)."""
    data = f"{key}#{salt}".encode("utf-8", "surrogatepass")
    number = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
    out = ""
    for _ in range(length):
        number, rem = divmod(number, len(ALPHABET))
        out += ALPHABET[rem]
    return out


@given(key=st.text(max_size=60), length=st.integers(3, 8), taken=st.integers(0, 3))
def test_an_id_is_the_first_untaken_of_its_keys_salted_digests(
    key: str, length: int, taken: int
) -> None:
    """With the first `taken` candidates in use, the id is the next one, digit for digit."""
    used = {digits(key, salt, length) for salt in range(taken)}
    assert short_id(key, used.__contains__, length) == digits(key, taken, length)


def test_ids_are_typeable_and_stable() -> None:
    ids = [short_id(f"cus_{n}:checkin_30", lambda _: False) for n in range(200)]
    assert ids == [short_id(f"cus_{n}:checkin_30", lambda _: False) for n in range(200)]
    assert all(len(i) == 5 and set(i) <= set(ALPHABET) for i in ids)
    assert len(set(ids)) == 200
