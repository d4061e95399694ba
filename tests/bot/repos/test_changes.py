"""Pending: what a view kept in memory has yet to read again."""

from bot.repos.changes import Pending


def test_pending_starts_as_everything_then_hands_over_what_was_noted_once() -> None:
    pending = Pending()
    assert pending.take() is None  # a new view reads everything first
    pending.note(["a", "b"])
    pending.note(["b", "c"])
    assert pending.take() == {"a", "b", "c"}
    assert pending.take() == set()


def test_anything_changed_wins_over_ids_noted_before_or_after_it() -> None:
    pending = Pending()
    pending.take()
    pending.note(["a"])
    pending.note(None)
    pending.note(["b"])
    assert pending.take() is None
    pending.note(["c"])
    assert pending.take() == {"c"}
