"""The document mapping (bot.mapping): any model value round-trips through the real store,
a value that could not be read back is refused before anything is stored, and old documents
(written when empty values were left out) still load."""

from __future__ import annotations

import dataclasses
import math
import re
import tempfile
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbox.models import ConnectorStatus, InboxMessage, SyncState, TriageItem
from bot.mapping import Finite, InvalidRecord, Model, UTCDateTime
from bot.models import Event, Outreach, Risk, Subscriber, Subscription, Task
from bot.repos import Repos
from bot.repos.digests import DigestRecord
from bot.store import Store

# Any str, lone surrogates (what undecodable header bytes become) and NULs included.
PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")  # JSON reads it back as one character
TEXT = (
    st.lists(st.characters() | st.sampled_from(["\ud800", "\udcff", "\x00", "é"]), max_size=12)
    .map("".join)  # st.text() never yields surrogates
    .filter(lambda text: not PAIR.search(text))
)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
AWARE = st.datetimes(timezones=ZONES)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Every value a field of type `tp` can hold."""
    if tp is UTCDateTime:
        return AWARE
    if tp is Finite:
        return st.floats(allow_nan=False, allow_infinity=False)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return st.one_of(*(strategy(a) for a in args))
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(TEXT, strategy(args[1]), max_size=3)
    if isinstance(tp, type) and issubclass(tp, Model):
        return model(tp)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: TEXT,
        int: st.integers(),
        bool: st.booleans(),
        date: st.dates(),
        type(None): st.none(),
        Any: JSON_VALUE,
    }
    return simple[tp]


def model(cls: type[Model]) -> st.SearchStrategy[Any]:
    """Instances of `cls`, optional fields left at their default about half the time."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for info in msgspec.structs.fields(cls):
        values = strategy(hints[info.name])
        if info.required:
            fields[info.name] = values
        else:
            fields[info.name] = st.builds(info.default_factory) | values if (
                info.default_factory is not msgspec.NODEFAULT
            ) else st.just(info.default) | values  # fmt: skip
    return st.builds(cls, **fields)


# Each stored model: how a repository writes it and reads it back.
STORED: dict[type[Model], tuple[Callable[[Repos, Any], object], Callable[[Repos, Any], Any]]] = {
    Subscriber: (lambda r, x: r.subscribers.put(x), lambda r, x: r.subscribers.get(x.id)),
    Task: (lambda r, x: r.tasks.create(x), lambda r, x: next(iter(r.tasks.all()))),
    Event: (lambda r, x: r.events.add(x), lambda r, x: r.events.for_subscriber(x.subscriber_id)[0]),
    Outreach: (
        lambda r, x: r.outreach.add(x),
        lambda r, x: r.outreach.for_subscriber(x.subscriber_id)[0],
    ),
    TriageItem: (lambda r, x: r.inbox.create_item(x), lambda r, x: next(iter(r.inbox.items()))),
    InboxMessage: (
        lambda r, x: r.inbox.record_message(x),
        lambda r, x: r.inbox.message(x.message_id),
    ),
    SyncState: (
        lambda r, x: r.inbox.save_sync(x),
        lambda r, x: r.inbox.sync_state(x.host, x.user, x.folder),
    ),
    ConnectorStatus: (
        lambda r, x: r.inbox.save_connector_status(x),
        lambda r, x: r.inbox.connector_status(x.key),
    ),
    DigestRecord: (lambda r, x: r.digests.save(x), lambda r, x: r.digests.get(x.date)),
}
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _through_store(cls: type[Model], record: Any, kind: str) -> Any:
    write, read = STORED[cls]
    if kind == "memory":
        with Store.memory() as store:
            write(Repos.open(store), record)
            return read(Repos.open(store), record)
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp), shards=4) as store:
            write(Repos.open(store), record)
        with Store(Path(tmp), shards=4) as store:  # read back from the files alone
            return read(Repos.open(store), record)


