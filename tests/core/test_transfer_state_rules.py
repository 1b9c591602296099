"""What one file's download holds and shares (core/transfer_state.py): the waits between attempts, the
resume record it leaves, the partial file replaced under it, the progress figures it reports."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from ofa_manager.core import transfer_state
from ofa_manager.core.segments import _Plan
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from tests.catalogs import MiB, engine_threads, fast_options, payload, sha256, wait_for
from tests.transfers import PATH, make_library, run_guarded


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def test_the_wait_doubles_from_the_base_up_to_the_cap_and_is_drawn_between_half_and_all_of_it(
    tmp_path, models_dir, http_server, monkeypatch
):
    # The jitter is random: the bounds the engine draws between are what is checked (the draw is the top).
    drawn = []

    def uniform(low, high):
        drawn.append((low, high))
        return high

    monkeypatch.setattr(transfer_state.random, "uniform", uniform)
    data = payload(1000)
    http_server.add(PATH, data, statuses=[503] * 4)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=1, retries=4, backoff_base=0.01, backoff_max=0.03)
    assert run_guarded(Transfer(library, m, options)).read_bytes() == data
    assert drawn == [
        pytest.approx((0.005, 0.01)),
        pytest.approx((0.01, 0.02)),
        pytest.approx((0.015, 0.03)),
        pytest.approx((0.015, 0.03)),
    ]


def test_the_last_attempt_fails_with_the_count_and_the_network_kind(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000), statuses=[503] * 10)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=1000)
    seen = []
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=1), on_progress=seen.append))
    assert str(info.value).endswith("503 Service Unavailable (gave up after 2 attempts)")
    assert info.value.kind is ErrorKind.NETWORK
    assert len(http_server.requests_for(PATH, "GET")) == 2
    # The one wait between the two attempts, announced with the catalog's size and the reason.
    [wait] = [p for p in seen if p.state == "stalled"]
    assert (wait.done, wait.total, wait.speed, wait.eta, wait.connections) == (0, 1000, 0.0, None, 0)
    assert wait.message == "503 Service Unavailable; retrying in 0 s"
    assert wait.url == http_server.url(PATH)


def test_a_status_that_no_retry_can_mend_fails_at_once_as_an_http_error(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000), statuses=[404] * 3)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=3)))
    assert str(info.value) == "Model M: 404 Not Found" and info.value.kind is ErrorKind.HTTP
    assert len(http_server.requests_for(PATH, "GET")) == 1


def stopped_download(tmp_path, models_dir, http_server, **route):
    """A download stopped once some bytes are on disk; its record as left behind."""
    data = payload(2 * MiB)
    http_server.add(PATH, data, rate=MiB, **route)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    abort = threading.Event()

    def on_progress(progress):
        if progress.done >= 200_000:
            abort.set()

    transfer = Transfer(library, m, fast_options(connections=1), abort=abort, on_progress=on_progress)
    with pytest.raises(Aborted):
        run_guarded(transfer)
    return library.read_record(m), len(data)


def test_a_stopped_download_leaves_a_record_of_what_it_holds_that_holds_no_space(
    tmp_path, models_dir, http_server
):
    record, size = stopped_download(tmp_path, models_dir, http_server)
    assert record["running"] is False  # other downloads no longer count it against the free space
    assert record["size"] == size
    [[start, end]] = record["ranges"]
    assert start == 0 and 200_000 <= end < size
    assert isinstance(record["updated"], float) and record["updated"] >= record["started"]


def test_a_stopped_stream_of_unknown_length_records_nothing_to_resume(tmp_path, models_dir, http_server):
    record, _ = stopped_download(tmp_path, models_dir, http_server, no_length=True, ignore_range=True)
    assert record["running"] is False and record["size"] is None
    assert record["ranges"] == []


def test_a_partial_file_replaced_under_a_transfer_stops_it(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(4 * MiB), rate=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    transfer = Transfer(library, m, fast_options(connections=1))
    outcome = {}

    def work():
        try:
            transfer.run()
        except DownloadError as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=work)
    runner.start()
    wait_for(lambda: library.read_record(m).get("ranges"), what="data on disk")
    other = tmp_path / "other.part"
    other.write_bytes(b"not the download")
    os.replace(other, library.part_path(m))  # another file now sits at the partial file's name
    runner.join(60)
    assert not runner.is_alive()
    error = outcome["error"]
    assert error.kind is ErrorKind.REMOVED
    assert str(error) == (
        f"Model M: its file was removed from {library.root} during the download; the download stopped and "
        "nothing was kept"
    )


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_speed_is_over_the_last_five_seconds_and_the_eta_over_what_is_left(tmp_path, models_dir, monkeypatch):
    # The figures the window and the progress bar show, from a fake clock (real time would make them
    # depend on the machine's speed). The reports are what a running transfer's supervisor sends.
    clock = Clock()
    monkeypatch.setattr(transfer_state.time, "monotonic", clock)
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt")
    seen = []
    state = transfer_state.TransferState(library, m, fast_options(), on_progress=seen.append)
    try:
        plan = _Plan(10_000, [])
        slot = plan.first_slot()
        state._emit_progress(plan, "downloading", 2)
        for seconds, more in ((1, 1000), (2, 1000), (4, 1000)):
            clock.now += seconds
            plan.advance(slot, more)
            state._emit_progress(plan, "downloading", 2)
        clock.now += 0.05  # within the report interval: no report
        plan.advance(slot, 1000)
        state._emit_progress(plan, "stalled", 1)
    finally:
        state.session.close()
    assert [(p.done, p.total, p.state, p.connections, p.url) for p in seen] == [
        (done, 10_000, "downloading", 2, "http://127.0.0.1:9/m.pt") for done in (0, 1000, 2000, 3000)
    ]
    assert [(p.speed, p.eta) for p in seen] == [
        (0.0, None),
        (pytest.approx(1000.0), pytest.approx(9.0)),
        (pytest.approx(2000 / 3), pytest.approx(12.0)),
        # 7 s after the start: the samples older than 5 s are dropped, down to the last two.
        (pytest.approx(250.0), pytest.approx(28.0)),
    ]


def test_a_stream_of_unknown_length_has_a_speed_but_no_eta(tmp_path, models_dir, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(transfer_state.time, "monotonic", clock)
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt")
    seen = []
    state = transfer_state.TransferState(library, m, fast_options(), on_progress=seen.append)
    try:
        plan = _Plan(None, [])
        slot = plan.first_slot()
        state._emit_progress(plan, "downloading", 1)
        clock.now += 2
        plan.advance(slot, 1000)
        state._emit_progress(plan, "downloading", 1)
    finally:
        state.session.close()
    assert [(p.done, p.total, p.speed, p.eta) for p in seen] == [
        (0, None, 0.0, None),
        (1000, None, 500.0, None),
    ]


@pytest.mark.parametrize(
    "known", ["size and sha256", "size", ""], ids=["catalog-sha256", "size-only", "none"]
)
def test_a_users_file_at_the_final_path_is_named_and_left_alone(tmp_path, models_dir, http_server, known):
    data = payload(1000)
    http_server.add(PATH, data)
    fields = {"size": len(data), "sha256": sha256(data)} if known == "size and sha256" else {}
    if known == "size":
        fields = {"size": len(data)}
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **fields)
    final = library.path(m)
    final.parent.mkdir(parents=True, exist_ok=True)
    final.write_bytes(b"my own notes")
    reason = library.status(m).reason
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    # Only a catalog that gives both can say the file is not the checkpoint.
    checked = "; it does not match the catalog's size and sha256" if known == "size and sha256" else ""
    assert str(info.value) == (
        f"Model M: a different file is already at {final} (12 Bytes): {reason}{checked}. ofa-manager "
        "leaves it as it is: move it away or delete it (ofa-manager rm --force m), then download again"
    )
    assert info.value.kind is ErrorKind.NOT_OURS
    assert final.read_bytes() == b"my own notes"


def test_a_status_is_reported_in_the_servers_own_words(tmp_path, models_dir, http_server):
    # A proxy's phrase that reads like a network failure is still a status: it is shown as sent.
    data = payload(1000)
    http_server.add(PATH, data, statuses=[(503, {":reason": "Upstream connection timed out"})])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    seen = []
    transfer = Transfer(library, m, fast_options(connections=1), on_progress=seen.append)
    assert run_guarded(transfer).read_bytes() == data
    [wait] = [p.message for p in seen if p.state == "stalled"]
    assert wait == "503 Upstream connection timed out; retrying in 0 s"


def test_with_no_retries_the_one_attempt_is_counted_as_one(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(1000), statuses=[503] * 10)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=1000)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    assert str(info.value) == "Model M: 503 Service Unavailable (gave up after 1 attempt)"
    assert len(http_server.requests_for(PATH, "GET")) == 1


def test_a_network_failure_is_reported_in_a_few_words(tmp_path, models_dir):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    library, m = make_library(tmp_path, models_dir, f"http://127.0.0.1:{port}/m.pt")
    seen = []
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=1), on_progress=seen.append))
    assert str(info.value) == "Model M: connection refused (gave up after 2 attempts)"
    assert [p.message for p in seen if p.state == "stalled"] == ["connection refused; retrying in 0 s"]


@pytest.mark.parametrize(
    ("reports", "speed"),
    [
        # Exactly five seconds old: the first sample still counts.
        ([(0, 0), (1, 1000), (5, 2000)], 400.0),
        # Ten seconds between two reports: with only two samples, the older one stays.
        ([(0, 0), (10, 1000)], 100.0),
        # Under a byte a second is still a speed: the time left is long, not unknown.
        ([(0, 0), (2, 1)], 0.5),
    ],
    ids=["five-seconds", "two-samples", "crawling"],
)
def test_the_speeds_window_edges(tmp_path, models_dir, monkeypatch, reports, speed):
    clock = Clock()
    monkeypatch.setattr(transfer_state.time, "monotonic", clock)
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt")
    seen = []
    state = transfer_state.TransferState(library, m, fast_options(), on_progress=seen.append)
    try:
        plan = _Plan(10_000, [])
        slot = plan.first_slot()
        for at, done in reports:
            clock.now = 100.0 + at
            plan.advance(slot, done - plan.done_bytes())
            state._emit_progress(plan, "downloading", 1)
    finally:
        state.session.close()
    assert seen[-1].speed == pytest.approx(speed)
    assert seen[-1].eta == pytest.approx((10_000 - reports[-1][1]) / speed)


def test_a_partial_file_that_cannot_be_looked_at_is_not_taken_for_removed(tmp_path, models_dir, monkeypatch):
    # Only a partial file that is gone (or another file in its place) ends a download as removed; a look
    # that fails otherwise (a permission, a network folder's hiccup) keeps its record. These tests run as
    # root, where no permission can fail: the look at the partial file is made to fail as it would.
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt")
    part = library.part_path(m)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"x" * 100)
    state = transfer_state.TransferState(library, m, fast_options())
    st = part.stat()
    state._part_id = (st.st_dev, st.st_ino)  # as _fetch notes it once the partial file is open
    state._record = {"url": m.url, "etag": '"e"', "last_modified": None}
    plan = _Plan(100, [[0, 50]])
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(part):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    try:
        with monkeypatch.context() as patched:
            patched.setattr(transfer_state.os, "stat", stat)
            state._save_record(plan)
        record = library.read_record(m)
        # A running download's record says so: others count what it still needs against the free space.
        assert (record["ranges"], record["size"], record["running"]) == ([[0, 50]], 100, True)
        part.unlink()  # now really gone: the record goes with it
        state._save_record(plan)
        state._save_record(plan)  # and again, with the record already gone
    finally:
        state.session.close()
    assert not library.record_path(m).exists()


def test_reports_come_at_most_once_an_interval_unless_forced(tmp_path, models_dir, monkeypatch):
    # An interval that floating point holds exactly, so that "a whole interval later" is exact too.
    clock = Clock()
    monkeypatch.setattr(transfer_state.time, "monotonic", clock)
    monkeypatch.setattr(transfer_state, "PROGRESS_EVERY", 0.25)
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt", size=1000)
    seen = []
    state = transfer_state.TransferState(library, m, fast_options(), on_progress=seen.append)
    try:
        state._emit_state("connecting")  # the first report
        clock.now = 100.125
        state._emit_state("connecting")  # within the interval: dropped
        clock.now = 100.25
        state._emit_state("connecting")  # a whole interval after the last one sent
        clock.now = 100.375
        state._emit_state("verifying", force=True)  # forced: sent at once
    finally:
        state.session.close()
    url = "http://127.0.0.1:9/m.pt"
    assert [(p.state, p.done, p.total, p.speed, p.eta, p.connections, p.url, p.message) for p in seen] == [
        ("connecting", 0, 1000, 0.0, None, 0, url, ""),
        ("connecting", 0, 1000, 0.0, None, 0, url, ""),
        ("verifying", 0, 1000, 0.0, None, 0, url, ""),
    ]


def test_a_download_closes_its_connections_when_it_ends(tmp_path, models_dir, http_server):
    # Its session is its own: no connection is left open to the server once the download is over.
    data = payload(100_000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    transfer = Transfer(library, m, fast_options(connections=1))
    assert run_guarded(transfer).read_bytes() == data
    wait_for(lambda: http_server.active_connections() == 0, timeout=20, what="the connections closed")


def test_downloads_given_one_token_cache_read_the_keyring_once_per_host(
    tmp_path, models_dir, http_server, memory_keyring
):
    # Relies on the in-memory keyring fixture: no Secret Service runs on the test machine. A token changed
    # in the keyring after the first download is not read again by a later download sharing the cache.
    from ofa_manager.core.credentials import TokenCache
    from ofa_manager.core.library import Library
    from tests.catalogs import entry, load, write_catalog

    data = payload(1000)
    http_server.add("/a.pt", data, require_token="tok")
    http_server.add("/b.pt", data, require_token="tok")
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", http_server.url("/a.pt")), entry("b", http_server.url("/b.pt"))]
    )
    library = Library(models_dir, load(catalog))
    memory_keyring.set_password("ofa-manager", http_server.netloc, "tok")
    tokens = TokenCache()
    for name in ("a", "b"):
        final = run_guarded(
            Transfer(library, library.catalog.get(name), fast_options(retries=0), tokens=tokens)
        )
        assert final.read_bytes() == data
        memory_keyring.set_password("ofa-manager", http_server.netloc, "changed")
    assert {r.headers.get("authorization") for r in http_server.requests} == {"Bearer tok"}


def test_a_first_answer_that_never_comes_is_given_up_after_the_transfers_timeout(tmp_path, models_dir):
    # The kernel accepts the connection (the listener never does): no answer ever comes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        library, m = make_library(tmp_path, models_dir, f"http://127.0.0.1:{listener.getsockname()[1]}{PATH}")
        # A hang guard far beyond the half-second timeout, far below requests' own defaults.
        with pytest.raises(DownloadError) as info:
            run_guarded(Transfer(library, m, fast_options(retries=0, timeout=0.5)), limit=10)
    assert info.value.kind is ErrorKind.NETWORK and "gave up after 1 attempt" in str(info.value)
