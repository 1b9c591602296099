"""Transfers against the loopback server: resume, restarts, retries, integrity, limits, mirrors, tokens."""

from __future__ import annotations

import re
import shutil
import threading
import time

import keyring
import keyring.backends.fail
import pytest

from ofa_manager.core import units
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError, RateLimiter
from tests.catalogs import (
    MiB,
    RequestClock,
    body_requests,
    engine_threads,
    entry,
    fast_options,
    leftovers,
    load,
    payload,
    sha256,
    write_catalog,
)
from tests.httpserver import TestServer

PATH = "/ckpt/model.pt"


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


options = fast_options


def setup(tmp_path, models_dir, server, data=None, *, path=PATH, fields=None, **faults):
    """Serve ``data`` at ``path`` and return (route, library, entry) for one catalog entry 'm'."""
    route = server.add(path, data, **faults) if data is not None else None
    catalog = write_catalog(
        tmp_path / "catalog.json", [entry("m", server.url(path), title="Model M", **(fields or {}))]
    )
    library = Library(models_dir, load(catalog))
    return route, library, library.catalog.get("m")


def run(library, e, opts=None, **kwargs):
    return Transfer(library, e, opts or options(), **kwargs).run()


def gets(server, path=PATH):
    return server.requests_for(path, "GET")


# -- resume ----------------------------------------------------------------------------------------------


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


def test_stall_timeout_reconnects_and_completes(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, stall_after=1_200_000, stall_seconds=30
    )
    started = time.monotonic()
    final = run(library, m, options(connections=1, timeout=0.5))
    # Behaviour, not speed: the transfer gave up on the stalled connection instead of waiting it out.
    assert time.monotonic() - started < 20
    assert final.read_bytes() == data
    assert len(gets(http_server)) >= 2


def test_retry_after_is_honoured(tmp_path, models_dir, http_server):
    data = payload(200_000)
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, statuses=[(503, {"Retry-After": "1"}, b"busy")]
    )
    with RequestClock(http_server) as clock:
        assert run(library, m).read_bytes() == data
    (t0, first), (t1, second) = clock.seen[:2]
    assert first.status == 503 and second.status == 206
    assert t1 - t0 >= 0.9  # backoff_base is 0.01 s: only Retry-After explains the wait


def test_retry_after_as_an_http_date_is_honoured(tmp_path, models_dir, http_server):
    import email.utils

    data = payload(100_000)
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # one-second resolution: 1 to 2 s ahead
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, statuses=[(429, {"Retry-After": when})]
    )
    with RequestClock(http_server) as clock:
        assert run(library, m).read_bytes() == data
    (t0, first), (t1, second) = clock.seen[:2]
    assert first.status == 429 and t1 - t0 >= 0.9


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(tmp_path, models_dir, http_server, status):
    data = payload(100_000)
    route, library, m = setup(tmp_path, models_dir, http_server, data, statuses=[status, status])
    assert run(library, m).read_bytes() == data
    assert [r.status for r in gets(http_server)] == [status, status, 206]


def test_retries_give_up_with_the_status_in_the_message(tmp_path, models_dir, http_server):
    route, library, m = setup(tmp_path, models_dir, http_server, payload(1000), statuses=[503] * 10)
    with pytest.raises(DownloadError) as info:
        run(library, m, options(retries=2))
    assert "503" in str(info.value) and str(info.value).startswith("Model M")
    assert len(gets(http_server)) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_fail_at_once_naming_the_checkpoint_and_the_status(
    tmp_path, models_dir, http_server, status
):
    route, library, m = setup(tmp_path, models_dir, http_server, payload(1000), statuses=[status])
    with pytest.raises(DownloadError) as info:
        run(library, m, options(retries=5))
    assert str(info.value).startswith("Model M: ") and str(status) in str(info.value)
    assert len(gets(http_server)) == 1
    assert leftovers(models_dir) == [] and not library.path(m).exists()


