"""Rules of one file's download (core/transfer.py) the flow tests leave loose: what a failure of every source
says, what the first answer must be, the words of the disk checks, the resume record, which partial data is
resumed (the loopback server of tests/httpserver.py misbehaves on purpose)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time

import pytest

import ofa_manager.core.transfer as transfer_module
from ofa_manager.core import units
from ofa_manager.core.file_status import State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.library import Library
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from tests.catalogs import MiB, entry, fast_options, load, payload, sha256, when_open, write_catalog
from tests.httpserver import crc64_xz, oss_headers
from tests.transfers import PATH, make_library, run_guarded

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def library_of(tmp_path, models_dir, *entries) -> Library:
    return Library(models_dir, load(write_catalog(tmp_path / "c.json", list(entries))))


def failure(library, m, **options) -> DownloadError:
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(**options)))
    return info.value


def test_every_source_failing_names_each_host_with_its_reason_and_keeps_the_last_kind(
    tmp_path, models_dir, http_server
):
    main, other = payload(1000), payload(999, 1)
    http_server.add("/main.pt", main, statuses=[404], headers=oss_headers(main))
    # The mirror's HEAD tells another size and another CRC-64 than the main URL's: it holds other bytes.
    http_server.add("/mirror.pt", other, headers=oss_headers(other))
    library = library_of(
        tmp_path,
        models_dir,
        entry("m", http_server.url("/main.pt"), title="Model M", mirrors=[http_server.url("/mirror.pt")]),
    )
    error = failure(library, library.catalog.get("m"), retries=0)
    host = normalise_host(http_server.url("/main.pt"))
    assert str(error) == (
        f"Model M: every source failed: {host}: 404 Not Found; "
        f"{host}: the mirror holds different bytes than {host} (size 999 bytes, not 1000; "
        f"CRC-64 {crc64_xz(other):016x}, not {crc64_xz(main):016x}); not used"
    )
    assert error.kind is ErrorKind.INTEGRITY
    assert [r.method for r in http_server.requests_for("/mirror.pt")] == ["HEAD"]


def test_a_mirror_whose_head_fails_is_still_tried_and_its_answer_reported(tmp_path, models_dir, http_server):
    http_server.add("/main.pt", payload(1000), statuses=[404])
    # A web page instead of the file, to the HEAD too: nothing to compare, the download itself says why.
    http_server.add("/mirror.pt", payload(1000), html_error=True)
    library = library_of(
        tmp_path,
        models_dir,
        entry("m", http_server.url("/main.pt"), title="Model M", mirrors=[http_server.url("/mirror.pt")]),
    )
    error = failure(library, library.catalog.get("m"), retries=0)
    host = normalise_host(http_server.url("/main.pt"))
    assert str(error) == (
        f"Model M: every source failed: {host}: 404 Not Found; "
        f"{host}: the server returned a web page, not a file (text/html)"
    )
    assert error.kind is ErrorKind.HTTP
    assert [r.method for r in http_server.requests_for("/mirror.pt")] == ["HEAD", "GET"]


def test_a_sources_own_failure_is_reported_as_it_is_when_there_is_no_other_source(
    tmp_path, models_dir, http_server
):
    http_server.add(PATH, payload(1000), statuses=[404])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m, retries=0)
    assert str(error) == "Model M: 404 Not Found" and error.kind is ErrorKind.HTTP


def test_a_folder_at_the_files_name_is_named_and_left_alone(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    library.path(m).mkdir()
    error = failure(library, m)
    assert str(error) == (
        f"Model M: a folder is at {library.path(m)}: ofa-manager neither follows nor replaces links or "
        "folders in the models folder; move it away, then download again"
    )
    assert error.kind is ErrorKind.NOT_OURS
    assert library.path(m).is_dir() and http_server.requests == []


def test_a_models_folder_that_cannot_be_made_is_named_with_the_systems_reason(tmp_path, http_server):
    http_server.add(PATH, payload(1000))
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a folder")
    library, m = make_library(tmp_path, blocker / "models", http_server.url(PATH))
    error = failure(library, m)
    assert str(error) == f"Model M: cannot use {blocker / 'models'}: Not a directory"
    assert error.kind is ErrorKind.DISK and http_server.requests == []


def test_a_file_not_downloaded_here_is_never_overwritten(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    library.path(m).write_bytes(b"someone else's bytes")
    error = failure(library, m)
    assert str(error).startswith(f"Model M: a different file is already at {library.path(m)} (20 Bytes)")
    assert error.kind is ErrorKind.NOT_OURS
    assert library.path(m).read_bytes() == b"someone else's bytes" and http_server.requests == []


def test_a_file_already_here_with_the_catalogs_size_and_sha256_is_adopted_without_a_request(
    tmp_path, models_dir, http_server
):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=1000, sha256=sha256(data))
    library.path(m).write_bytes(data)
    states = []
    final = run_guarded(Transfer(library, m, fast_options(), on_progress=lambda p: states.append(p.state)))
    assert final == library.path(m) and final.read_bytes() == data
    assert library.status(m).state is State.DOWNLOADED and http_server.requests == []
    assert "verifying" in states


def test_a_206_without_the_objects_size_is_refused(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000), statuses=[(206, {"Content-Range": "bytes 0-9/*"}, b"0123456789")])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m)
    assert str(error) == "Model M: the server sent an unusable Content-Range"
    assert error.kind is ErrorKind.ERROR


def test_a_206_from_another_byte_on_every_first_answer_gives_up_as_a_file_that_keeps_changing(
    tmp_path, models_dir, http_server
):
    shifted = (206, {"Content-Range": "bytes 5-9/1000"}, b"56789")
    http_server.add(PATH, payload(1000), statuses=[shifted] * 3)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m)
    assert str(error) == "Model M: the file keeps changing on the server; try again later"
    assert error.kind is ErrorKind.NETWORK
    gets = http_server.requests_for(PATH, "GET")
    # From byte 0 by range twice; then, as for a server naming each answer anew, one plain request.
    assert [r.range for r in gets] == ["bytes=0-", "bytes=0-", None]
    assert not library.part_path(m).exists()


def another_download_running(models_dir, size: int) -> None:
    """The resume record of another download into the same folder, running and with nothing written yet."""
    record = {"url": "http://elsewhere.invalid/o.pt", "size": size, "ranges": [], "running": True}
    record["updated"] = time.time()
    (models_dir / "other.pt.part.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.mark.parametrize("held", [4 * MiB, 6 * MiB], ids=["some-room-left", "none-left"])
def test_the_space_other_downloads_still_need_is_named_when_it_leaves_too_little(
    tmp_path, models_dir, http_server, monkeypatch, held
):
    http_server.add(PATH, payload(2 * MiB))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=2 * MiB)
    another_download_running(models_dir, held)
    # The folder's free space as a small volume would report it (this machine's disk is far larger).
    monkeypatch.setattr(transfer_module, "free_space", lambda path: 5 * MiB)
    error = failure(library, m)
    assert str(error) == (
        f"Model M: not enough disk space: needs 2.0 MiB, only {units.size(max(0, 5 * MiB - held))} free in "
        f"{models_dir} once the other downloads in progress have the {units.size(held)} they still need"
    )
    assert error.kind is ErrorKind.SPACE and http_server.requests == []


def test_a_file_that_exactly_fits_the_free_space_is_downloaded(
    tmp_path, models_dir, http_server, monkeypatch
):
    data = payload(2 * MiB)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    another_download_running(models_dir, MiB)
    monkeypatch.setattr(transfer_module, "free_space", lambda path: len(data) + MiB)
    assert run_guarded(Transfer(library, m, fast_options())).read_bytes() == data


def test_only_the_missing_part_of_a_partial_file_needs_room(tmp_path, models_dir, http_server, monkeypatch):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, drop_after=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    assert library.status(m).bytes == MiB
    # Room for the missing mebibyte only: resuming needs no more.
    monkeypatch.setattr(transfer_module, "free_space", lambda path: MiB)
    http_server.clear_requests()
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    assert [r.range for r in http_server.requests_for(PATH, "GET")] == [f"bytes={MiB}-"]
    assert route.drop_after is None


def test_a_file_another_download_holds_is_waited_for_and_a_pause_ends_the_wait(
    tmp_path, models_dir, http_server
):
    http_server.add(PATH, payload(1000))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=1000)
    lock = library.lock(m)
    lock.acquire()
    abort = threading.Event()
    waiting = []

    def on_progress(progress):  # the first report is the wait's; then the wait is paused
        waiting.append(progress)
        abort.set()

    try:
        with pytest.raises(Aborted):
            run_guarded(Transfer(library, m, fast_options(), abort=abort, on_progress=on_progress))
    finally:
        lock.release()
    first = waiting[0]
    assert first.state == "waiting"
    assert (first.done, first.total, first.speed, first.eta, first.connections) == (0, 1000, 0.0, None, 0)
    assert first.message == "model.pt is being downloaded by another process"
    assert first.url == http_server.url(PATH) and http_server.requests == []


def test_a_file_already_downloaded_is_not_asked_for_again(tmp_path, models_dir, http_server):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    run_guarded(Transfer(library, m, fast_options()))
    http_server.clear_requests()
    assert run_guarded(Transfer(library, m, fast_options())) == library.path(m)
    assert http_server.requests == [] and library.path(m).read_bytes() == data


def test_a_models_folder_not_made_yet_is_made(tmp_path, http_server):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, tmp_path / "not" / "yet", http_server.url(PATH))
    assert run_guarded(Transfer(library, m, fast_options())).read_bytes() == data


@pytest.mark.parametrize("known_sha", [True, False], ids=["sha256", "no-sha256"])
def test_the_resume_record_names_the_object_it_holds_data_of(tmp_path, models_dir, http_server, known_sha):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, drop_after=MiB, headers=oss_headers(data))
    fields = {"sha256": sha256(data)} if known_sha else {}
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **fields)
    before = time.time()
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    record = library.read_record(m)
    assert record["url"] == http_server.url(PATH) and record["size"] == len(data)
    assert record["etag"] == route.etag and record["last_modified"] == route.last_modified
    assert record["sha256"] == (sha256(data) if known_sha else None) and record["ranges"] == [[0, MiB]]
    assert record["running"] is False and before <= record["started"] <= record["updated"] <= time.time()
    # The server's CRC-64 is kept to check the file against only when the catalog has no sha256.
    server = {name: value for name, value in record.items() if name.startswith("server_")}
    assert server == ({} if known_sha else {"server_crc64": f"{crc64_xz(data):016x}"})


@pytest.mark.parametrize("known_sha", [True, False], ids=["sha256", "no-sha256"])
def test_a_partial_from_the_main_url_is_resumed_from_a_mirror_only_when_the_sha256_says_it_is_the_same(
    tmp_path, models_dir, http_server, known_sha
):
    data = payload(2 * MiB)
    http_server.add("/main.pt", data, drop_after=MiB)
    http_server.add("/mirror.pt", data)
    fields = {"sha256": sha256(data), "size": len(data)} if known_sha else {"size": len(data)}
    mirrors = [http_server.url("/mirror.pt")]
    library = library_of(
        tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=mirrors, **fields)
    )
    m = library.catalog.get("m")
    # No retries: the main URL's drop sends the download to the mirror at once, with the partial data.
    assert run_guarded(Transfer(library, m, fast_options(connections=1, retries=0))).read_bytes() == data
    (fetched,) = [r for r in http_server.requests_for("/mirror.pt", "GET")]
    assert fetched.range == (f"bytes={MiB}-" if known_sha else "bytes=0-")


def test_a_partial_file_shorter_than_its_record_says_is_fetched_anew(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add(PATH, data, drop_after=MiB + 1000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    os.truncate(library.part_path(m), MiB)
    http_server.clear_requests()
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    assert [r.range for r in http_server.requests_for(PATH, "GET")] == ["bytes=0-"]


def test_bad_data_never_waits_to_be_resumed(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, drop_after=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    assert library.status(m).state is State.PARTIAL
    route.data = payload(3 * MiB)  # the object changed into one the catalog does not describe
    error = failure(library, m)
    assert error.kind is ErrorKind.INTEGRITY
    assert not library.part_path(m).exists() and not library.record_path(m).exists()


@pytest.mark.parametrize("ignore_range", [False, True], ids=["206", "200"])
def test_a_server_file_of_another_size_than_the_catalogs_is_refused_with_both_sizes(
    tmp_path, models_dir, http_server, ignore_range
):
    http_server.add(PATH, payload(3000), ignore_range=ignore_range)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=2000)
    error = failure(library, m)
    assert str(error) == "Model M: the server's file is 2.9 KiB, the catalog says 2.0 KiB"
    assert error.kind is ErrorKind.INTEGRITY
    assert not library.part_path(m).exists() and not library.path(m).exists()


def test_a_range_ignoring_server_that_keeps_dropping_gives_up_and_keeps_the_data(
    tmp_path, models_dir, http_server
):
    data = payload(2 * MiB)
    http_server.add(PATH, data, ignore_range=True, drop_after=500_000, drop_times=5)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    error = failure(library, m, retries=1, connections=1)
    assert str(error) == "Model M: connection dropped mid-transfer (gave up after 2 attempts)"
    assert error.kind is ErrorKind.NETWORK
    assert library.part_path(m).exists()
    assert [r.range for r in http_server.requests_for(PATH, "GET")] == ["bytes=0-", "bytes=0-"]


def test_a_416_to_the_first_byte_of_a_fresh_download_is_retried_then_named(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000), statuses=[416] * 5)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m, retries=2)
    assert str(error) == "Model M: 416 Range Not Satisfiable (gave up after 3 attempts)"
    assert len(http_server.requests_for(PATH, "GET")) == 3


def test_an_object_that_grew_under_a_partial_without_validators_is_fetched_anew(
    tmp_path, models_dir, http_server
):
    # No ETag, no Last-Modified: the published sha256 makes resuming safe, so no If-Range is sent and the
    # grown object answers 206 with its new size.
    old, new = payload(MiB, 1), payload(2 * MiB, 2)
    route = http_server.add(PATH, old, etag=False, last_modified=False, drop_after=500_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), sha256=sha256(new))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    route.data = new
    http_server.clear_requests()
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == new
    assert [(r.range, r.status) for r in http_server.requests_for(PATH, "GET")] == [
        ("bytes=500000-", 206),
        ("bytes=0-", 206),
    ]


def test_a_file_here_with_a_sha256_but_no_size_in_the_catalog_is_not_adopted(
    tmp_path, models_dir, http_server
):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), sha256=sha256(data))
    library.path(m).write_bytes(data)
    error = failure(library, m)
    assert error.kind is ErrorKind.NOT_OURS and http_server.requests == []


def test_a_download_waits_for_the_lock_and_fetches_only_once_it_is_free(tmp_path, models_dir, http_server):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    lock = library.lock(m)
    lock.acquire()
    states, waited = [], threading.Event()

    def on_progress(progress):
        states.append(progress.state)
        if states.count("waiting") >= 2 or progress.state != "waiting":
            waited.set()

    outcome = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            run_guarded(Transfer(library, m, fast_options(), on_progress=on_progress))
        )
    )
    thread.start()
    try:
        assert waited.wait(60), "the download neither waited nor went on"  # a hang guard
        # It still waits (reporting it again and again): nothing was asked of the server.
        assert len(states) >= 2 and set(states) == {"waiting"} and http_server.requests == []
    finally:
        lock.release()
        thread.join()
    assert outcome == [library.path(m)] and library.path(m).read_bytes() == data


def test_a_private_buckets_mirror_is_compared_with_the_token_too(
    tmp_path, models_dir, http_server, memory_keyring
):
    # Relies on the in-memory keyring fixture: no Secret Service runs on the test machine.
    main, other = payload(1000), payload(999, 1)
    http_server.add("/main.pt", main, statuses=[404], require_token="tok")
    http_server.add("/mirror.pt", other, require_token="tok")
    memory_keyring.set_password("ofa-manager", http_server.netloc, "tok")
    library = library_of(
        tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])
    )
    error = failure(library, library.catalog.get("m"), retries=0)
    assert error.kind is ErrorKind.INTEGRITY and "holds different bytes" in str(error)
    assert [(r.path, r.method, r.status) for r in http_server.requests] == [
        ("/main.pt", "GET", 404),
        ("/main.pt", "HEAD", 200),
        ("/mirror.pt", "HEAD", 200),
    ]
    assert all(r.headers.get("authorization") == "Bearer tok" for r in http_server.requests)


@pytest.mark.parametrize("crc", ["right", "wrong"])
@pytest.mark.parametrize("kind", ["crc64", "md5"])
def test_a_complete_partial_is_finished_offline_against_the_fingerprint_its_record_kept(
    tmp_path, models_dir, http_server, crc, kind
):
    # The CRC-64, or the MD5 of a server that sends no CRC-64: what the first answer said, kept in the record.
    data = payload(MiB)
    route = http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    library.part_path(m).write_bytes(data)
    if kind == "crc64":
        kept = f"{crc64_xz(data) ^ (0 if crc == 'right' else 1):016x}"
    else:
        kept = hashlib.md5(data if crc == "right" else data[:-1]).hexdigest()
    record = {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None}
    library.write_record(m, {**record, "ranges": [[0, len(data)]], f"server_{kind}": kept})
    if crc == "right":
        assert run_guarded(Transfer(library, m, fast_options())).read_bytes() == data
    else:
        assert failure(library, m).kind is ErrorKind.INTEGRITY
        assert not library.path(m).exists()
    assert http_server.requests == []


def test_after_an_if_range_answered_with_the_whole_new_object_more_connections_still_help(
    tmp_path, models_dir, http_server
):
    old, new = payload(4 * MiB, 1), payload(4 * MiB, 2)
    route = http_server.add(PATH, old, drop_after=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    route.data = new
    # The new object's answer holds still after 256 KiB: the other connections get their shares meanwhile.
    route.stall_after, route.stall_seconds = 256 * 1024, 1.5
    http_server.clear_requests()
    options = fast_options(connections=4, min_segment=256 * 1024, min_speed=0)
    assert run_guarded(Transfer(library, m, options)).read_bytes() == new
    first, *others = http_server.requests_for(PATH, "GET")
    assert first.range == f"bytes={MiB}-" and first.if_range is not None and first.status == 200
    assert others and all(r.status == 206 and r.if_range == route.etag for r in others)


def test_the_partial_file_has_the_objects_size_from_the_first_answer(tmp_path, models_dir, http_server):
    # At most 512 KiB/s: the first progress comes long before the 2 MiB have arrived.
    http_server.add(PATH, payload(2 * MiB), rate=512 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    abort = threading.Event()
    sizes = []

    def on_progress(progress):
        if progress.state == "downloading" and not sizes:
            sizes.append((progress.done, library.part_path(m).stat().st_size))
            abort.set()

    with pytest.raises(Aborted):
        run_guarded(Transfer(library, m, fast_options(connections=1), abort=abort, on_progress=on_progress))
    ((done, size),) = sizes
    assert done < 2 * MiB and size == 2 * MiB


def test_a_main_url_that_fails_its_head_too_leaves_nothing_to_compare_and_the_mirror_is_used(
    tmp_path, models_dir, http_server
):
    data = payload(1000)
    http_server.add("/main.pt", data, statuses=[404, 404])  # the download's GET, then the comparing HEAD
    http_server.add("/mirror.pt", data)
    library = library_of(
        tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])
    )
    assert (
        run_guarded(Transfer(library, library.catalog.get("m"), fast_options(retries=0))).read_bytes() == data
    )


def test_a_pause_while_a_mirror_is_asked_for_its_fingerprints_takes_effect_at_once(
    tmp_path, models_dir, http_server
):
    # The mirror accepts the connection and never answers: only shutting the transfer's sockets down wakes
    # its HEAD (the timeout is an hour).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(60)  # a hang guard
    http_server.add("/main.pt", payload(1000), statuses=[404])
    mirror = f"http://127.0.0.1:{listener.getsockname()[1]}/mirror.pt"
    library = library_of(tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=[mirror]))
    abort = threading.Event()
    transfer = Transfer(
        library, library.catalog.get("m"), fast_options(retries=0, timeout=3600.0), abort=abort
    )
    outcome = []

    def work():
        try:
            transfer.run()
        except (Aborted, DownloadError) as exc:
            outcome.append(type(exc).__name__)

    worker = threading.Thread(target=work)
    worker.start()
    accepted = []
    try:
        accepted.append(listener.accept()[0])
        accepted[0].settimeout(60)
        assert accepted[0].recv(4096).startswith(b"HEAD /mirror.pt ")
        abort.set()
        worker.join(30)  # a hang guard: far less than the hour the HEAD would wait
        assert not worker.is_alive() and outcome == ["Aborted"]
    finally:
        for connection in accepted:  # a HEAD still waiting fails now
            connection.close()
        listener.close()
        abort.set()
        worker.join()


def test_a_mirror_that_never_answers_its_head_is_given_up_after_the_transfers_timeout(
    tmp_path, models_dir, http_server
):
    # The kernel accepts the connection (the listener never does): nothing is ever answered.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        http_server.add("/main.pt", payload(1000), statuses=[404])
        mirror = f"http://127.0.0.1:{listener.getsockname()[1]}/mirror.pt"
        library = library_of(tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=[mirror]))
        options = fast_options(retries=0, timeout=0.5)
        with pytest.raises(DownloadError) as info:
            # A hang guard far beyond the half-second timeouts of the HEAD and the GET, far below the
            # 15 s a HEAD waits by default.
            run_guarded(Transfer(library, library.catalog.get("m"), options), limit=10)
        assert str(info.value).startswith("M: every source failed: ")
    finally:
        listener.close()


NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class MainUrlHoldingItsHead:
    """The main URL's server: each GET answered 404 at once, each HEAD held unanswered until the end (only a
    timeout, or shutting the transfer's sockets down, wakes it)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(60)  # a hang guard
        self.head_asked = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, name="test-main-url")
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def _serve(self):
        while True:
            try:
                connection = self.listener.accept()[0]
            except OSError:
                return
            connection.settimeout(60)
            request = connection.recv(4096)
            if request.startswith(b"HEAD "):
                self.held.append(connection)
                self.head_asked.set()
            else:
                connection.sendall(NOT_FOUND)
                connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.listener.fileno() != -1:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
            self.listener.close()
        self.thread.join()
        for connection in self.held:  # a HEAD still waiting fails now
            connection.close()


