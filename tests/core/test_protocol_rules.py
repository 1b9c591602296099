"""How one end of the pipe counts and logs the lines it drops (core/protocol.py's Inbound): every drop is
counted by reason; the log names the first ten and then every thousandth, never the line itself."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ofa_manager.core import protocol
from ofa_manager.core.protocol import (
    LOG_EVERY_DROPPED,
    LOG_FIRST_DROPPED,
    Dropped,
    Inbound,
    Message,
    decode_command,
    decode_event,
    encode_command,
    encode_event,
    item_fields,
)
from ofa_manager.core.states import ErrorKind


def test_drops_are_counted_by_reason_and_logged_sparingly(caplog):
    inbound = Inbound(decode_event, "window")
    with caplog.at_level(logging.WARNING, logger="ofa_manager.pipe"):
        for _ in range(2 * LOG_EVERY_DROPPED):
            inbound.drop("not JSON")
        inbound.drop("unknown kind", "'x'")
    assert inbound.dropped == 2 * LOG_EVERY_DROPPED + 1
    assert inbound.reasons == {"not JSON": 2 * LOG_EVERY_DROPPED, "unknown kind": 1}
    logged = [r.getMessage() for r in caplog.records]
    counts = [*range(1, LOG_FIRST_DROPPED + 1), LOG_EVERY_DROPPED, 2 * LOG_EVERY_DROPPED]
    # The 2001st drop is past the first ten and not a thousandth: counted above, not logged.
    assert logged == [f"window: dropped a bad line (not JSON); {n} dropped so far" for n in counts]


def test_the_reason_and_its_detail_are_logged_for_the_first_drops(caplog):
    inbound = Inbound(decode_event, "download process")
    with caplog.at_level(logging.WARNING, logger="ofa_manager.pipe"):
        list(inbound.messages(io.BytesIO(b"not json\n")))
        inbound.drop("unknown kind", "'x'")
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2 and logged[0].startswith("download process: dropped a bad line (")
    assert logged[1] == "download process: dropped a bad line (unknown kind 'x'); 2 dropped so far"


SETTINGS = {"jobs": 2, "connections": 4, "limit_rate": 0, "timeout": 30.0, "retries": 3, "rewrite_rules": []}


def command(**fields) -> bytes:
    return (json.dumps(fields) + "\n").encode()


def test_settings_and_tokens_are_checked_field_by_field():
    ok = decode_command(command(op="configure", settings={**SETTINGS, "rewrite_rules": [["a", "b"]]}))
    assert isinstance(ok, Message) and ok.fields["settings"]["rewrite_rules"] == [["a", "b"]]
    for rules in ([["a"]], [["a", 1]], [["a", "b", "c"]], ["ab"], "a,b"):
        got = decode_command(command(op="configure", settings={**SETTINGS, "rewrite_rules": rules}))
        assert isinstance(got, Dropped) and got.reason.startswith(
            "configure: field 'rewrite_rules' is not a"
        ), rules
    assert decode_command(command(op="configure", settings=[])) == Dropped(
        "configure: field 'settings' is not an object"
    )
    tokens = decode_command(command(op="tokens", tokens={"h": "t", "g": None}))
    assert isinstance(tokens, Message) and tokens.fields["tokens"] == {"h": "t", "g": None}
    assert decode_command(command(op="tokens", tokens={"h": 1})) == Dropped(
        "tokens: field 'tokens' is not an object of host to token or null"
    )
    assert decode_command(command(op="tokens", tokens=["h"])).reason.startswith("tokens: field 'tokens'")
    assert decode_command(command(op="download", ids="a")) == Dropped("download: field 'ids' is not a list")


def item(**fields) -> dict:
    values = {
        "key": "/m/a.pt",
        "entry_ids": ["a"],
        "title": "A",
        "state": "failed",
        "done": 0,
        "total": None,
        "speed": 0.0,
        "eta": None,
        "connections": 0,
        "error": "404",
        "error_kind": "http",
        "message": "",
        "finished_at": None,
    }
    values.update(fields)
    return values


def test_queue_items_decode_with_their_kinds_and_optional_fields():
    line = (json.dumps({"event": "changed", "key": "/m/a.pt", "index": 0, "item": item()}) + "\n").encode()
    got = decode_event(line)
    assert got.event.item.error_kind is ErrorKind.HTTP and got.event.item.total is None
    newer = decode_event(line.replace(b'"http"', b'"quantum"'))  # a newer peer's kind: a plain error
    assert newer.event.item.error_kind is ErrorKind.ERROR
    bad_kind = decode_event(line.replace(b'"error_kind": "http"', b'"error_kind": 5'))
    assert bad_kind == Dropped("changed: field 'error_kind' is not a string")
    total = decode_event(line.replace(b'"total": null', b'"total": "big"'))
    assert total == Dropped("changed: field 'total' is not an integer")
    fields = item_fields(got.event.item)
    assert fields["entry_ids"] == ["a"] and fields["state"] == "failed" and set(fields) == set(item())
    assert (
        decode_event(encode_event("changed", key="/m/a.pt", index=0, item=fields)).event.item
        == got.event.item
    )


def event(**fields) -> bytes:
    return (json.dumps(fields) + "\n").encode()


def test_each_reason_is_given_in_its_own_words():
    assert decode_event(b"pause everything\n") == Dropped("not JSON")
    assert decode_event(b'{"event": "heartbeat", "dropped": NaN}\n') == Dropped("not JSON")
    assert decode_event(b"[1]\n") == Dropped("not a JSON object")
    assert decode_event(b'{"dropped": 1}\n') == Dropped("no 'event' name")
    assert decode_command(b'{"op": 3}\n') == Dropped("no 'op' name")
    long_kind = "k" * 50
    assert decode_event(event(event=long_kind)) == Dropped("unknown event", repr("k" * 40))
    assert decode_command(command(op="format_disk")) == Dropped("unknown op", "'format_disk'")


def test_numbers_must_be_finite_and_flags_true_or_false():
    changed = {"event": "changed", "key": "/m/a.pt", "index": 0}
    # 1e999 is valid JSON, and reads as infinity.
    infinite = event(**changed, item=item(speed=12345.5)).replace(b"12345.5", b"1e999")
    assert decode_event(infinite) == Dropped("changed: field 'speed' is not a finite number")
    assert decode_event(event(**changed, item=item(eta="soon"))) == Dropped(
        "changed: field 'eta' is not a finite number"
    )
    assert decode_event(event(**changed, item=item(speed=True))) == Dropped(
        "changed: field 'speed' is not a finite number"
    )
    assert decode_event(event(**changed, item=item(eta=2))).event.item.eta == 2.0
    restore = decode_command(command(op="restore", resume=True))
    assert isinstance(restore, Message) and restore["resume"] is True
    add = decode_command(command(op="add", ids=["a"], paused=False))
    assert isinstance(add, Message) and add.fields == {"ids": ["a"], "paused": False}
    assert decode_command(command(op="add", ids=["a"], paused=0)) == Dropped(
        "add: field 'paused' is not true or false"
    )


def test_a_value_a_check_trips_on_drops_the_line_with_what_went_wrong():
    # An integer too large for a float: a check that did not foresee it raises, and only the line is lost.
    got = decode_event(event(event="changed", key="/m/a.pt", index=0, item=item(speed=10**400)))
    assert got == Dropped("changed: cannot decode", "OverflowError('int too large to convert to float')")


def test_what_went_wrong_is_cut_to_200_characters(monkeypatch):
    # A check with a bug in it cannot be found among the real ones: one is added to the command table.
    def broken(value):
        raise RuntimeError("x" * 500)

    monkeypatch.setitem(protocol.COMMANDS, "probe", {"value": broken})
    got = decode_command(command(op="probe", value=1))
    assert got == Dropped("probe: cannot decode", repr(RuntimeError("x" * 500))[:200])
    assert len(got.detail) == 200


def test_only_the_queues_events_carry_a_queue_event():
    hello = decode_event(event(event="hello", version=1))
    assert isinstance(hello, Message) and hello.event is None
    heartbeat = decode_event(event(event="heartbeat", dropped=0))
    assert isinstance(heartbeat, Message) and heartbeat.event is None
    pause = decode_command(command(op="pause", key="k"))
    assert isinstance(pause, Message) and pause.event is None
    moved = decode_event(event(event="moved", key="/m/a.pt", index=2, item=None))
    assert moved.event is not None and moved.event.index == 2 and moved.event.item is None


def test_a_line_sent_is_compact_json_with_one_newline():
    assert encode_command("pause", key="k") == b'{"op":"pause","key":"k"}\n'
    assert encode_event("heartbeat", dropped=3) == b'{"event":"heartbeat","dropped":3}\n'
    with pytest.raises(
        ValueError, match="refusing to send an invalid message: pause: field 'key' is missing"
    ):
        encode_command("pause")


class Lines(io.BytesIO):
    """A stream that notes how much each readline asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list = []

    def readline(self, size=-1):
        self.asked.append(size)
        return super().readline(size)


