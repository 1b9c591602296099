"""Which bytes of a file are done and which are fetched next (core/segments.py), seen from outside: a partial
file with holes, as a resume record describes it, is completed by asking the server for the holes only."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from ofa_manager.core import fingerprints, segments
from ofa_manager.core.segments import _Plan
from ofa_manager.core.transfer import Transfer
from tests.catalogs import MiB, engine_threads, fast_options, leftovers, payload, sha256, wait_for
from tests.httpserver import crc64_xz
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


# The planner itself: which connection fetches what next depends on how fast each one goes, so the choices
# are checked on the planner directly (the transfers above show them from the server's side).


def test_a_plan_merges_what_is_done_and_lists_what_is_missing():
    plan = _Plan(100, [[10, 20], [0, 5], [5, 10], [30, 30], [25, 35], [32, 34]])
    assert plan.snapshot() == [[0, 20], [25, 35]]
    assert plan.free == [[20, 25], [35, 100]]
    assert (plan.done_bytes(), plan.prefix(), plan.complete()) == (30, 20, False)
    assert _Plan(100, [[5, 100]]).prefix() == 0 and not _Plan(100, [[5, 100]]).complete()
    assert _Plan(100, [[0, 100]]).complete() and _Plan(100, [[0, 100]]).free == []
    assert _Plan(0, []).complete()


def test_an_empty_piece_in_a_record_counts_for_nothing():
    plan = _Plan(100, [[50, 50], [70, 60]])
    assert (plan.snapshot(), plan.free, plan.done_bytes()) == ([], [[0, 100]], 0)


def test_a_plan_of_unknown_size_is_one_open_stream_until_its_end():
    plan = _Plan(None, [])
    assert plan.free == [] and not plan.complete()
    slot = plan.first_slot()
    assert (slot.pos, slot.end) == (0, None)
    assert plan.claim(slot, 4096) == 4096  # no end to stop at
    assert plan.take(1) is None  # an open stream is never split
    plan.eof = True
    assert plan.complete()
    # Pieces said to be done are no holes to fetch while the size is unknown: there is no end to fill up to.
    assert _Plan(None, [[10, 20]]).free == []


def test_the_first_slot_is_the_first_hole_and_the_next_ones_the_other_holes():
    plan = _Plan(100, [[0, 10], [50, 60]])
    first = plan.first_slot()
    assert (first.pos, first.end) == (10, 50)
    second = plan.take(1000)
    assert (second.pos, second.end) == (60, 100)
    complete = _Plan(100, [[0, 100]]).first_slot()
    assert (complete.pos, complete.end) == (100, 100)


def test_with_no_hole_left_the_largest_share_is_halved_down_to_twice_the_least_segment():
    plan = _Plan(100, [])
    first = plan.first_slot()
    second = plan.take(25)  # 100 left: halved
    assert (first.pos, first.end, second.pos, second.end) == (0, 50, 50, 100)
    plan.advance(second, 10)  # the second share has 40 left, the first 50: the first is halved
    third = plan.take(25)
    assert (first.end, third.pos, third.end) == (25, 25, 50)
    # 40 left at most now: halved while at least twice the least segment (20) is left, and no more.
    fourth = plan.take(20)
    assert (second.end, fourth.pos, fourth.end) == (80, 80, 100)
    assert all(type(v) is int for s in plan.slots for v in (s.pos, s.end))  # byte offsets for Range headers
    assert plan.take(20) is None


def test_a_share_reads_up_to_its_end_and_gives_back_what_it_did_not_fetch():
    plan = _Plan(100, [])
    first = plan.first_slot()
    assert plan.claim(first, 1000) == 100 and plan.claim(first, 30) == 30
    plan.advance(first, 30)
    second = plan.take(10)
    assert (first.end, second.pos) == (65, 65)
    assert plan.claim(first, 1000) == 35
    plan.advance(first, 40)  # read past its shortened end (the body was already under way)
    assert plan.claim(first, 1000) == 0
    plan.release(second)  # failed before fetching anything: its share is free again
    assert plan.free == [[65, 100]] and second not in plan.slots
    assert plan.snapshot() == [[0, 70]]
    plan.release(first)
    assert plan.free == [[65, 100]] and plan.slots == []  # nothing of its own left to give back
    # The given-back share starts inside what is done: fetched again, the bytes join the done range.
    again = plan.take(10)
    assert (again.pos, again.end) == (65, 100)
    plan.advance(again, 35)
    assert plan.snapshot() == [[0, 100]] and plan.complete()


@pytest.mark.parametrize(("every", "syncs"), [(MiB, 1), (MiB + 1, 0)], ids=["at-the-threshold", "below-it"])
def test_the_hashed_data_is_written_back_every_so_many_bytes(
    tmp_path, models_dir, http_server, monkeypatch, every, syncs
):
    # Every SYNC_EVERY bytes hashed, the partial file's data is written back (little is left for the fsync
    # before the rename). The threshold is set around a 1 MiB file's size; the calls are recorded.
    monkeypatch.setattr(segments, "SYNC_EVERY", every)
    synced = []
    real = os.fdatasync

    def fdatasync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    data = payload(MiB)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    assert synced.count(str(library.part_path(m))) == syncs


def test_a_failed_write_back_is_not_an_error(tmp_path, monkeypatch):
    calls = []

    def failing(fd):
        calls.append(fd)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    with open(tmp_path / "f", "wb") as fh:
        segments._datasync(fh.fileno())
        assert calls == [fh.fileno()]
        monkeypatch.delattr(os, "fdatasync")  # where there is none, fsync does it
        monkeypatch.setattr(os, "fsync", failing)
        segments._datasync(fh.fileno())
    assert len(calls) == 2


class CountingCondition:
    """The plan's condition with its wake-ups counted: the hasher sleeps on it until the prefix grows."""

    def __init__(self, cond) -> None:
        self.cond = cond
        self.woken = 0

    def __enter__(self):
        return self.cond.__enter__()

    def __exit__(self, *exc):
        return self.cond.__exit__(*exc)

    def notify_all(self) -> None:
        self.woken += 1
        self.cond.notify_all()