@pytest.mark.parametrize("kind", ["memory", "json"])
@pytest.mark.parametrize("cls", list(STORED), ids=lambda c: c.__name__)
def test_any_model_value_round_trips_through_the_store(cls: type[Model], kind: str) -> None:
    @PROPERTY
    @given(model(cls))
    def check(record: Any) -> None:
        assert _through_store(cls, record, kind) == record

    check()


@PROPERTY
@given(model(Risk), model(Subscription))
def test_models_stored_inside_others_round_trip_through_their_documents(
    risk: Risk, subscription: Subscription
) -> None:
    assert Risk.from_doc(risk.to_doc()) == risk
    assert Subscription.from_doc(subscription.to_doc()) == subscription


def test_documents_keep_the_shape_raw_readers_rely_on() -> None:
    task = Task("k7qx2", "cus_1:checkin_30", "checkin_30", "cus_1", date(2026, 6, 1), _NOW)
    assert task.to_doc() == {
        "id": "k7qx2",
        "key": "cus_1:checkin_30",
        "kind": "checkin_30",
        "subscriber_id": "cus_1",
        "due": "2026-06-01",
        "created_at": "2026-06-15T14:00:00Z",
        "status": "open",  # a non-empty default is written: the engine reads doc["status"]
        "risk_score": 0,
        "risk_band": "low",
        "value": 0.0,
    }
    sub = Subscriber("cus_1", subscriptions=[Subscription("sub_1")])
    assert sub.to_doc()["subscriptions"][0]["status"] == "active"


def test_empty_required_values_are_stored_and_read_back() -> None:
    """The fault behind issue 8: an outreach without a task and an email without a subject."""
    outreach = Outreach("o1", "cus_1", "", "U1", "email", "reached", _NOW)
    assert outreach.to_doc()["task_id"] == ""
    assert Outreach.from_doc(outreach.to_doc()) == outreach
    item = TriageItem("q4m7x", "<a@b>", "", "", "", _NOW, _NOW)
    assert TriageItem.from_doc(item.to_doc()) == item


@pytest.mark.parametrize("kind", ["memory", "json"])
def test_lone_surrogates_from_bad_headers_are_kept_and_pairs_refused(kind: str) -> None:
    escaped = b"caf\xe9 <\xff@example.com>".decode("utf-8", "surrogateescape")
    item = TriageItem("q4m7x", "<\udcff@x>", escaped, "", escaped, _NOW, _NOW)
    assert _through_store(TriageItem, item, kind) == item
    paired = dataclasses.replace(item, subject="\ud83d\ude00")  # 😀 as two code points
    with pytest.raises(InvalidRecord, match="field 'subject': text holds a surrogate pair"):
        paired.to_doc()


def test_datetimes_are_stored_in_utc_and_read_back_as_the_same_instant() -> None:
    london = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))  # in the DST fold
    task = Task("k", "k", "checkin_30", "c", date(2026, 1, 1), london)
    doc = task.to_doc()
    assert doc["created_at"] == "2026-10-25T00:30:00Z"
    assert Task.from_doc(doc).created_at - london == timedelta(0)


_NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
_TASK = Task("k7qx2", "cus_1:checkin_30", "checkin_30", "cus_1", date(2026, 6, 1), _NOW)
# A field, a value it cannot hold, and what the error says.
INVALID = [
    ("created_at", datetime(2026, 6, 15, 14, 0), "timezone"),  # naive
    ("due", _NOW, "date"),  # a datetime where a date belongs
    ("value", math.nan, "float"),
    ("value", math.inf, "float"),
    ("risk_score", "3", "int"),
    ("risk_score", True, "int"),
    ("kind", None, "str"),
    ("slack", {"channel": 5}, "str"),
    ("risk_reasons", ("a", "b"), "read back"),  # a tuple would come back as a list
]


