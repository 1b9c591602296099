"""Resuming one file's download: Range and If-Range, partials from earlier runs, objects that change, servers
that ignore ranges, 416."""

from __future__ import annotations

import threading

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError
from tests.catalogs import MiB, leftovers, payload, sha256
from tests.transfers import PATH, gets, make_library, options, run, setup

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_dropped_connection_resumes_with_range_and_if_range(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, drop_after=700_000)
    final = run(library, m, options(connections=1))
    assert final.read_bytes() == data
    first, second = gets(http_server)
    assert first.range == "bytes=0-" and first.if_range is None and first.bytes_sent == 700_000
    assert second.range.startswith("bytes=700000-") and second.if_range == route.etag
    assert second.status == 206 and second.bytes_sent == len(data) - 700_000
    assert leftovers(models_dir) == []


def test_if_range_falls_back_to_last_modified_without_a_strong_etag(tmp_path, models_dir, http_server):
    data = payload(1 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, etag='W/"weak"', drop_after=300_000)
    assert run(library, m, options(connections=1)).read_bytes() == data
    second = gets(http_server)[1]
    assert second.if_range == route.last_modified and second.status == 206


def test_partial_from_an_earlier_run_is_resumed_not_refetched(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, drop_after=900_000)
    with pytest.raises(DownloadError):
        run(library, m, options(connections=1, retries=0))
    assert library.status(m).state is State.PARTIAL
    http_server.clear_requests()
    assert run(library, m, options(connections=1)).read_bytes() == data
    (again,) = gets(http_server)
    assert again.range.startswith("bytes=900000-") and again.if_range == route.etag
    assert again.bytes_sent == len(data) - 900_000


def test_a_complete_partial_left_by_a_kill_before_the_rename_is_finished_offline(
    tmp_path, models_dir, http_server
):
    data = payload(1 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, fields={"sha256": sha256(data)})
    library.part_path(m).write_bytes(data)
    library.write_record(
        m,
        {
            "url": m.url,
            "size": len(data),
            "etag": route.etag,
            "last_modified": None,
            "ranges": [[0, len(data)]],
        },
    )
    assert run(library, m).read_bytes() == data
    assert http_server.requests == []
    assert library.status(m).verified and leftovers(models_dir) == []


def test_object_changed_between_requests_starts_over_with_the_new_object(tmp_path, models_dir, http_server):
    old, new = payload(2 * MiB, 1), payload(2 * MiB, 2)
    route, library, m = setup(tmp_path, models_dir, http_server, old, drop_after=800_000)
    with pytest.raises(DownloadError):
        run(library, m, options(connections=1, retries=0))
    route.data = new
    http_server.clear_requests()
    final = run(library, m, options(connections=1))
    assert final.read_bytes() == new  # never a splice of old and new
    statuses = [r.status for r in gets(http_server)]
    assert statuses[0] == 200  # If-Range did not match: the server sent the whole new object
    assert library.read_meta(m)["etag"] == route.etag


def test_object_changing_during_a_segmented_download_is_not_spliced(tmp_path, models_dir, http_server):
    old = payload(8 * MiB, 1)
    route, library, m = setup(tmp_path, models_dir, http_server, old, change_after=1, drop_after=1_000_000)
    new = old.translate(bytes(range(255, -1, -1)))
    final = run(library, m, options(connections=4))
    assert final.read_bytes() == new
    assert library.read_meta(m)["sha256"] == sha256(new)


def test_object_changed_with_catalog_sha256_ends_with_a_verified_file(tmp_path, models_dir, http_server):
    old, new = payload(1 * MiB, 1), payload(1 * MiB, 2)
    route, library, m = setup(
        tmp_path, models_dir, http_server, old, drop_after=400_000, fields={"sha256": sha256(new)}
    )
    with pytest.raises(DownloadError):
        run(library, m, options(connections=1, retries=0))
    route.data = new
    assert run(library, m, options(connections=1)).read_bytes() == new
    assert library.status(m).verified