@pytest.mark.parametrize("kind", ["html_error", "application/xml", "text/html; charset=utf-8"])
def test_a_web_page_instead_of_the_file_is_an_error(tmp_path, models_dir, http_server, kind):
    faults = {"html_error": True} if kind == "html_error" else {"content_type": kind}
    route, library, m = setup(
        tmp_path, models_dir, http_server, b"<Error><Code>AccessDenied</Code></Error>", **faults
    )
    with pytest.raises(DownloadError, match="the server returned a web page, not a file"):
        run(library, m)
    assert not library.path(m).exists() and leftovers(models_dir) == []


def test_a_compressed_body_is_refused_and_a_mirror_serving_the_file_as_is_is_used(
    tmp_path, models_dir, http_server
):
    # The bytes of a gzip-labelled body are not the checkpoint: stored, they would pass for it whenever
    # the catalog has no sha256. Only the label is faked here; the client must not get that far.
    data = payload(400_000)
    route, library, m = setup(tmp_path, models_dir, http_server, data, content_encoding="gzip")
    with pytest.raises(DownloadError, match=r"compressed \(Content-Encoding: gzip\)"):
        run(library, m)
    assert not library.path(m).exists()

    http_server.add("/main.pt", data, content_encoding="gzip")
    http_server.add("/mirror.pt", data)
    catalog = write_catalog(
        tmp_path / "mirrored.json",
        [
            entry(
                "m",
                http_server.url("/main.pt"),
                filename="mirrored.pt",
                mirrors=[http_server.url("/mirror.pt")],
            )
        ],
    )
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    assert run(library, m).read_bytes() == data
    assert library.read_meta(m)["url"] == http_server.url("/mirror.pt")


def test_a_gz_file_labelled_gzip_is_the_file_itself(tmp_path, models_dir, http_server):
    # Servers label .gz files "Content-Encoding: gzip" (Apache's AddEncoding); those bytes are the file.
    data = payload(300_000)
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, path="/archive.tar.gz", content_encoding="x-gzip"
    )
    assert run(library, m).read_bytes() == data


def test_a_segment_answered_compressed_fails_the_download(tmp_path, models_dir, http_server):
    # The first answer is the file as is; the segment connections opened after it are labelled gzip.
    data = payload(8 * MiB)
    route, library, m = setup(
        tmp_path,
        models_dir,
        http_server,
        data,
        rate=1 * MiB,
        content_encoding="gzip",
        content_encoding_after=1,
    )
    with pytest.raises(DownloadError, match=r"compressed \(Content-Encoding: gzip\)"):
        run(library, m, options(connections=4))
    assert len(gets(http_server)) > 1  # the segments did ask
    assert not library.path(m).exists()


def test_no_content_length_works(tmp_path, models_dir, http_server):
    data = payload(1 * MiB + 123)
    route, library, m = setup(tmp_path, models_dir, http_server, data, no_length=True)
    assert run(library, m).read_bytes() == data
    assert len(gets(http_server)) == 1
    assert library.read_meta(m)["size"] == len(data)


def test_no_content_length_and_a_drop_starts_over_when_the_catalog_knows_the_size(
    tmp_path, models_dir, http_server
):
    # Without a length, a cut body looks like a finished one: only the catalog's size can tell them apart.
    data = payload(1 * MiB)
    route, library, m = setup(
        tmp_path,
        models_dir,
        http_server,
        data,
        no_length=True,
        drop_after=300_000,
        fields={"size": len(data)},
    )
    assert run(library, m).read_bytes() == data
    log = gets(http_server)
    assert log[-1].range == "bytes=0-" and all(r.status == 200 for r in log)


def test_sha256_mismatch_never_reaches_the_final_path(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, fields={"sha256": sha256(b"other")})
    with pytest.raises(DownloadError) as info:
        run(library, m)
    assert "sha256 mismatch" in str(info.value) and str(info.value).startswith("Model M")
    assert not library.path(m).exists()
    assert leftovers(models_dir) == []  # the bad data was discarded
    assert library.status(m).state is State.REMOTE


