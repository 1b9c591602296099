"""One connection's GET loop and the supervisor of a file's connections (core/connections.py)."""

from __future__ import annotations

import threading

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from ofa_manager.core.transfer_options import RateLimiter
from tests.catalogs import MiB, engine_threads, fast_options, payload
from tests.transfers import PATH, make_library, run_guarded


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def test_a_paused_stream_of_unknown_length_is_not_taken_for_the_whole_file(tmp_path, models_dir, http_server):
    # No Content-Length, no ranges, no size or sha256 in the catalog: only the stream's own end says the
    # file is whole. A pause ends the stream early; the next run must not place those bytes as the file.
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, rate=MiB, no_length=True, ignore_range=True)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    abort = threading.Event()

    def on_progress(progress):
        if progress.done >= 200_000:
            abort.set()

    with pytest.raises(Aborted):
        run_guarded(Transfer(library, m, fast_options(connections=1), abort=abort, on_progress=on_progress))
    assert library.status(m).state is State.PARTIAL and not library.path(m).exists()
    route.rate = None
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data


def test_under_a_bandwidth_limit_the_speed_floor_is_the_limits_smallest_share(
    tmp_path, models_dir, http_server
):
    # A limit of 64 KiB/s may be shared by 128 connections: the floor drops from 1 KiB/s to 512 B/s, and a
    # trickle of 200 B/s is still cut, named with that floor.
    http_server.add(PATH, payload(MiB), trickle_after=50_000, trickle_rate=200, trickle_times=100)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=1, timeout=0.5, retries=0, min_speed=1024)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, options, limiter=RateLimiter(64 * 1024)))
    assert str(info.value) == (
        "Model M: stalled: under 512 Bytes/s for 0.5 s (no byte counts below that speed) "
        "(gave up after 1 attempts)"
    )
    assert info.value.kind is ErrorKind.NETWORK
