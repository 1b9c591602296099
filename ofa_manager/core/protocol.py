"""The messages between the window and its download process: one JSON object a line, each one checked.

The pipe is an input like a file: every line is parsed, checked against the schema of its kind and
decoded in one guarded step, giving a ``Message`` or a ``Dropped`` with the reason. Fields a kind does
not know are ignored (a newer peer may add some); unknown kinds, bad types, lines that are not UTF-8 or
not JSON, and lines over ``MAX_LINE_BYTES`` are dropped and counted, never fatal. Each end says
``hello`` with its ``PROTOCOL_VERSION`` first.
"""

from __future__ import annotations

import collections
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import IO

from ofa_manager.core.states import ErrorKind, ItemState, QueueEvent, QueueEventKind, QueueItem

# Raised whenever a message changes meaning; both ends refuse a peer that speaks another version.
PROTOCOL_VERSION = 1
# No message comes near this (the largest is a queue item); a longer line is skipped to its end.
MAX_LINE_BYTES = 1 << 20
# The number of the private pipe end the download process writes its events to.
EVENT_FD_ENV = "OFA_MANAGER_EVENT_FD"
QUEUE_EVENT_KINDS = frozenset(QueueEventKind)
# Dropped lines are logged one by one up to this many, then every LOG_EVERY_DROPPED-th.
LOG_FIRST_DROPPED = 10
LOG_EVERY_DROPPED = 1000

log = logging.getLogger("ofa_manager.pipe")


@dataclass(frozen=True)
class Message:
    """A checked message: its kind, and its known fields with values of the right types.

    For the queue's events (added, changed, removed, moved), ``event`` is the decoded ``QueueEvent``.
    """

    kind: str
    fields: dict
    event: QueueEvent | None = None

    def __getitem__(self, name: str):
        return self.fields[name]


@dataclass(frozen=True)
class Dropped:
    """A line that was not a valid message: why (one of a few reasons), and what it named, if anything."""

    reason: str
    detail: str = ""


class _Invalid(Exception):
    """A value is not what its field needs; the text says what was expected."""


# -- field checks: each returns the value (converted where needed) or raises _Invalid -----------------


def _string(value):
    if isinstance(value, str):
        return value
    raise _Invalid("a string")


def _integer(value):
    if type(value) is int:
        return value
    raise _Invalid("an integer")


def _number(value):
    if type(value) in (int, float) and math.isfinite(value):
        return float(value)
    raise _Invalid("a finite number")


def _boolean(value):
    if type(value) is bool:
        return value
    raise _Invalid("true or false")


# A check made from another takes that one as its first argument, bound in the schemas below with
# functools.partial: all of a check is code that runs for each message, none of it is built at import.


def _optional(check: Callable, value):
    return None if value is None else check(value)


def _list_of(check: Callable, value):
    if not isinstance(value, list):
        raise _Invalid("a list")
    return [check(v) for v in value]


def _pair_of_strings(value):
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return list(value)
    raise _Invalid("a pair of strings")


def _tokens(value):
    if isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values()):
        return dict(value)
    raise _Invalid("an object of host to token or null")


def _record(schema: dict[str, Callable], build: Callable[[dict], object], value):
    if not isinstance(value, dict):
        raise _Invalid("an object")
    return build(_check_fields(schema, value))


def _check_fields(schema: dict[str, Callable], data: dict) -> dict:
    """The schema's fields of ``data``, checked; the others are ignored."""
    checked = {}
    for name, check in schema.items():
        if name not in data:
            raise _Invalid(f"field {name!r} is missing")
        try:
            checked[name] = check(data[name])
        except _Invalid as exc:
            text = str(exc)
            raise _Invalid(text if text.startswith("field ") else f"field {name!r} is not {text}") from None
    return checked


_STATES = {state.value: state for state in ItemState}


def _state(value):
    if isinstance(value, str) and value in _STATES:
        return _STATES[value]
    raise _Invalid("a known item state")


def _error_kind(value):
    if isinstance(value, str):
        return ErrorKind.parse(value)  # a newer peer's kind reads as a plain error, as the state file's
    raise _Invalid("a string")


def _item(fields: dict) -> QueueItem:
    return QueueItem(**{**fields, "entry_ids": tuple(fields["entry_ids"])})


ITEM = partial(
    _record,
    {
        "key": _string,
        "entry_ids": partial(_list_of, _string),
        "title": _string,
        "state": _state,
        "done": _integer,
        "total": partial(_optional, _integer),
        "speed": _number,
        "eta": partial(_optional, _number),
        "connections": _integer,
        "error": partial(_optional, _string),
        "error_kind": partial(_optional, _error_kind),
        "message": _string,
        "finished_at": partial(_optional, _number),
    },
    _item,
)
ITEM_FIELDS = tuple(QueueItem.__dataclass_fields__)

SETTINGS = partial(
    _record,
    {
        "jobs": _integer,
        "connections": _integer,
        "limit_rate": _integer,
        "timeout": _number,
        "retries": _integer,
        "rewrite_rules": partial(_list_of, _pair_of_strings),
    },
    dict,
)