def test_the_main_urls_head_before_a_mirror_is_given_up_after_the_transfers_timeout(
    tmp_path, models_dir, http_server
):
    data = payload(1000)
    http_server.add("/mirror.pt", data)
    with MainUrlHoldingItsHead() as main:
        library = library_of(
            tmp_path, models_dir, entry("m", main.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])
        )
        # A hang guard far beyond the half-second timeouts, far below the 15 s a HEAD waits by default.
        final = run_guarded(
            Transfer(library, library.catalog.get("m"), fast_options(retries=0, timeout=0.5)), limit=10
        )
        assert main.head_asked.is_set()
    # The main URL told nothing to compare with: the mirror is used.
    assert final.read_bytes() == data


def test_a_pause_while_the_main_url_is_asked_for_its_fingerprints_takes_effect_at_once(
    tmp_path, models_dir, http_server
):
    http_server.add("/mirror.pt", payload(1000))
    with MainUrlHoldingItsHead() as main:
        library = library_of(
            tmp_path, models_dir, entry("m", main.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])
        )
        abort = threading.Event()
        # The HEAD waits an hour: only shutting the transfer's own sockets down wakes it.
        transfer = Transfer(
            library, library.catalog.get("m"), fast_options(retries=0, timeout=3600.0), abort=abort
        )
        outcome = []

        def work():
            try:
                transfer.run()
            except (Aborted, DownloadError) as exc:
                outcome.append(type(exc).__name__)

        worker = threading.Thread(target=work)
        worker.start()
        try:
            assert main.head_asked.wait(60)
            abort.set()
            worker.join(30)  # a hang guard: far less than the hour the HEAD would wait
            assert not worker.is_alive() and outcome == ["Aborted"]
        finally:
            abort.set()
            main.close()
            worker.join()
    assert "GET" not in [r.method for r in http_server.requests_for("/mirror.pt")]


