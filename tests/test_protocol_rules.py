"""How one end of the pipe counts and logs the lines it drops (core/protocol.py's Inbound): every drop is
counted by reason; the log names the first ten and then every thousandth, never the line itself."""

from __future__ import annotations

import io
import logging

from ofa_manager.core.protocol import LOG_EVERY_DROPPED, LOG_FIRST_DROPPED, Inbound, decode_event


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