# What the window sends ("op"), and what the download process sends ("event"), field by field.
COMMANDS: dict[str, dict[str, Callable]] = {
    "hello": {"version": _integer, "heartbeat": _number},
    "start": {
        "root": _string,
        "catalogs": partial(_list_of, _string),
        "state_file": _string,
        "settings": SETTINGS,
    },
    "restore": {"resume": _boolean},
    "download": {"ids": partial(_list_of, _string)},
    "add": {"ids": partial(_list_of, _string), "paused": _boolean},
    "pause": {"key": _string},
    "resume": {"key": _string},
    "cancel": {"key": _string},
    "move": {"key": _string, "delta": _integer},
    "pause_all": {},
    "resume_all": {},
    "cancel_all": {},
    "clear_finished": {},
    "configure": {"settings": SETTINGS},
    "tokens": {"tokens": _tokens},
    "shutdown": {},
}

EVENTS: dict[str, dict[str, Callable]] = {
    # Only the version: a hello from any version decodes, so a mismatch is named, not dropped.
    "hello": {"version": _integer},
    "heartbeat": {"dropped": _integer},
    "added": {"key": _string, "index": _integer, "item": ITEM},
    "changed": {"key": _string, "index": _integer, "item": ITEM},
    "removed": {"key": _string, "index": _integer, "item": partial(_optional, ITEM)},
    "moved": {"key": _string, "index": _integer, "item": partial(_optional, ITEM)},
}


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _decode(line: bytes, tag: str, schemas: dict[str, dict[str, Callable]]) -> Message | Dropped:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return Dropped("not UTF-8")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return Dropped("not JSON")
    if not isinstance(data, dict):
        return Dropped("not a JSON object")
    kind = data.get(tag)
    if not isinstance(kind, str):
        return Dropped(f"no {tag!r} name")
    schema = schemas.get(kind)
    if schema is None:
        return Dropped(f"unknown {tag}", repr(kind[:40]))
    try:
        fields = _check_fields(schema, data)
    except _Invalid as exc:
        return Dropped(f"{kind}: {exc}")
    except Exception as exc:  # a check that trips on a value it did not foresee still only drops the line
        return Dropped(f"{kind}: cannot decode", repr(exc)[:200])
    event = None
    if tag == "event" and kind in QUEUE_EVENT_KINDS:
        item = fields["item"]
        if item is not None and item.key != fields["key"]:
            return Dropped(f"{kind}: the item's key is not the event's key")
        event = QueueEvent(QueueEventKind(kind), fields["key"], item, fields["index"])
    return Message(kind, fields, event)


def decode_command(line: bytes) -> Message | Dropped:
    """A line from the window, as the download process reads it."""
    return _decode(line, "op", COMMANDS)


def decode_event(line: bytes) -> Message | Dropped:
    """A line from the download process, as the window reads it."""
    return _decode(line, "event", EVENTS)


def _encode(tag: str, kind: str, fields: dict, schemas: dict[str, dict[str, Callable]]) -> bytes:
    """One line; a message this end would itself refuse is a bug here, so it raises ValueError."""
    line = json.dumps({tag: kind, **fields}, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    checked = _decode(line, tag, schemas)
    if isinstance(checked, Dropped):
        raise ValueError(f"refusing to send an invalid message: {checked.reason}")
    return line


def encode_command(op: str, **fields) -> bytes:
    return _encode("op", op, fields, COMMANDS)


def encode_event(kind: str, **fields) -> bytes:
    return _encode("event", kind, fields, EVENTS)


def item_fields(item: QueueItem) -> dict:
    """A queue item as the fields of an event."""
    fields = {name: getattr(item, name) for name in ITEM_FIELDS}
    fields["entry_ids"] = list(item.entry_ids)
    fields["state"] = item.state.value
    return fields


def encode_queue_event(event: QueueEvent) -> bytes:
    item = item_fields(event.item) if event.item is not None else None
    return encode_event(event.kind, key=event.key, index=event.index, item=item)


class Inbound:
    """One end's reading of the pipe: good messages out, bad lines dropped, counted and logged.

    ``dropped`` is the number of lines dropped so far and ``reasons`` counts them by reason (a few
    fixed texts per kind of message, so the count stays small whatever arrives).
    """

    def __init__(
        self,
        decode: Callable[[bytes], Message | Dropped],
        name: str,
        *,
        max_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.decode = decode
        self.name = name
        self.max_bytes = max_bytes
        self.dropped = 0
        self.reasons: collections.Counter[str] = collections.Counter()

    def messages(self, stream: IO[bytes]) -> Iterator[Message]:
        """The valid messages of ``stream`` until its end."""
        while True:
            line = stream.readline(self.max_bytes + 1)
            if not line:
                return
            if len(line) > self.max_bytes and not line.endswith(b"\n"):
                # Read on to the end of the line, a piece at a time: its length alone is its fault.
                while line and not line.endswith(b"\n"):
                    line = stream.readline(self.max_bytes)
                self.drop(f"line longer than {self.max_bytes} bytes")
                continue
            result = self.decode(line)
            if isinstance(result, Dropped):
                self.drop(result.reason, result.detail)
                continue
            yield result

    def drop(self, reason: str, detail: str = "") -> None:
        """Count a bad line; the log says why, never what it held (a command may carry a token)."""
        self.dropped += 1
        self.reasons[reason] += 1
        if self.dropped <= LOG_FIRST_DROPPED or self.dropped % LOG_EVERY_DROPPED == 0:
            log.warning(
                "%s: dropped a bad line (%s%s); %d dropped so far",
                self.name,
                reason,
                f" {detail}" if detail else "",
                self.dropped,
            )
