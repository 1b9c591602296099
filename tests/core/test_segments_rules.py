"""Which bytes of a file are done and which are fetched next (core/segments.py), seen from outside: a partial
file with holes, as a resume record describes it, is completed by asking the server for the holes only."""

from __future__ import annotations

import pytest

from ofa_manager.core.transfer import Transfer
from tests.catalogs import MiB, engine_threads, fast_options, leftovers, payload
from tests.transfers import PATH, make_library, run_guarded


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def holey_partial(tmp_path, models_dir, http_server, data, ranges):
    """A partial file holding ``data`` in ``ranges`` and junk elsewhere, with its resume record."""
    route = http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    part = bytearray(b"\xee" * len(data))
    for start, end in ranges:
        part[start:end] = data[start:end]
    library.part_path(m).write_bytes(part)
    record = {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None, "ranges": ranges}
    library.write_record(m, record)
    return route, library, m


@pytest.mark.parametrize("connections", [1, 2])
def test_a_partial_file_with_holes_is_completed_by_asking_for_the_holes(
    tmp_path, models_dir, http_server, connections
):
    data = payload(MiB)
    # Two pieces that touch (one piece really), then a hole, a piece, and the rest missing.
    ranges = [[0, 100_000], [100_000, 200_000], [500_000, 600_000]]
    route, library, m = holey_partial(tmp_path, models_dir, http_server, data, ranges)
    transfer = Transfer(library, m, fast_options(connections=connections, min_segment=MiB))
    assert run_guarded(transfer).read_bytes() == data
    asked = [(r.range, r.if_range) for r in http_server.requests_for(PATH, "GET")]
    # The first request opens the first hole; the other hole follows on the same or a second connection.
    assert asked == [("bytes=200000-", route.etag), (f"bytes=600000-{MiB - 1}", route.etag)]
    assert leftovers(models_dir) == []


def test_a_partial_file_missing_only_its_start_asks_for_the_start(tmp_path, models_dir, http_server):
    data = payload(MiB)
    route, library, m = holey_partial(tmp_path, models_dir, http_server, data, [[300_000, MiB]])
    assert (
        run_guarded(Transfer(library, m, fast_options(connections=2, min_segment=MiB))).read_bytes() == data
    )
    asked = [r.range for r in http_server.requests_for(PATH, "GET")]
    assert asked == ["bytes=0-"]
