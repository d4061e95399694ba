"""The one mapping between domain objects and the JSON documents the store keeps.

Every stored model is a `Model`: a msgspec Struct whose fields are typed. `to_doc` turns it into
JSON-ready builtins and refuses, with `InvalidRecord`, any value that would not read back as
the same model (a wrong type, a naive datetime, NaN, a date where a datetime belongs, a value
an `Any` field cannot keep), so a bad record is never stored. `from_doc` builds the model back
from a stored document, validating types; a document it cannot read raises `InvalidRecord`
naming the model, the record and the field, for the repository to skip and log.

Documents leave out fields that hold their default when the default is empty (`None`, `""`,
`False`, `[]`, `{}`); every other field is written, so raw readers may rely on `doc["status"]`.
Documents written before this mapping left out every empty value, required fields included;
`from_doc` reads those as the empty value they were.

Any str round-trips, lone surrogates included (the store escapes them, see `bot.store`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import re
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Self, Union

import msgspec

# A timezone-aware datetime: naive ones are refused at write (stored datetimes are UTC).
UTCDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
# A finite float: NaN and infinity are refused at write (they are not JSON).
Finite = Annotated[float, msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]

_SCALARS = frozenset({str, int, float, bool})
_ID_FIELDS = ("id", "message_id", "key", "date")
_FIELD_IN_PATH = re.compile(r"`\$\.([A-Za-z_]\w*)")
_MISSING_FIELD = re.compile(r"missing required field `(\w+)`")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


class InvalidRecord(ValueError):
    """A record that cannot be stored, or a stored document that cannot be read.

    Attributes:
        model: the model's class name.
        record_id: the record's id (or message id, key, date), or "" when unknown.
        field: the first offending field, or "" when the document as a whole is wrong.
        reason: what is wrong, in words.
    """

    def __init__(self, action: str, model: str, record_id: str, field: str, reason: str) -> None:
        self.model, self.record_id, self.field, self.reason = model, record_id, field, reason
        record = f"{model} {_clip(repr(record_id))}" if record_id else model
        where = f", field {field!r}" if field else ""
        super().__init__(f"Cannot {action} {record}{where}: {_clip(reason, 300)}")


def _clip(text: str, limit: int = 80) -> str:
    """Outside text in a message, cut short (a record id may be a 100k-character header)."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class Doc:
    """Mixin giving a model `to_doc`/`from_doc` through this module's mapping."""

    __slots__ = ()

    def to_doc(self) -> dict[str, Any]:
        """The JSON document for this record; raises `InvalidRecord` if it would not read back."""
        return encode(self)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Self:
        """The record a stored document holds; raises `InvalidRecord` if it cannot be read."""
        return decode(cls, doc)