HELLO = b'{"event":"hello","version":1}'


def test_a_line_of_exactly_the_limit_is_read_and_one_byte_more_is_dropped():
    exact = Inbound(decode_event, "test", max_bytes=len(HELLO))  # the limit does not count the newline
    assert [m.kind for m in exact.messages(io.BytesIO(HELLO + b"\n" + HELLO + b"\n"))] == ["hello", "hello"]
    assert exact.dropped == 0
    over = Inbound(decode_event, "test", max_bytes=len(HELLO) - 1)
    assert list(over.messages(io.BytesIO(HELLO + b"\n" + HELLO + b"\n"))) == []
    assert over.reasons == {f"line longer than {len(HELLO) - 1} bytes": 2}


def test_a_last_line_without_its_newline_is_still_read():
    inbound = Inbound(decode_event, "test", max_bytes=len(HELLO))
    assert [m.kind for m in inbound.messages(io.BytesIO(HELLO + b"\n" + HELLO))] == ["hello", "hello"]
    assert inbound.dropped == 0


def test_a_huge_line_is_read_on_a_piece_at_a_time():
    stream = Lines(b"x" * 10_000 + b"\n" + HELLO + b"\n")
    inbound = Inbound(decode_event, "test", max_bytes=100)
    assert [m.kind for m in inbound.messages(stream)] == ["hello"]
    assert inbound.dropped == 1
    assert all(isinstance(size, int) and 0 < size <= 101 for size in stream.asked), stream.asked
    assert len(stream.asked) > 10_000 // 101


def test_a_dropped_lines_detail_reaches_the_log(caplog):
    inbound = Inbound(decode_event, "window")
    with caplog.at_level(logging.WARNING, logger="ofa_manager.pipe"):
        assert list(inbound.messages(io.BytesIO(event(event="colour", hue=3)))) == []
    assert [r.getMessage() for r in caplog.records] == [
        "window: dropped a bad line (unknown event 'colour'); 1 dropped so far"
    ]
