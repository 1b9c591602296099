"""Speed and progress: the bandwidth limit, progress reports, a prompt pause."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ofa_manager.core import units
from ofa_manager.core.queue import DownloadQueue, ItemState
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, RateLimiter
from tests.catalogs import MiB, body_requests, payload
from tests.transfers import PATH, make_library, options, run, run_outcome, setup

pytestmark = pytest.mark.usefixtures("engine_threads_end")


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
    moved = []

    def on_progress(progress):
        if progress.state == "downloading" and progress.done > 0 and not moved:
            moved.append(progress.done)
            abort.set()

    with pytest.raises(Aborted):
        run(library, m, options(connections=1), abort=abort, on_progress=on_progress)
    # Reads of a whole chunk would first report the whole file, after 8 s; whatever the machine's load, the
    # first progress comes after a read of a fraction of it.
    assert moved and moved[0] < 1 * MiB
    assert 0 < library.status(m).bytes < 1 * MiB


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
        transfer = Transfer(library, m, options(timeout=3600.0), abort=abort)
        outcome = []
        worker = threading.Thread(target=lambda: outcome.append(run_outcome(transfer)), daemon=True)
        worker.start()
        deadline = time.monotonic() + 60  # hang guards, generous for a loaded machine
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert accepted, "the transfer never connected"
        # The request has been sent: the transfer is now waiting for an answer that never comes.
        accepted[0].settimeout(60)
        assert accepted[0].recv(1, socket.MSG_PEEK), "the transfer never sent its request"
        abort.set()
        worker.join(60)  # a hang guard: without the socket shut down it would wait out the hour's timeout
        assert not worker.is_alive()
        assert outcome == ["aborted"]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


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
