"""One file over several connections: segments, shorter ranges than asked, an ETag per answer, one failing
connection."""

from __future__ import annotations

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
    # Throttled so the first connection cannot fetch most of the file before the others start.
    route, library, m = setup(tmp_path, models_dir, http_server, data, rate=8 * MiB)
    assert run(library, m, options(connections=4)).read_bytes() == data
    ranged = body_requests(http_server, PATH)
    assert len(ranged) >= 3 and all(r.range for r in ranged)
    assert len({r.range for r in ranged}) == len(ranged) and len({r.connection for r in ranged}) >= 3
    assert all(r.if_range == route.etag for r in ranged[1:])


def test_segmented_download_survives_drops_on_every_connection(tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, drop_after=500_000, drop_times=4)
    assert run(library, m, options(connections=4)).read_bytes() == data


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
    started = time.monotonic()

    def break_later():
        time.sleep(0.5)
        route.statuses = [(503, {"Retry-After": "30"}, b"busy")] + [404] * 20

    threading.Thread(target=break_later, daemon=True).start()
    with pytest.raises(DownloadError, match="404"):
        Transfer(library, m, options(connections=4, retries=5, min_segment=256 * 1024)).run()
    assert time.monotonic() - started < 15  # not held back by the 30 s Retry-After of another connection


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