def test_server_ignoring_range_restarts_from_zero_without_appending(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, ignore_range=True, drop_after=600_000)
    with pytest.raises(DownloadError):
        run(library, m, options(retries=0))
    part = library.part_path(m)
    assert part.exists()
    http_server.clear_requests()
    final = run(library, m, options(connections=4))
    assert final.read_bytes() == data and final.stat().st_size == len(data)
    (again,) = gets(http_server)  # one stream, no segments: the server does not do ranges
    assert again.range is not None and again.status == 200


def test_server_ignoring_range_after_a_drop_in_the_same_run(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, ignore_range=True, drop_after=600_000)
    final = run(library, m, options(connections=4))
    assert final.read_bytes() == data
    assert all(r.status == 200 for r in gets(http_server))


def test_without_validators_a_partial_is_not_resumed(tmp_path, models_dir, http_server):
    # No ETag, no Last-Modified, no published sha256: nothing could tell a changed object, so no splicing.
    old, new = payload(2 * MiB, 1), payload(2 * MiB, 2)
    route, library, m = setup(
        tmp_path, models_dir, http_server, old, etag=False, last_modified=False, drop_after=800_000
    )
    with pytest.raises(DownloadError):
        run(library, m, options(connections=1, retries=0))
    route.data = new
    http_server.clear_requests()
    assert run(library, m, options(connections=1)).read_bytes() == new
    assert [r.range for r in gets(http_server)] == ["bytes=0-"]


def test_416_for_a_partial_the_object_outgrew_starts_over(tmp_path, models_dir, http_server):
    # Without validators the resume request carries no If-Range (the published sha256 makes resuming
    # safe), so the shrunken object answers 416.
    old, new = payload(2 * MiB, 1), payload(500_000, 2)
    route, library, m = setup(
        tmp_path,
        models_dir,
        http_server,
        old,
        etag=False,
        last_modified=False,
        drop_after=1_000_000,
        fields={"sha256": sha256(new)},
    )
    with pytest.raises(DownloadError):
        run(library, m, options(connections=1, retries=0))
    route.data = new
    http_server.clear_requests()
    assert run(library, m, options(connections=1)).read_bytes() == new
    statuses = [r.status for r in gets(http_server)]
    assert statuses[0] == 416 and statuses[-1] in (200, 206)


def test_canned_416_on_a_fresh_download_is_survived(tmp_path, models_dir, http_server):
    data = payload(300_000)
    route, library, m = setup(
        tmp_path,
        models_dir,
        http_server,
        data,
        statuses=[(416, {"Content-Range": f"bytes */{len(data)}"}, b"")],
    )
    assert run(library, m).read_bytes() == data
    assert [r.status for r in gets(http_server)][:1] == [416]


def test_abort_keeps_the_partial_file_and_the_record(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, rate=1 * MiB)
    abort = threading.Event()
    seen = []

    def on_progress(progress):
        seen.append(progress)
        if progress.done >= 300_000:
            abort.set()

    with pytest.raises(Aborted):
        run(library, m, options(connections=2, min_segment=256 * 1024), abort=abort, on_progress=on_progress)
    status = library.status(m)
    assert status.state is State.PARTIAL and 300_000 <= status.bytes < len(data)
    route.rate = None
    assert run(library, m).read_bytes() == data


def test_range_ignoring_server_with_known_size_survives_several_drops(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, ignore_range=True, drop_after=500_000, drop_times=4)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    final = Transfer(library, m, options(retries=5, connections=4)).run()
    assert final.read_bytes() == data
    assert route.gets == 5  # four broken streams, each restarted from byte 0, then a whole one
    # No range is asked for after a drop: this server would answer it with the whole file again.
    assert [r.range for r in http_server.requests_for(PATH, "GET")] == ["bytes=0-"] * 5
