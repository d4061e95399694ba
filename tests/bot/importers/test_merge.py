"""Deciding whether an import changed a subscriber."""

from __future__ import annotations

from bot.importers.merge import _same


def test_missing_and_empty_fields_are_the_same_data():
    stored = {"id": "c1", "owner": "", "tags": [], "last_order": None, "updated_at": "2026-01-01"}
    stored["subscriptions"] = [{"id": "s1", "status": "active", "cancel_at_period_end": False}]
    fresh = {"id": "c1", "subscriptions": [{"id": "s1", "status": "active"}], "updated_at": "x"}
    assert _same(stored, fresh)


def test_a_changed_or_new_value_is_a_change():
    stored = {"id": "c1", "subscriptions": [{"id": "s1", "status": "active"}]}
    assert not _same(stored, {"id": "c1", "subscriptions": [{"id": "s1", "status": "past_due"}]})
    assert not _same(stored, {**stored, "owner": "Dana"})
    assert not _same(
        stored,
        {
            "id": "c1",
            "subscriptions": [{"id": "s1", "status": "active", "cancel_at_period_end": True}],
        },
    )