@pytest.mark.parametrize("record", [False, True], ids=["fresh", "record-of-no-bytes"])
def test_a_server_advertising_ranges_it_ignores_is_read_on_one_connection(
    tmp_path, models_dir, http_server, record
):
    # Every GET is answered 200 with the whole object, yet with "Accept-Ranges: bytes": only a 200 to an
    # If-Range request (the object changed) lets more connections ask for ranges.
    data = payload(4 * MiB)
    route = http_server.add(PATH, data, ignore_range=True, headers={"Accept-Ranges": "bytes"})
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    if record:  # a record of this very object that holds no byte yet: nothing to resume, no If-Range
        library.part_path(m).write_bytes(b"")
        library.write_record(
            m, {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None, "ranges": []}
        )
    final = run_guarded(Transfer(library, m, fast_options(connections=4, min_segment=MiB)))
    assert final.read_bytes() == data
    gets = [r for r in http_server.requests_for(PATH) if r.method == "GET"]
    assert len(gets) == 1 and "if-range" not in gets[0].headers


def test_the_request_for_the_first_answer_is_reported_as_connecting(tmp_path, models_dir, http_server):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    states = []
    final = run_guarded(Transfer(library, m, fast_options(), on_progress=lambda p: states.append(p.state)))
    assert final.read_bytes() == data
    assert states[0] == "connecting" and states[-1] == "done"


