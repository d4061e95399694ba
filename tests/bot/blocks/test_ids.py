"""Button and select values: encoded by builders, decoded by handlers, within Slack's limits."""

from __future__ import annotations

import pytest

from bot.blocks import ids


def test_ids_round_trip_through_a_button_value() -> None:
    value = ids.encode_ids(["k7qx2", "a3b4c"])
    assert value == "k7qx2,a3b4c"
    assert ids.decode_ids(value) == ["k7qx2", "a3b4c"]
    assert ids.decode_ids(" k7qx2,,k7qx2 ") == ["k7qx2"]


def test_a_choice_carries_a_number_and_ids() -> None:
    value = ids.encode_choice(3, ["k7qx2"])
    assert ids.decode_choice(value) == (3, ["k7qx2"])


@pytest.mark.parametrize("count", [1, 2, 14, 15, 16, 25])
def test_choices_encoded_together_are_each_what_encode_choice_gives(count: int) -> None:
    task_ids = [f"t{i:05d}" for i in range(count)]  # 15 ids: 104 chars, 25: 174 (too long)
    try:
        expected = [ids.encode_choice(n, task_ids) for n in (1, 3, 7, 30)]
    except ValueError:
        with pytest.raises(ValueError, match="over"):
            ids.encode_choices((1, 3, 7, 30), task_ids)
        return
    assert ids.encode_choices((1, 3, 7, 30), task_ids) == expected


def test_a_malformed_choice_is_refused_with_the_expected_shape() -> None:
    with pytest.raises(ValueError, match="<number>\\|<ids>"):
        ids.decode_choice("soon")


@pytest.mark.parametrize("bad", ["", "a,b", "x|y", "<!channel>"])
def test_ids_that_would_break_a_value_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.encode_ids([bad])


def test_too_many_ids_for_a_value_are_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="over 2000"):
        ids.encode_ids([f"t{i:05d}" for i in range(400)])
    with pytest.raises(ValueError, match="over"):
        ids.encode_choice(7, [f"t{i:05d}" for i in range(40)])


def test_action_ids_are_unique() -> None:
    assert len(set(ids.ALL_ACTIONS)) == len(ids.ALL_ACTIONS)
