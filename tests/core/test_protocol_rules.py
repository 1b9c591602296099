"""How one end of the pipe counts and logs the lines it drops (core/protocol.py's Inbound): every drop is
counted by reason; the log names the first ten and then every thousandth, never the line itself."""

from __future__ import annotations

import io
import json
import logging

from ofa_manager.core.protocol import (
    LOG_EVERY_DROPPED,
    LOG_FIRST_DROPPED,
    Dropped,
    Inbound,
    Message,
    decode_command,
    decode_event,
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
