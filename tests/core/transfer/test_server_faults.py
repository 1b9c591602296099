"""Servers that misbehave: error statuses and Retry-After, stalls and trickles, web pages and compressed
bodies, redirects, no length."""

from __future__ import annotations

import time

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError, RateLimiter
from tests.catalogs import MiB, RequestClock, entry, fast_options, leftovers, load, payload, write_catalog
from tests.transfers import PATH, gets, make_library, options, range_start, run, run_guarded, setup

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_stall_timeout_reconnects_and_completes(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route, library, m = setup(
        tmp_path, models_dir, http_server, data, stall_after=1_200_000, stall_seconds=3600
    )
    # Behaviour, not speed: the transfer gives up on the stalled connection instead of waiting out the hour
    # (run's hang guard fails the test long before).
    final = run(library, m, options(connections=1, timeout=0.5))
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
    with pytest.raises(DownloadError) as info:
        run(library, m)
    assert str(info.value) == (
        "Model M: the server sent the file compressed (Content-Encoding: gzip) although asked for it as is; "
        "those bytes are not the checkpoint"
    )
    assert info.value.kind is ErrorKind.HTTP
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


@pytest.mark.parametrize("faults", [{}, {"ignore_range": True}], ids=["ranges", "no-ranges"])
def test_an_empty_object_downloads_as_an_empty_file(tmp_path, models_dir, http_server, faults):
    http_server.add(PATH, b"", **faults)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    final = Transfer(library, m, options()).run()
    assert final.read_bytes() == b""
    assert library.status(m).state is State.DOWNLOADED
    assert len(http_server.requests) <= 2  # not a loop of 416s


def test_a_body_trickling_below_the_floor_is_a_stall_and_a_new_connection_finishes_it(
    tmp_path, models_dir, http_server
):
    data = payload(2 * MiB)
    # After 1 MiB the server sends 300 bytes a second, a piece every 50 ms: no read ever times out.
    http_server.add(PATH, data, trickle_after=MiB, trickle_rate=300)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    # A 3 s window: a loaded machine that stops this process for a second must not look like a stall
    # before the trickle starts (the resumed request would then start below 1 MiB).
    options = fast_options(connections=1, timeout=3.0, min_speed=1024)
    final = run_guarded(Transfer(library, m, options, on_progress=progress.append))
    assert final.read_bytes() == data
    gets = http_server.requests_for(PATH, "GET")
    assert len(gets) == 2
    # Resumed where the first answer was cut, not started over (normally in the trickle, past 1 MiB; a
    # machine too loaded to read for the whole window may cut it earlier, which is a stall too).
    assert 0 < range_start(gets[1]) <= gets[0].bytes_sent
    stalls = [p.message for p in progress if p.state == "stalled"]
    assert stalls and all("under 1.0 KiB/s for 3 s" in text for text in stalls)


def test_a_trickle_that_never_ends_fails_after_the_retries_like_any_stall(tmp_path, models_dir, http_server):
    data = payload(MiB)
    http_server.add(PATH, data, trickle_after=100_000, trickle_rate=200, trickle_times=100)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=1, timeout=0.5, retries=2, min_speed=1024)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, options))
    assert str(info.value) == (
        "Model M: stalled: under 1.0 KiB/s for 0.5 s (no byte counts below that speed) "
        "(gave up after 3 attempts)"
    )
    # The bytes each trickle brought did not count as "data flowing again": three attempts in all.
    assert len(http_server.requests_for(PATH, "GET")) == 3
    assert library.status(m).state is State.PARTIAL  # what did arrive is kept for a later resume


def test_a_connection_slowed_by_the_bandwidth_limit_is_not_taken_for_a_stall(
    tmp_path, models_dir, http_server
):
    data = payload(256 * 1024)
    # The server could send 72 KiB/s; the user's limit lets 64 KiB/s through, under a 128 KiB/s floor.
    # (The server is barely faster than the limit, so the kernel holds little unread: a connection cut
    # for slowness would soon read its end and show as a stall.)
    http_server.add(PATH, data, rate=72 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, timeout=0.5, retries=1, min_speed=128 * 1024)
    transfer = Transfer(library, m, options, limiter=RateLimiter(64 * 1024), on_progress=progress.append)
    assert run_guarded(transfer).read_bytes() == data
    assert len(http_server.requests_for(PATH, "GET")) == 1
    assert not [p for p in progress if p.state == "stalled"]


def test_a_slow_connection_above_the_floor_is_not_cut(tmp_path, models_dir, http_server):
    data = payload(12 * 1024)
    # 3 KiB/s, a KiB at a time: above a 1 KiB/s floor, though far less than one usual read in the
    # 2 s window; the floor must see the bytes arrive, not wait for a read that takes longer.
    http_server.add(PATH, data, rate=3 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, timeout=2.0, retries=1, min_speed=1024)
    assert run_guarded(Transfer(library, m, options, on_progress=progress.append)).read_bytes() == data
    assert len(http_server.requests_for(PATH, "GET")) == 1
    assert not [p for p in progress if p.state == "stalled"]