def test_the_hasher_is_woken_when_the_contiguous_start_grows_and_only_then():
    plan = _Plan(100, [[0, 5]])
    plan.cond = counting = CountingCondition(plan.cond)
    first = plan.first_slot()  # 5..100
    second = plan.take(10)  # 52..100
    assert (first.end, second.pos) == (52, 52)
    plan.advance(second, 20)  # a piece after a hole: nothing more to hash yet
    assert counting.woken == 0 and plan.prefix() == 5
    plan.advance(first, 10)  # the start grows: the hasher has 10 more bytes to read
    assert counting.woken == 1 and plan.prefix() == 15
    plan.advance(first, 37)  # the hole closes: the start now runs to 72
    assert counting.woken == 2 and plan.prefix() == 72


def test_a_connection_starts_as_not_too_slow_so_its_first_failure_is_named_as_it_is(
    tmp_path, models_dir, http_server
):
    # A share is only marked too slow by the supervisor's speed floor: a connection dropped on its first
    # answer is reported as dropped (and retried as such), not as a trickle below the floor.
    data = payload(MiB)
    http_server.add(PATH, data, drop_after=500_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    seen = []
    # No speed floor: a loaded machine's pause cannot make a real trickle of the test's connection.
    transfer = Transfer(library, m, fast_options(connections=1, min_speed=0), on_progress=seen.append)
    assert run_guarded(transfer).read_bytes() == data
    assert [p.message for p in seen if p.state == "stalled"] == [
        "connection dropped mid-transfer; retrying in 0 s"
    ]


def hashed_in_two_steps(tmp_path, prints):
    """A hasher following a partial file whose start arrives in two pieces; the threads alive between them."""
    data = payload(300_000)
    part = tmp_path / "m.pt.part"
    part.write_bytes(data)
    plan = _Plan(len(data), [])
    slot = plan.first_slot()
    hasher = segments._Hasher(part, plan, threading.Event(), prints)
    assert (hasher.name, hasher.daemon) == (
        "ofa-hash",
        True,
    )  # the leak check finds it; it never holds up an exit
    hasher.start()
    try:
        plan.advance(slot, 100_000)
        wait_for(lambda: hasher.pos >= 100_000 or not hasher.is_alive(), what="the first piece hashed")
        assert (hasher.pos, hasher.is_alive(), hasher.error) == (100_000, True, None)
        between = {t.name: t.daemon for t in threading.enumerate() if t.is_alive()}
        plan.advance(slot, 200_000)
    finally:
        hasher.join(30)  # a hang guard
    assert not hasher.is_alive() and hasher.error is None
    assert hasher.digest.hexdigest() == sha256(data)
    return data, hasher, between


def test_the_hasher_feeds_the_servers_fingerprints_on_threads_named_for_the_leak_check(tmp_path):
    prints = fingerprints.RunningFingerprints(crc=True, md5=True)
    data, hasher, between = hashed_in_two_steps(tmp_path, prints)
    assert between["ofa-hash"] is True
    assert any(name.startswith("ofa-md5") for name in between)  # the MD5 runs beside it
    assert prints.crc == crc64_xz(data)
    assert prints.md5() == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_hasher_asked_for_no_fingerprint_computes_the_sha256_alone(tmp_path):
    _, hasher, between = hashed_in_two_steps(tmp_path, None)
    assert "ofa-hash" in between and not any(name.startswith("ofa-md5") for name in between)
    assert (hasher.prints.crc, hasher.prints.md5()) == (None, None)


def test_the_hasher_writes_the_data_back_each_time_that_much_more_is_hashed(tmp_path, monkeypatch):
    # Steps of the file's start made one by one: written back at 100 000 bytes hashed, not at 150 000 (only
    # 50 000 more since), again at 300 000.
    monkeypatch.setattr(segments, "SYNC_EVERY", 100_000)
    data = payload(300_000)
    part = tmp_path / "m.pt.part"
    part.write_bytes(data)
    plan = _Plan(len(data), [])
    slot = plan.first_slot()
    hasher = segments._Hasher(part, plan, threading.Event())
    synced = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(hasher.pos), real(fd)))
    hasher.start()
    try:
        for step, upto in ((100_000, 100_000), (50_000, 150_000), (150_000, 300_000)):
            plan.advance(slot, step)
            wait_for(lambda upto=upto: hasher.pos >= upto or not hasher.is_alive(), what="the step hashed")
    finally:
        hasher.join(30)  # a hang guard
    assert hasher.error is None and hasher.digest.hexdigest() == sha256(data)
    assert synced == [100_000, 300_000]


def test_a_partial_file_shorter_than_its_record_says_is_named_by_the_hasher(tmp_path):
    part = tmp_path / "m.pt.part"
    part.write_bytes(payload(50_000))
    hasher = segments._Hasher(part, _Plan(100_000, [[0, 100_000]]), threading.Event())
    hasher.start()
    hasher.join(30)  # a hang guard
    assert not hasher.is_alive() and isinstance(hasher.error, OSError)
    assert str(hasher.error) == "partial file shorter than expected at byte 50000"
