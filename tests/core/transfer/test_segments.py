"""One file over several connections: segments, shorter ranges than asked, an ETag per answer, one failing
connection."""

from __future__ import annotations

import re
import threading
import time

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError
from tests.catalogs import MiB, body_requests, fast_options, leftovers, payload, sha256
from tests.transfers import (
    PATH,
    counting_backoffs,
    gets,
    make_library,
    options,
    range_start,
    run,
    run_guarded,
    setup,
)

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_segmented_download_uses_several_connections_and_is_identical(tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    # The first answer holds still for a moment after 256 KiB (below the read timeout and with the speed
    # floor off), so the other connections split the rest between them whatever the machine's load.
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, stall_after=256 * 1024, stall_seconds=1.5, stall_times=1
    )
    # Segments down to 256 KiB: the default (2 MiB) splits a running share only while 4 MiB of it are left,
    # which on an 8 MiB file depends on how far the second connection got before the third was planned.
    assert run(library, m, options(connections=4, min_segment=256 * 1024, min_speed=0)).read_bytes() == data
    ranged = body_requests(http_server, PATH)
    assert len(ranged) >= 3 and all(r.range for r in ranged)
    assert len({r.range for r in ranged}) == len(ranged) and len({r.connection for r in ranged}) >= 3
    assert all(r.if_range == route.etag for r in ranged[1:])
    assert_ranges_tile(ranged, len(data))


def request_span(record) -> tuple[int, int | None]:
    """(first, last) of a request's ``Range: bytes=FIRST-[LAST]``; last is None for an open range."""
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", record.range or "")
    assert match, f"not a single byte range: {record.range!r}"
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def assert_ranges_tile(ranged, size):
    """The pieces the requests asked for tile [0, size) exactly: sorted by start, each piece runs to the
    next start (the server sent at least that much, and a closed range reaches that far), and every closed
    range ends one byte before a piece begins or at the end of the file, never in the middle of a piece
    (a share split by a helper connection keeps its request's end, which is where the next share begins)."""
    spans = sorted(request_span(r) + (r.bytes_sent,) for r in ranged)
    starts = [first for first, _, _ in spans]
    assert starts[0] == 0 and len(set(starts)) == len(starts), spans
    for (first, last, sent), following in zip(spans, starts[1:] + [size], strict=True):
        assert sent >= following - first, (
            f"bytes={first}-{last}: {sent} sent, the piece is {following - first}"
        )
        assert last is None or last >= following - 1, f"bytes={first}-{last} stops short of {following}"
        assert last is None or last + 1 in {*starts, size}, (
            f"bytes={first}-{last} ends inside a piece: {spans}"
        )


def test_segmented_download_survives_drops_on_every_connection(tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, drop_after=500_000, drop_times=4)
    assert run(library, m, options(connections=4)).read_bytes() == data
    # All four drops happened (the route disarms itself after the last), each on its own connection and
    # in a different segment, and each cut segment was asked for again from the byte where it was cut.
    assert route.drop_after is None
    ranged = body_requests(http_server, PATH)
    cut = [r for r in ranged if r.bytes_sent == 500_000]
    assert len(cut) == 4 and len({r.connection for r in cut}) == 4
    starts = {request_span(r)[0] for r in ranged}
    assert all(request_span(r)[0] + 500_000 in starts for r in cut)
    assert {r.connection for r in ranged} - {r.connection for r in cut}, "no connection after the drops"


def test_one_connection_means_one_stream(tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data)
    assert run(library, m, options(connections=1)).read_bytes() == data
    assert len(gets(http_server)) == 1 and http_server.connections_accepted == 1


def test_one_failing_connection_ends_the_transfer_without_waiting_for_the_others(
    tmp_path, models_dir, http_server
):
    data = payload(8 * MiB)
    # Each connection drops after 1.5 MB; by then the next request gets 503 with a long Retry-After and
    # the one after that a 404.
    route = http_server.add(PATH, data, rate=1_000_000, drop_after=1_500_000, drop_times=8)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))

    def break_later():
        # Once all four connections are streaming (before the first drop at 1.5 MB), the server breaks.
        deadline = time.monotonic() + 30
        while len({r.connection for r in http_server.requests_for(PATH, "GET") if r.bytes_sent}) < 4:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        route.statuses = [(503, {"Retry-After": "300"}, b"busy")] + [404] * 20

    threading.Thread(target=break_later, daemon=True).start()
    transfer = Transfer(library, m, options(connections=4, retries=5, min_segment=256 * 1024))
    # Not held back by the 300 s Retry-After of another connection: the hang guard is far shorter.
    with pytest.raises(DownloadError, match="404"):
        run_guarded(transfer, limit=100)


def test_shorter_ranges_than_asked_are_followed_at_once_without_backoff(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    piece = 256 * 1024
    http_server.add(PATH, data, short_ranges=piece)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, backoff_base=0.5)
    transfer = Transfer(library, m, options, on_progress=progress.append)
    backoffs = counting_backoffs(transfer)
    assert run_guarded(transfer).read_bytes() == data
    gets = http_server.requests_for(PATH, "GET")
    assert [r.status for r in gets] == [206] * 8
    assert [range_start(r) for r in gets] == [i * piece for i in range(8)]
    assert len({r.connection for r in gets}) == 1  # each answer read to its end: the connection is reused
    assert backoffs == []
    assert not [p for p in progress if p.state == "stalled"]


def test_shorter_ranges_on_several_connections_make_a_whole_file(tmp_path, models_dir, http_server):
    data = payload(4 * MiB)
    http_server.add(PATH, data, short_ranges=300_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), sha256=sha256(data))
    transfer = Transfer(library, m, fast_options(connections=4, min_segment=512 * 1024, backoff_base=0.5))
    backoffs = counting_backoffs(transfer)
    assert run_guarded(transfer).read_bytes() == data
    assert backoffs == []
    assert len({r.connection for r in http_server.requests_for(PATH, "GET")}) >= 2


@pytest.mark.parametrize("known_sha", [True, False], ids=["sha256", "no-sha256"])
def test_an_etag_that_changes_on_every_answer_falls_back_to_one_connection(
    tmp_path, models_dir, http_server, known_sha
):
    data = payload(8 * MiB)
    route = http_server.add(PATH, data, etag_per_request=True)
    fields = {"sha256": sha256(data)} if known_sha else {}
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **fields)
    final = run_guarded(Transfer(library, m, fast_options(connections=4, min_segment=MiB)))
    assert final.read_bytes() == data
    gets = [r for r in http_server.requests_for(PATH, "GET") if r.status in (200, 206)]
    assert any(r.if_range for r in gets)  # segments were tried first, validated by the ETag
    last = gets[-1]
    # Then one answer from byte 0 on one connection, which no validator has to vouch for.
    assert last.range is None and last.status == 200 and last.bytes_sent == len(data)
    assert route.etag != http_server.requests_for(PATH, "GET")[0].headers.get("if-range")
    assert library.status(m).state is State.DOWNLOADED and leftovers(models_dir) == []