@pytest.mark.parametrize("ranges", [[], [[MiB, 2 * MiB]]], ids=["no-bytes", "second-half"])
def test_a_416_to_a_resume_of_a_known_size_starts_over_at_once_not_as_a_retry(
    tmp_path, models_dir, http_server, ranges
):
    # The object the record names no longer has the byte asked for: no retry is spent on it (none is left).
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, statuses=[416])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    library.part_path(m).write_bytes(bytes(MiB) + data[MiB:] if ranges else b"")
    record = {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None, "ranges": ranges}
    library.write_record(m, record)
    final = run_guarded(Transfer(library, m, fast_options(retries=0, connections=1)))
    assert final.read_bytes() == data
    gets = [r for r in http_server.requests_for(PATH) if r.method == "GET"]
    assert [(r.status, r.headers.get("range"), "if-range" in r.headers) for r in gets] == [
        (416, "bytes=0-", bool(ranges)),
        (206, "bytes=0-", False),
    ]


def test_a_web_page_as_the_first_answer_is_named_with_the_checkpoint_and_its_type(
    tmp_path, models_dir, http_server
):
    http_server.add(PATH, b"<html>log in</html>", content_type="text/html; charset=utf-8")
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m)
    assert str(error) == f"{m.title}: the server returned a web page, not a file (text/html)"
    assert error.kind is ErrorKind.HTTP