def test_catalog_sha256_is_checked_and_recorded(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, fields={"sha256": sha256(data)})
    assert run(library, m).read_bytes() == data
    assert library.status(m).verified and library.read_meta(m)["verified"] is True


def test_size_different_from_the_catalog_is_refused(tmp_path, models_dir, http_server):
    route, library, m = setup(tmp_path, models_dir, http_server, payload(100_000), fields={"size": 99_999})
    with pytest.raises(DownloadError, match="catalog says"):
        run(library, m)
    assert not library.path(m).exists()


def test_disk_preflight_fails_before_any_body_with_both_sizes(tmp_path, models_dir, http_server):
    free = shutil.disk_usage(models_dir).free
    size = free + 2**40
    route, library, m = setup(tmp_path, models_dir, http_server, payload(1000), fields={"size": size})
    with pytest.raises(DownloadError) as info:
        run(library, m)
    message = str(info.value)
    assert "not enough disk space" in message and units.size(size) in message
    assert re.search(r"only [\d.]+ (KiB|MiB|GiB|TiB|PiB) free", message)
    assert not [r for r in http_server.requests if r.method == "GET" and r.bytes_sent]
    assert not library.part_path(m).exists()


def test_disk_preflight_uses_the_content_length_when_the_catalog_has_no_size(
    tmp_path, models_dir, http_server, monkeypatch
):
    import ofa_manager.core.transfer as transfer_module

    route, library, m = setup(tmp_path, models_dir, http_server, payload(2 * MiB))
    monkeypatch.setattr(transfer_module, "free_space", lambda path: 1 * MiB)
    with pytest.raises(DownloadError) as info:
        run(library, m)
    assert "2.0 MiB" in str(info.value) and "1.0 MiB" in str(info.value)
    assert not library.part_path(m).exists() and not library.path(m).exists()


def test_bandwidth_limit_is_shared_across_connections(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data)
    started = time.monotonic()
    final = run(library, m, options(connections=4, min_segment=256 * 1024), limiter=RateLimiter(2 * MiB))
    elapsed = time.monotonic() - started
    assert final.read_bytes() == data
    assert len({r.connection for r in body_requests(http_server, PATH)}) >= 2
    # 3 MiB at 2 MiB/s in total is 1.5 s; four connections at 2 MiB/s each would take 0.4 s.
    assert elapsed >= 1.2


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


def test_progress_is_reported_at_a_bounded_rate(tmp_path, models_dir, http_server):
    data = payload(1 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, rate=512 * 1024)
    seen = []
    started = time.monotonic()
    run(library, m, options(connections=1), on_progress=seen.append)
    elapsed = time.monotonic() - started
    downloading = [p for p in seen if p.state == "downloading"]
    assert downloading and downloading[-1].total == len(data)
    assert any(p.speed > 0 and p.eta is not None and p.eta >= 0 for p in downloading)
    assert [p.done for p in downloading] == sorted(p.done for p in downloading)
    assert len(seen) <= 10 * elapsed + 10
    assert seen[-1].state == "done" and seen[-1].done == len(data)


def test_progress_moves_on_a_slow_connection(tmp_path, models_dir, http_server):
    # At 128 KiB/s a whole 1 MiB read would take 8 s; progress (and the resume record) must not wait for it.
    route, library, m = setup(tmp_path, models_dir, http_server, payload(1 * MiB), rate=128 * 1024)
    abort = threading.Event()
    started = time.monotonic()
    moved = []

    def on_progress(progress):
        if progress.state == "downloading" and progress.done > 0 and not moved:
            moved.append(time.monotonic() - started)
            abort.set()

    with pytest.raises(Aborted):
        run(library, m, options(connections=1), abort=abort, on_progress=on_progress)
    assert moved and moved[0] < 3.0
    assert 0 < library.status(m).bytes < 1 * MiB


