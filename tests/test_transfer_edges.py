"""Edge cases of transfers and verification: empty objects, repeated drops, foreign files, prompt stops."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue, ItemState
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError
from tests.catalogs import MiB, engine_threads, entry, fast_options, load, payload, rot, write_catalog

PATH = "/ckpt/model.pt"


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


options = fast_options


def make_library(tmp_path, models_dir, url, name="catalog.json", **fields):
    catalog = write_catalog(tmp_path / name, [entry("m", url, title="Model M", **fields)])
    library = Library(models_dir, load(catalog))
    return library, library.catalog.get("m")


@pytest.mark.parametrize("faults", [{}, {"ignore_range": True}], ids=["ranges", "no-ranges"])
def test_an_empty_object_downloads_as_an_empty_file(tmp_path, models_dir, http_server, faults):
    http_server.add(PATH, b"", **faults)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    final = Transfer(library, m, options()).run()
    assert final.read_bytes() == b""
    assert library.status(m).state is State.DOWNLOADED
    assert len(http_server.requests) <= 2  # not a loop of 416s


def test_range_ignoring_server_with_known_size_survives_several_drops(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, ignore_range=True, drop_after=500_000, drop_times=4)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=len(data))
    final = Transfer(library, m, options(retries=5, connections=4)).run()
    assert final.read_bytes() == data
    assert route.gets == 5  # four broken streams, each restarted from byte 0, then a whole one


def test_body_longer_than_the_catalog_size_is_refused(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add(PATH, data, no_length=True)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=MiB)
    with pytest.raises(DownloadError, match="more than the catalog's size"):
        Transfer(library, m, options()).run()
    assert not library.path(m).exists() and not library.part_path(m).exists()


def test_second_verify_does_not_bless_a_damaged_file(tmp_path, models_dir, http_server):
    data = payload(MiB)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))  # no sha256 in the catalog
    final = Transfer(library, m, options()).run()
    rot(final, 1000, b"\xff" * 16)
    assert library.verify(m).state is State.CORRUPT
    assert library.verify(m).state is State.CORRUPT


def test_a_file_fetched_for_another_url_is_not_taken_for_this_entry(tmp_path, models_dir, http_server):
    old, new = payload(MiB, 1), payload(MiB, 2)
    http_server.add("/v1/model.pt", old)
    http_server.add("/v2/model.pt", new)
    library, m = make_library(tmp_path, models_dir, http_server.url("/v1/model.pt"), "v1.json")
    Transfer(library, m, options()).run()
    other, m2 = make_library(tmp_path, models_dir, http_server.url("/v2/model.pt"), "v2.json")
    assert other.path(m2) == library.path(m)  # same file name from two catalogs
    assert other.status(m2).state is State.FOREIGN and "another link" in other.status(m2).reason
    with pytest.raises(DownloadError, match="a different file is already at"):
        Transfer(other, m2, options()).run()
    assert library.path(m).read_bytes() == old  # the other catalog's file is left alone


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
        # Once all four connections are streaming (before the first drop at 1.5 MB), the server breaks.
        deadline = time.monotonic() + 30
        while len({r.connection for r in http_server.requests_for(PATH, "GET") if r.bytes_sent}) < 4:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        route.statuses = [(503, {"Retry-After": "30"}, b"busy")] + [404] * 20

    threading.Thread(target=break_later, daemon=True).start()
    with pytest.raises(DownloadError, match="404"):
        Transfer(library, m, options(connections=4, retries=5, min_segment=256 * 1024)).run()
    assert time.monotonic() - started < 15  # not held back by the 30 s Retry-After of another connection


def test_pause_while_waiting_for_the_answer_takes_effect_at_once(tmp_path, models_dir):
    # A server that accepts the connection and never answers: only a socket shutdown wakes the request.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        library, m = make_library(tmp_path, models_dir, f"http://127.0.0.1:{port}/model.pt")
        abort = threading.Event()
        transfer = Transfer(library, m, options(timeout=30.0), abort=abort)
        outcome = []
        worker = threading.Thread(target=lambda: outcome.append(_run(transfer)), daemon=True)
        worker.start()
        deadline = time.monotonic() + 5
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert accepted, "the transfer never connected"
        # The request has been sent: the transfer is now waiting for an answer that never comes.
        accepted[0].settimeout(5)
        assert accepted[0].recv(1, socket.MSG_PEEK), "the transfer never sent its request"
        paused_at = time.monotonic()
        abort.set()
        worker.join(10)
        assert not worker.is_alive()
        assert time.monotonic() - paused_at < 2.0  # not the 30 s stall timeout
        assert outcome == ["aborted"]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def _run(transfer: Transfer) -> str:
    try:
        transfer.run()
    except Aborted:
        return "aborted"
    return "done"


def test_progress_never_goes_backwards_across_reconnects(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    http_server.add(PATH, data, rate=2_000_000, drop_after=1_000_000, drop_times=2)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    seen: list[int] = []

    def on_event(event):
        if event.item is not None and event.item.state in (
            ItemState.DOWNLOADING,
            ItemState.STALLED,
            ItemState.CONNECTING,
        ):
            seen.append(event.item.done)

    queue = DownloadQueue(library, options(connections=1), on_event=on_event)
    try:
        queue.add([m])
        assert queue.wait(30)
    finally:
        queue.shutdown()
    assert queue.get(queue.key_for(m)).state is ItemState.DONE
    assert seen and max(seen) > 0
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False)), seen