def test_a_first_request_that_cannot_connect_is_named_with_the_networks_reason(tmp_path, models_dir):
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}{PATH}"
        library, m = make_library(tmp_path, models_dir, url)
        error = failure(library, m, retries=0)
    assert str(error) == f"{m.title}: connection refused (gave up after 1 attempt)"
    assert error.kind is ErrorKind.NETWORK


def test_a_size_only_the_server_gives_is_checked_against_the_free_space(tmp_path, models_dir, http_server):
    # The catalog gives no size; the server's first answer says 1 PiB (and the folder has far less).
    http_server.add(PATH, payload(1000), statuses=[(200, {"Content-Length": str(2**50)}, b"")])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    error = failure(library, m)
    assert str(error).startswith("Model M: not enough disk space: needs 1.0 PiB, only ")
    assert error.kind is ErrorKind.SPACE
    assert len(http_server.requests_for(PATH, "GET")) == 1
    assert not library.part_path(m).exists() and not library.path(m).exists()


@pytest.mark.parametrize("connections", [2, 3])
def test_as_many_connections_as_asked_open_at_once_each_on_its_own_range(
    tmp_path, models_dir, http_server, connections
):
    # Every answer holds after its first 1000 bytes until the test has seen what it waits for, so the count
    # of requests in flight does not depend on the machine's pace.
    data = payload(4 * MiB)
    release = threading.Event()
    route = http_server.add(PATH, data, stall_after=1000, stall_until=release, stall_times=connections)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    outcome: list = []
    options = fast_options(connections=connections, min_segment=256 * 1024, timeout=30.0)
    thread = threading.Thread(target=lambda: outcome.append(run_guarded(Transfer(library, m, options))))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(http_server.requests_for(PATH, "GET")) < connections and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # a connection too many would show up here
        in_flight = http_server.requests_for(PATH, "GET")
    finally:
        release.set()
        thread.join(70)
    assert len(in_flight) == connections
    starts = sorted(int(r.range.split("=")[1].split("-")[0]) for r in in_flight)
    assert starts[0] == 0 and len(set(starts)) == connections
    assert outcome and outcome[0].read_bytes() == data
    assert route.stall_after is None  # every held answer was one of these