class Model(msgspec.Struct, Doc, omit_defaults=True):
    """Base of every stored model: a typed, slotted msgspec Struct.

    Constructors, attributes, `==` and `repr` behave as the dataclasses these replaced, and
    `dataclasses.replace`/`fields`/`asdict` still work on them (see `_dataclass_fields`);
    `msgspec.structs.replace` is the native spelling.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]  # set below, once Model exists


class _DataclassFields:
    """`dataclasses.Field`s describing a Struct, so the `dataclasses` helpers accept it.

    Worked out on first use, when every annotation the fields name can be resolved.
    """

    def __init__(self) -> None:
        self._by_class: dict[type, dict[str, dataclasses.Field[Any]]] = {}

    def __get__(self, obj: object, cls: type) -> dict[str, dataclasses.Field[Any]]:
        found = self._by_class.get(cls)
        if found is None:
            found = self._by_class[cls] = _dataclass_fields(cls)
        return found


def _dataclass_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    out: dict[str, dataclasses.Field[Any]] = {}
    for info in msgspec.structs.fields(cls):
        if info.default_factory is not msgspec.NODEFAULT:
            f: dataclasses.Field[Any] = dataclasses.field(default_factory=info.default_factory)
        elif info.default is not msgspec.NODEFAULT:
            f = dataclasses.field(default=info.default)
        else:
            f = dataclasses.field()
        f.name, f.type = info.name, info.type
        f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # noqa: SLF001
        out[info.name] = f
    return out


Model.__dataclass_fields__ = _DataclassFields()  # type: ignore[assignment]


class _Plan:
    """What the mapping needs to know about one model class, worked out once."""

    def __init__(self, cls: type) -> None:
        self.restore: dict[str, Any] = {}  # non-empty defaults omit_defaults left out
        self.empties: dict[str, Any] = {}  # required fields an old document may leave out
        self.nested: dict[str, tuple[type, bool]] = {}  # field -> (model, is a list of them)
        self.datetimes: list[str] = []  # datetime fields, stored in UTC
        if not issubclass(cls, msgspec.Struct):
            return
        for info in msgspec.structs.fields(cls):
            default = info.default
            if info.default_factory is not msgspec.NODEFAULT:
                default = info.default_factory()
            if default is msgspec.NODEFAULT:
                empty = _empty_of(info.type)
                if empty is not msgspec.NODEFAULT:
                    self.empties[info.name] = empty
            elif not _is_empty(default):
                self.restore[info.name] = msgspec.to_builtins(default)
            if _is_datetime(info.type):
                self.datetimes.append(info.name)
            inner, many = _model_in(info.type)
            if inner is not None:
                self.nested[info.name] = (inner, many)


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _is_empty(value: Any) -> bool:
    return (value is None or value is False or value == "") or (
        type(value) in (list, dict, tuple) and not value
    )


def _empty_of(tp: Any) -> Any:
    """The empty value of a type, as the old mapping left it out; NODEFAULT if it has none."""
    tp = _strip(tp)
    origin = typing.get_origin(tp) or tp
    if origin in (Union, types.UnionType) and type(None) in typing.get_args(tp):
        return None
    return {str: "", bool: False, list: [], dict: {}}.get(origin, msgspec.NODEFAULT)


def _is_datetime(tp: Any) -> bool:
    tp = _strip(tp)
    return tp is datetime or (
        typing.get_origin(tp) in (Union, types.UnionType)
        and any(_strip(arg) is datetime for arg in typing.get_args(tp))
    )


def _strip(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp


def _model_in(tp: Any) -> tuple[type | None, bool]:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, Model):
        return tp, False
    args = typing.get_args(tp)
    many = typing.get_origin(tp) is list and args and isinstance(args[0], type)
    if many and issubclass(args[0], Model):
        return args[0], True
    return None, False


def record_id(value: Any) -> str:
    """The id a message names a record by: its id, message id, key or date."""
    for name in _ID_FIELDS:
        found = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
        if found is not None and found != "":
            return str(found)
    return ""


def encode(obj: Any) -> dict[str, Any]:
    """The document for `obj`, after checking that it reads back as `obj`."""
    cls = type(obj)
    try:
        doc = msgspec.to_builtins(obj)
        back = msgspec.convert(doc, cls)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise _invalid("store", cls, record_id(obj), exc) from None
    if back != obj:
        for name in _names(cls):
            was, got = getattr(obj, name), getattr(back, name)
            if not _same(was, got):
                reason = f"{_clip(repr(was))} would be read back as {_clip(repr(got))}"
                raise InvalidRecord("store", cls.__name__, record_id(obj), name, reason)
    _check_surrogates(cls, obj, doc)
    _finish(_plan(cls), doc)
    return doc  # type: ignore[no-any-return]


def _check_surrogates(cls: type, obj: Any, doc: dict[str, Any]) -> None:
    """Refuse text JSON cannot give back: a high surrogate followed by a low one.

    Lone surrogates (what `surrogateescape` makes of undecodable header bytes) are stored
    escaped and read back as they were; but `"\\ud800\\udc00"` in JSON is one character,
    U+10000, so a str holding that pair of code points would come back changed.
    """
    try:
        msgspec.json.encode(doc)  # fast: fails only if some str holds a surrogate
        return
    except UnicodeEncodeError:
        pass
    for name, value in doc.items():
        if _SURROGATE_PAIR.search(json.dumps(value, ensure_ascii=False)):
            reason = "text holds a surrogate pair, which JSON would read back as one character"
            raise InvalidRecord("store", cls.__name__, record_id(obj), name, reason)


def _same(a: Any, b: Any) -> bool:
    """Equal, or the same instant (datetimes in a DST fold never compare equal across zones)."""
    if a == b:
        return True
    return isinstance(a, datetime) and isinstance(b, datetime) and a - b == timedelta(0)


def _finish(plan: _Plan, doc: dict[str, Any]) -> None:
    """Datetimes in UTC (so stored strings sort by time), and the non-empty defaults that
    `omit_defaults` left out put back; in nested models too."""
    for name in plan.datetimes:
        value = doc.get(name)
        if value and value[-1] != "Z":
            with contextlib.suppress(OverflowError):  # year 1 or 9999: keep its offset
                doc[name] = msgspec.to_builtins(datetime.fromisoformat(value).astimezone(UTC))
    for name, value in plan.restore.items():
        if name not in doc:
            doc[name] = value if type(value) in _SCALARS else copy.deepcopy(value)
    for name, (inner, many) in plan.nested.items():
        value = doc.get(name)
        if value:
            for item in value if many else (value,):
                _finish(_plan(inner), item)


def decode(cls: type[Any], doc: Mapping[str, Any]) -> Any:
    """The `cls` record stored as `doc`; `InvalidRecord` if it cannot be read."""
    try:
        return msgspec.convert(doc, cls)
    except msgspec.ValidationError as exc:
        error = exc
    old = _upgrade(cls, doc)
    if old is not None:
        try:
            return msgspec.convert(old, cls)
        except msgspec.ValidationError as exc:
            error = exc
    raise _invalid("read", cls, record_id(doc) if isinstance(doc, Mapping) else "", error)


def _upgrade(cls: type, doc: Any) -> dict[str, Any] | None:
    """`doc` with the empty required fields the old mapping left out put back, or None."""
    if not isinstance(doc, Mapping):
        return None
    plan = _plan(cls)
    out = dict(doc)
    changed = False
    for name, empty in plan.empties.items():
        if name not in out:
            out[name] = msgspec.to_builtins(empty)
            changed = True
    for name, (inner, many) in plan.nested.items():
        value = out.get(name)
        if many and isinstance(value, list):
            items = [_upgrade(inner, v) or v for v in value]
            changed = changed or items != value
            out[name] = items
        elif not many and isinstance(value, Mapping):
            fixed = _upgrade(inner, value)
            if fixed is not None:
                out[name], changed = fixed, True
    return out if changed else None


def _names(cls: type) -> tuple[str, ...]:
    if issubclass(cls, msgspec.Struct):
        return cls.__struct_fields__
    return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]


def _invalid(action: str, cls: type, rid: str, exc: Exception) -> InvalidRecord:
    message = str(exc)
    found = _FIELD_IN_PATH.search(message) or _MISSING_FIELD.search(message)
    return InvalidRecord(action, cls.__name__, rid, found.group(1) if found else "", message)


__all__ = [
    "Doc",
    "Finite",
    "InvalidRecord",
    "Model",
    "UTCDateTime",
    "decode",
    "encode",
    "record_id",
]