# -- sources -------------------------------------------------------------------------------------------------


def test_mirrors_are_tried_in_order_when_the_main_url_fails(tmp_path, models_dir, http_server):
    data = payload(500_000)
    http_server.add("/main.pt", data, statuses=[404])
    http_server.add("/mirror1.pt", data, statuses=[503] * 10)
    http_server.add("/mirror2.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "m",
                http_server.url("/main.pt"),
                filename="model.pt",
                mirrors=[http_server.url("/mirror1.pt"), http_server.url("/mirror2.pt")],
            )
        ],
    )
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    assert run(library, m, options(retries=1)).read_bytes() == data
    # Before a mirror is used its HEAD fingerprints are compared with the main URL's (one HEAD each).
    gets = [r.path for r in http_server.requests if r.method == "GET"]
    assert gets == ["/main.pt", "/mirror1.pt", "/mirror1.pt", "/mirror2.pt"]
    assert library.read_meta(m)["url"] == http_server.url("/mirror2.pt")


def test_every_source_failing_lists_the_reasons(tmp_path, models_dir, http_server):
    http_server.add("/main.pt", b"x", statuses=[404])
    # Twice: the HEAD that compares the mirror's fingerprints with the main URL's gets one answer too.
    http_server.add("/mirror.pt", b"x", statuses=[403, 403])
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("m", http_server.url("/main.pt"), title="Model M", mirrors=[http_server.url("/mirror.pt")])],
    )
    library = Library(models_dir, load(catalog))
    with pytest.raises(DownloadError) as info:
        run(library, library.catalog.get("m"))
    assert "404" in str(info.value) and "403" in str(info.value) and str(info.value).startswith("Model M")


def test_a_refused_connection_falls_through_to_the_mirror(tmp_path, models_dir, http_server):
    data = payload(100_000)
    http_server.add("/mirror.pt", data)
    with TestServer() as gone:
        dead = gone.url("/main.pt")
    catalog = write_catalog(tmp_path / "c.json", [entry("m", dead, mirrors=[http_server.url("/mirror.pt")])])
    library = Library(models_dir, load(catalog))
    assert run(library, library.catalog.get("m"), options(retries=1)).read_bytes() == data


def test_rewrite_rules_point_a_url_prefix_at_another_server(tmp_path, models_dir, http_server):
    data = payload(300_000)
    http_server.add("/lab-mirror/checkpoints/ofa_tiny.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("t", "https://ofa-beijing.oss-cn-beijing.aliyuncs.com.invalid/checkpoints/ofa_tiny.pt")],
    )
    library = Library(models_dir, load(catalog))
    rules = [("https://ofa-beijing.oss-cn-beijing.aliyuncs.com.invalid/", http_server.url("/lab-mirror/"))]
    final = run(library, library.catalog.get("t"), options(rewrite_rules=rules))
    assert final.read_bytes() == data and final.name == "ofa_tiny.pt"
    assert [r.path for r in http_server.requests] == ["/lab-mirror/checkpoints/ofa_tiny.pt"]


def test_proxy_from_the_environment_is_used(tmp_path, models_dir, http_server, monkeypatch):
    # The test server plays the proxy: it sees absolute URLs and serves them by path.
    data = payload(3 * MiB)
    http_server.add("/via-proxy.pt", data, drop_after=1_000_000)
    monkeypatch.setenv("HTTP_PROXY", f"http://{http_server.netloc}")
    url = "http://checkpoints.example.invalid/via-proxy.pt"
    library = Library(models_dir, load(write_catalog(tmp_path / "c.json", [entry("p", url)])))
    assert run(library, library.catalog.get("p")).read_bytes() == data
    assert len(http_server.requests) >= 2 and all(r.path == url for r in http_server.requests)