def test_a_partial_from_an_earlier_run_with_only_a_last_modified_date_is_resumed_under_it(
    tmp_path, models_dir, http_server
):
    # A weak ETag cannot guard a resume, and no sha256 is published: the record's Last-Modified date is what
    # tells whether the partial data still belongs to the server's object.
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, etag='W/"weak"', drop_after=600_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    with pytest.raises(DownloadError):
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    assert json.loads(library.record_path(m).read_text())["last_modified"] == route.last_modified
    http_server.clear_requests()
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    (again,) = http_server.requests_for(PATH, "GET")
    assert again.range == "bytes=600000-" and again.if_range == route.last_modified
    assert again.status == 206 and again.bytes_sent == len(data) - 600_000


def test_a_resume_record_that_cannot_be_saved_ends_the_download_at_once_and_says_why(
    tmp_path, models_dir, http_server
):
    # The server holds its answer after 300 KB until the test lets it go (only after the transfer returned, or
    # after the guard): the error must wake the held connection, not wait for its 120 s read timeout.
    release = threading.Event()
    http_server.add(PATH, payload(4 * MiB), stall_after=300_000, stall_until=release)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    outcome: list = []

    def work():
        try:
            Transfer(library, m, fast_options(connections=1, timeout=120.0, min_speed=0)).run()
        except DownloadError as exc:
            outcome.append(exc)

    runner = threading.Thread(target=work)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while not library.read_record(m).get("ranges") and time.monotonic() < deadline:
            time.sleep(0.02)
        record = library.record_path(m)
        record.unlink()
        record.mkdir()  # where the next save of the record must go
        runner.join(30)
        ended = not runner.is_alive()
    finally:
        release.set()
        runner.join(60)
    assert ended
    (error,) = outcome
    assert str(error).startswith(f"Model M: a folder is at {record} where ofa-manager keeps its own file")
    assert record.is_dir() and library.part_path(m).exists()  # the folder left alone, the data kept