@pytest.mark.parametrize(
    ("field", "value", "says"), INVALID, ids=[f"{f}={v!r}" for f, v, _ in INVALID]
)
def test_a_value_that_could_not_be_read_back_is_refused_before_anything_is_stored(
    repos: Repos, field: str, value: Any, says: str
) -> None:
    bad = dataclasses.replace(_TASK, **{field: value})
    with pytest.raises(InvalidRecord) as refused:
        repos.tasks.create(bad)
    assert (refused.value.model, refused.value.record_id, refused.value.field) == (
        "Task",
        "k7qx2",
        field,
    )
    assert "Task 'k7qx2'" in str(refused.value) and says in str(refused.value)
    assert repos.tasks.count() == 0 and list(repos.tasks.all()) == []
    assert repos.tasks.create(_TASK) is True  # the store is still usable


def test_a_bad_record_in_a_batch_refuses_the_batch_and_stores_none_of_it(repos: Repos) -> None:
    good = Outreach("o1", "cus_1", "t1", "U1", "email", "reached", _NOW)
    bad = dataclasses.replace(good, id="o2", at=datetime(2026, 6, 15))
    with pytest.raises(InvalidRecord, match="Outreach 'o2', field 'at'"):
        repos.outreach.add_many([good, bad])
    assert repos.outreach.count() == 0


@PROPERTY
@given(model(Event), st.sampled_from(["at", "value", "type"]), st.sampled_from([math.nan, None, 7]))
def test_any_wrongly_typed_field_is_refused_with_its_name(
    event: Event, field: str, value: Any
) -> None:
    if field == "value" and value in (None, 7):
        return  # an Event's value may be None or a number
    with pytest.raises(InvalidRecord) as refused:
        dataclasses.replace(event, **{field: value}).to_doc()
    assert refused.value.field == field and refused.value.model == "Event"


def test_documents_written_before_empty_required_fields_were_kept_still_load() -> None:
    """The old mapping left every empty value out, required ones included."""
    old_outreach = {
        "id": "o1",
        "subscriber_id": "cus_1",
        "by": "U1",
        "channel": "email",
        "outcome": "reached",
        "at": "2026-06-15T14:00:00+00:00",
    }
    assert Outreach.from_doc(old_outreach).task_id == ""
    old_item = {
        "id": "q4m7x",
        "key": "<a@b>",
        "created_at": "2026-06-15T14:00:00+00:00",
        "last_message_at": "2026-06-15T14:00:00+00:00",
    }
    item = TriageItem.from_doc(old_item)
    assert (item.subject, item.sender, item.status) == ("", "", "open")
    old_sub = {"id": "cus_1", "subscriptions": [{"plan": "Box", "status": "active"}]}
    assert Subscriber.from_doc(old_sub).subscriptions[0].id == ""


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"id": "k", "key": "k", "kind": "x", "subscriber_id": "c", "due": "soon"}, "due"),
        (
            {"id": "k", "key": "k", "kind": "x", "subscriber_id": "c", "due": "2026-01-01"},
            "created_at",
        ),
        ({"id": "k", "key": 5}, "key"),
    ],
)
def test_a_document_that_cannot_be_read_names_the_model_record_and_field(
    doc: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRecord) as unreadable:
        Task.from_doc(doc)
    assert (unreadable.value.model, unreadable.value.record_id, unreadable.value.field) == (
        "Task",
        "k",
        field,
    )
    assert str(unreadable.value).startswith("Cannot read Task 'k'")


def test_dataclass_helpers_still_work_on_models() -> None:
    claimed = dataclasses.replace(_TASK, status="claimed", claimed_by="U1")
    assert (claimed.status, claimed.claimed_by, claimed.id) == ("claimed", "U1", "k7qx2")
    assert [f.name for f in dataclasses.fields(Task)][:3] == ["id", "key", "kind"]
    assert dataclasses.asdict(_TASK)["due"] == date(2026, 6, 1)
    assert dataclasses.is_dataclass(_TASK)