def test_rate_option_parsing():
    assert [units.parse_rate(t) for t in ("5M", "500k", "1.5MiB/s", "0", "2048", "1G")] == [
        5 * MiB,
        500 * 1024,
        int(1.5 * MiB),
        0,
        2048,
        1024 * MiB,
    ]
    for bad in ("fast", "-1M", "5 T", ""):
        with pytest.raises(ValueError):
            units.parse_rate(bad)
    assert units.size(1932735283) == "1.8 GiB"


def test_a_redirect_to_a_local_file_is_refused(tmp_path, models_dir, http_server):
    route, library, m = setup(tmp_path, models_dir, http_server, b"x", redirect_to="file:///etc/passwd")
    with pytest.raises(DownloadError, match="unsupported URL"):
        run(library, m)
    assert not library.path(m).exists() and leftovers(models_dir) == []


def test_a_redirect_loop_fails_instead_of_spinning(tmp_path, models_dir, http_server):
    route, library, m = setup(tmp_path, models_dir, http_server, b"x")
    route.redirect_to = http_server.url(PATH)
    with pytest.raises(DownloadError, match="too many redirects"):
        run(library, m)
    assert 2 <= len(http_server.requests) <= 12


# -- credentials -------------------------------------------------------------------------------------------


def test_token_is_sent_to_its_host_only_and_not_after_a_redirect(
    tmp_path, models_dir, http_server, memory_keyring
):
    # Relies on the in-memory keyring fixture: no Secret Service runs on the test machine.
    data = payload(200_000)
    with TestServer() as other:
        other.add("/elsewhere.pt", data)
        http_server.add("/m.pt", data, redirect_to=other.url("/elsewhere.pt"))
        http_server.add("/direct.pt", data)
        memory_keyring.set_password("ofa-manager", http_server.netloc, "s3cret-token")
        catalog = write_catalog(
            tmp_path / "c.json",
            [entry("m", http_server.url("/m.pt")), entry("d", http_server.url("/direct.pt"))],
        )
        library = Library(models_dir, load(catalog))
        assert run(library, library.catalog.get("m")).read_bytes() == data
        assert run(library, library.catalog.get("d")).read_bytes() == data
        mine = http_server.requests
        theirs = other.requests
    assert mine and all(r.headers.get("authorization") == "Bearer s3cret-token" for r in mine)
    assert theirs and all("authorization" not in r.headers for r in theirs)


def test_token_of_the_redirect_target_goes_only_to_the_target(
    tmp_path, models_dir, http_server, memory_keyring
):
    data = payload(200_000)
    with TestServer() as other:
        other.add("/elsewhere.pt", data)
        http_server.add("/m.pt", data, redirect_to=other.url("/elsewhere.pt"))
        memory_keyring.set_password("ofa-manager", other.netloc, "their-token")
        catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
        library = Library(models_dir, load(catalog))
        assert run(library, library.catalog.get("m")).read_bytes() == data
        theirs = other.requests
    assert all("authorization" not in r.headers for r in http_server.requests)
    assert all(r.headers.get("authorization") == "Bearer their-token" for r in theirs)


def test_token_never_appears_in_errors_or_progress(tmp_path, models_dir, http_server, memory_keyring):
    http_server.add("/m.pt", b"x", statuses=[503, 503, 401])
    memory_keyring.set_password("ofa-manager", http_server.netloc, "s3cret-token")
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
    library = Library(models_dir, load(catalog))
    seen = []
    with pytest.raises(DownloadError) as info:
        run(library, library.catalog.get("m"), on_progress=seen.append)
    assert "401" in str(info.value)
    assert "s3cret" not in str(info.value) and not any("s3cret" in repr(p) for p in seen)


def test_downloads_work_without_a_keyring_backend(tmp_path, models_dir, http_server):
    data = payload(200_000)
    route, library, m = setup(tmp_path, models_dir, http_server, data)
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the memory_keyring fixture restores it
    assert run(library, m).read_bytes() == data
    assert all("authorization" not in r.headers for r in http_server.requests)