GIB_OF_ZEROS_SHA256 = "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"


def test_every_obstacle_at_the_files_names_is_named_in_one_message(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    models_dir.mkdir(parents=True, exist_ok=True)
    library.part_path(m).mkdir()
    library.record_path(m).symlink_to(tmp_path / "somewhere.json")
    obstacles = library.obstacles(m)
    assert len(obstacles) == 2
    error = failure(library, m)
    assert str(error) == (
        f"Model M: {obstacles[0]}; {obstacles[1]}: ofa-manager neither follows nor replaces links or folders "
        "in the models folder; move it away, then download again"
    )
    assert error.kind is ErrorKind.NOT_OURS and http_server.requests == []


def test_a_mirror_holding_other_bytes_is_skipped_and_the_next_one_used(tmp_path, models_dir, http_server):
    data, other = payload(1000), payload(1000, 1)
    http_server.add("/main.pt", data, statuses=[404], headers=oss_headers(data))
    http_server.add("/other.pt", other, headers=oss_headers(other))
    http_server.add("/good.pt", data, headers=oss_headers(data))
    mirrors = [http_server.url("/other.pt"), http_server.url("/good.pt")]
    library = library_of(tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=mirrors))
    m = library.catalog.get("m")
    final = run_guarded(Transfer(library, m, fast_options(retries=0)))
    assert final.read_bytes() == data
    assert [r.method for r in http_server.requests_for("/other.pt")] == ["HEAD"]
    assert "GET" in [r.method for r in http_server.requests_for("/good.pt")]


def test_when_every_source_fails_the_kind_is_the_last_sources(tmp_path, models_dir, http_server):
    data, other = payload(1000), payload(1000, 1)
    http_server.add("/main.pt", data, statuses=[404], headers=oss_headers(data))
    http_server.add("/other.pt", other, headers=oss_headers(other))  # skipped: an integrity error
    http_server.add("/gone.pt", data, statuses=[404] * 5)  # its HEAD fails too, so it is tried: 404
    mirrors = [http_server.url("/other.pt"), http_server.url("/gone.pt")]
    library = library_of(tmp_path, models_dir, entry("m", http_server.url("/main.pt"), mirrors=mirrors))
    error = failure(library, library.catalog.get("m"), retries=0)
    assert str(error).count("404 Not Found") == 2 and "the mirror holds different bytes" in str(error)
    assert error.kind is ErrorKind.HTTP


def test_a_file_finished_by_another_process_while_this_one_waited_is_not_fetched_again(
    tmp_path, models_dir, http_server
):
    data = payload(1000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=1000, sha256=sha256(data))
    models_dir.mkdir(parents=True, exist_ok=True)
    other = library.lock(m)  # the other process's hold on the file (a lock is per open file, even here)
    other.acquire()
    waiting = threading.Event()
    outcome: dict = {}

    def run():
        try:
            outcome["path"] = Transfer(
                library, m, fast_options(), on_progress=lambda p: p.state == "waiting" and waiting.set()
            ).run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert waiting.wait(30)
        library.path(m).write_bytes(data)  # the other process finishes and records its download
        assert library.adopt(m)
    finally:
        other.release()
        thread.join(60)
    assert outcome == {"path": library.path(m)}
    assert library.path(m).read_bytes() == data and http_server.requests == []


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="watches the process's open files in /proc")
def test_a_pause_while_a_file_found_here_is_checked_stops_the_check_and_adopts_nothing(
    tmp_path, models_dir, http_server
):
    http_server.add(PATH, b"")
    library, m = make_library(
        tmp_path, models_dir, http_server.url(PATH), size=2**30, sha256=GIB_OF_ZEROS_SHA256
    )
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(library.path(m), "wb") as fh:
        fh.truncate(2**30)  # the right bytes, sparse: a second or more to hash
    transfer = Transfer(library, m, fast_options())
    with when_open([library.path(m)], lambda _: transfer.abort.set()), pytest.raises(Aborted):
        run_guarded(transfer)
    assert library.status(m).state is State.FOREIGN  # not adopted: the check did not finish
    assert not library.meta_path(m).exists() and http_server.requests == []
