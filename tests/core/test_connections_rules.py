"""One connection's GET loop and the supervisor of a file's connections (core/connections.py): what a
reconnect asks for and accepts, when a connection gives up, what the supervisor reports (the loopback
server of tests/httpserver.py answers a reconnect as told: None in its statuses serves a request as usual)."""

from __future__ import annotations

import os
import threading

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.segments import _Plan
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from ofa_manager.core.transfer_options import RateLimiter
from tests.catalogs import MiB, engine_threads, fast_options, payload, wait_for
from tests.transfers import PATH, gets, make_library, range_start, run_guarded


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
        "(gave up after 1 attempt)"
    )
    assert info.value.kind is ErrorKind.NETWORK


def one_connection(tmp_path, models_dir, http_server, data, **faults):
    route = http_server.add(PATH, data, **faults)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    return route, library, m


@pytest.mark.parametrize(
    "answer",
    [
        (204, {}, b""),
        (206, {"Content-Type": "text/html", "Content-Range": "bytes 300000-300005/1048576"}, b"<html>"),
    ],
    ids=["no-content", "web-page"],
)
def test_a_reconnect_answered_with_neither_the_range_nor_a_change_fails(
    tmp_path, models_dir, http_server, answer
):
    # The first answer breaks after 300 000 bytes; the range asked for the rest gets this answer.
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, payload(MiB), drop_after=300_000, statuses=[None, answer]
    )
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    assert str(info.value) == "Model M: the server stopped honouring byte ranges"
    assert [r.range for r in gets(http_server)] == ["bytes=0-", f"bytes=300000-{MiB - 1}"]


@pytest.mark.parametrize(
    "wrong",
    [
        (206, {"Content-Range": "bytes 300000-300009/2000000"}, b"0123456789"),
        (206, {"Content-Range": "bytes 299990-300009/1048576"}, b"0123456789" * 2),
        (206, {"Content-Range": "bytes */1048576"}, b"0123456789"),
        (206, {}, b"0123456789"),
        (200, {}, b"0123456789"),  # If-Range did not match: the object changed
        (416, {"Content-Range": "bytes */1000"}, b""),  # the range is gone: the object changed
    ],
    ids=["another-size", "another-start", "no-range", "no-content-range", "whole-object", "not-satisfiable"],
)
def test_a_reconnect_answered_with_another_object_or_another_start_starts_over(
    tmp_path, models_dir, http_server, wrong
):
    data = payload(MiB)
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, data, drop_after=300_000, statuses=[None, wrong]
    )
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    asked = [(r.range, r.if_range) for r in gets(http_server)]
    # The answer is not spliced in: the partial data goes and the file is fetched again from byte 0.
    assert asked == [("bytes=0-", None), (f"bytes=300000-{MiB - 1}", route.etag), ("bytes=0-", None)]


def test_a_connection_that_moves_on_between_drops_is_not_given_up(tmp_path, models_dir, http_server):
    # One retry allowed, four drops: each drop comes after new bytes, so the count of failures starts again.
    data = payload(MiB)
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, data, drop_after=200_000, drop_times=4
    )
    assert run_guarded(Transfer(library, m, fast_options(connections=1, retries=1))).read_bytes() == data
    assert [r.range.split("-")[0] for r in gets(http_server)] == [
        "bytes=0",
        "bytes=200000",
        "bytes=400000",
        "bytes=600000",
        "bytes=800000",
    ]


def test_a_connection_that_fails_without_new_bytes_uses_up_its_retries(tmp_path, models_dir, http_server):
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, payload(MiB), drop_after=200_000, statuses=[None, 503, 503, 503]
    )
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=2)))
    # The drop, then two answers that bring nothing: three failures in a row, the third is the last.
    assert str(info.value) == "Model M: 503 Service Unavailable (gave up after 3 attempts)"
    assert [r.status for r in gets(http_server)] == [206, 503, 503]


def test_the_reconnect_shows_as_stalled_and_the_download_as_downloading_again(
    tmp_path, models_dir, http_server
):
    data = payload(MiB)
    # Slow enough after the drop that progress is reported while the rest arrives.
    route, library, m = one_connection(tmp_path, models_dir, http_server, data, drop_after=200_000, rate=MiB)
    states = []
    options = fast_options(connections=1, backoff_base=0.5)
    transfer = Transfer(library, m, options, on_progress=lambda p: states.append(p.state))
    assert run_guarded(transfer).read_bytes() == data
    assert "stalled" in states
    after = states[states.index("stalled") :]
    assert "downloading" in after and after[-1] == "done"


def test_while_the_one_connection_waits_to_reconnect_every_report_says_stalled(
    tmp_path, models_dir, http_server
):
    # The answer drops after 200 000 bytes; the reconnect is told to wait a second. The reports of that
    # second (several a second) all say "stalled": the download does not look as if it were running.
    data = payload(MiB)
    route, library, m = one_connection(
        tmp_path,
        models_dir,
        http_server,
        data,
        drop_after=200_000,
        statuses=[None, (503, {"Retry-After": "1"}, b"")],
    )
    states = []
    transfer = Transfer(library, m, fast_options(connections=1), on_progress=lambda p: states.append(p.state))
    assert run_guarded(transfer).read_bytes() == data
    assert set(states) <= {"connecting", "downloading", "stalled", "verifying", "done"}, set(states)
    first = states.index("stalled")
    end = next(i for i in range(first, len(states)) if states[i] != "stalled")
    assert end - first >= 3 and "downloading" not in states[first:end], states


def test_each_connection_is_a_named_engine_thread_and_progress_counts_them(tmp_path, models_dir, http_server):
    data = payload(4 * MiB)
    # The first answer holds still after 256 KiB and every answer is paced: the other three connections
    # get their shares and are still at them when progress is first reported.
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, data, stall_after=256 * 1024, stall_seconds=1.5, rate=2 * MiB
    )
    seen = []

    def on_progress(progress):
        if progress.state == "downloading":
            seen.append((progress.connections, sum(t.name == "ofa-segment" for t in threading.enumerate())))

    options = fast_options(connections=4, min_segment=256 * 1024, min_speed=0)
    assert run_guarded(Transfer(library, m, options, on_progress=on_progress)).read_bytes() == data
    assert seen and all(1 <= connections <= 4 for connections, _ in seen), seen
    assert max(connections for connections, _ in seen) >= 2 and max(threads for _, threads in seen) >= 2


class FaultyLimiter(RateLimiter):
    """A bandwidth limiter that fails: a bug in the engine's own code cannot be made to happen otherwise."""

    def consume(self, amount, abort):
        raise RuntimeError("limiter broke")


def test_an_unexpected_error_in_a_connection_ends_the_download_with_its_name(
    tmp_path, models_dir, http_server
):
    route, library, m = one_connection(tmp_path, models_dir, http_server, payload(MiB))
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1), limiter=FaultyLimiter()))
    assert str(info.value) == "Model M: unexpected error: RuntimeError('limiter broke')"
    assert info.value.kind is ErrorKind.ERROR
    assert library.status(m).state is State.PARTIAL


def test_the_resume_record_follows_the_download_while_it_runs(tmp_path, models_dir, http_server):
    # At most 256 KiB/s: 600 000 bytes take over two seconds, and the record is saved every second.
    data = payload(MiB)
    route, library, m = one_connection(tmp_path, models_dir, http_server, data, rate=256 * 1024)
    abort = threading.Event()
    records = []

    def on_progress(progress):
        if progress.done >= 600_000 and not records:
            records.append(library.read_record(m))
            abort.set()

    with pytest.raises(Aborted):
        run_guarded(Transfer(library, m, fast_options(connections=1), abort=abort, on_progress=on_progress))
    (record,) = records
    assert record["running"] is True and record["size"] == MiB
    ((start, end),) = record["ranges"]
    assert start == 0 and 0 < end <= 600_000 + 256 * 1024


def test_a_slow_link_is_cut_for_what_it_brings_in_the_whole_window(tmp_path, models_dir, http_server):
    # 600 bytes/s from the first byte, under a 1 KiB/s floor: reads of 1 KiB return about every 1.7 s, so each
    # 2 s window brings one or two of them, under the 2 KiB the floor asks for that long (though more than it
    # asks for in one second). Left alone the file would take 20 s.
    http_server.add(PATH, payload(12_000), rate=600)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=1, timeout=2.0, retries=0, min_speed=1024)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, options))
    assert str(info.value) == (
        "Model M: stalled: under 1.0 KiB/s for 2 s (no byte counts below that speed) "
        "(gave up after 1 attempt)"
    )


def test_a_connection_failing_before_its_first_byte_has_its_retries_and_no_more(
    tmp_path, models_dir, http_server
):
    # Every answer breaks before its first body byte: the first failure is the first of three attempts.
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, payload(MiB), drop_after=0, drop_times=10
    )
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=2)))
    assert str(info.value).endswith("(gave up after 3 attempts)")
    assert len(gets(http_server)) == 3


def test_each_new_share_of_a_connection_has_its_retries_anew(tmp_path, models_dir, http_server):
    # Ranges shorter than asked: the first answer ends at 300 000 bytes and the rest is a new share, whose
    # requests all fail without a byte. Its three attempts are its own, whatever came before.
    route, library, m = one_connection(
        tmp_path, models_dir, http_server, payload(MiB), short_ranges=300_000, statuses=[None, 503, 503, 503]
    )
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=2)))
    assert str(info.value) == "Model M: 503 Service Unavailable (gave up after 3 attempts)"
    assert [r.status for r in gets(http_server)] == [206, 503, 503, 503]


def test_after_a_trickle_is_cut_a_later_drop_is_a_drop_again(tmp_path, models_dir, http_server):
    # The first answer trickles and is cut (one failure of the two allowed); the second brings 300 000
    # bytes and drops: data flowed again, so that drop starts the count anew and a third answer finishes.
    data = payload(MiB)
    route, library, m = one_connection(
        tmp_path,
        models_dir,
        http_server,
        data,
        trickle_after=100_000,
        trickle_rate=200,
        drop_after=300_000,
        drop_times=2,  # the first answer takes one without reaching it (the trickle is cut first)
    )
    options = fast_options(connections=1, retries=1, timeout=0.5, min_speed=1024)
    assert run_guarded(Transfer(library, m, options)).read_bytes() == data
    first, second, third = (range_start(r) for r in gets(http_server))
    assert first == 0 and second >= 100_000 and third == second + 300_000


def test_a_connection_waiting_to_reconnect_is_not_taken_for_a_trickle(tmp_path, models_dir, http_server):
    # The first answer drops; the reconnects are answered 503, the first of them asking for a wait of 1 s,
    # twice the stall window. No body streams while the connection waits: that wait is not a trickle, and
    # the error that ends the download is the server's answer, not a stall.
    route, library, m = one_connection(
        tmp_path,
        models_dir,
        http_server,
        payload(MiB),
        drop_after=200_000,
        statuses=[None, (503, {"Retry-After": "1"}, b""), 503],
    )
    options = fast_options(connections=1, retries=2, timeout=0.5, min_speed=1024)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, options))
    assert str(info.value) == "Model M: 503 Service Unavailable (gave up after 3 attempts)"
    assert [r.status for r in gets(http_server)] == [206, 503, 503]


def test_after_two_connections_reconnect_at_once_the_download_shows_as_downloading_again(
    tmp_path, models_dir, http_server
):
    # Both connections' first answers break, and both reconnects are told to wait a second: the two waits
    # overlap. Once both are over, the download is no longer stalled while the rest arrives.
    data = payload(2 * MiB)
    route, library, m = one_connection(
        tmp_path,
        models_dir,
        http_server,
        data,
        rate=MiB,
        drop_after=200_000,
        drop_times=2,
        statuses=[None, None, (503, {"Retry-After": "1"}, b""), (503, {"Retry-After": "1"}, b"")],
    )
    states = []
    options = fast_options(connections=2, min_segment=256 * 1024)
    transfer = Transfer(library, m, options, on_progress=lambda p: states.append(p.state))
    assert run_guarded(transfer).read_bytes() == data
    assert [r.status for r in gets(http_server)].count(503) == 2
    last_stall = len(states) - 1 - states[::-1].index("stalled")
    assert "downloading" in states[last_stall:], states


# -- the speed floor's window, one connection at a time ----------------------------------------------------
# _watch_speed is given the times; the answers are real streaming responses from the loopback server, so a
# cut is seen as the supervisor's reader sees it: the connection's socket shut, its body ending early.


@pytest.fixture
def answers(http_server):
    import requests

    http_server.add(PATH, payload(MiB))
    opened = []

    def answer():
        response = requests.get(http_server.url(PATH), stream=True, timeout=10)
        opened.append(response)
        return response

    yield answer
    for response in opened:
        response.close()


def watched(slot, timeline, floor=1000, window=2.0):
    """Feed the slot's (time, position) samples one by one; the time of the first cut, or None."""
    from ofa_manager.core.connections import _watch_speed

    for now, pos in timeline:
        slot.pos = pos
        _watch_speed(slot, now, floor, window)
        if slot.too_slow:
            return now
    return None


def cut_off(response) -> bool:
    """Whether the connection was shut: its body breaks off before its length."""
    import urllib3.exceptions

    try:
        return len(response.raw.read(2 * MiB)) < MiB
    except urllib3.exceptions.ProtocolError:
        return True


def test_a_connection_is_cut_once_a_whole_window_brings_less_than_the_floor(answers):
    from ofa_manager.core.segments import _Slot

    slot = _Slot(0, None)
    slot.response = answers()
    # 1,999 bytes in exactly 2 s at a floor of 1,000 B/s: cut at the first moment the window is whole.
    assert watched(slot, [(0.0, 0), (1.0, 0), (2.0, 1999)]) == 2.0
    assert not slot.samples and cut_off(slot.response)
    # Exactly the floor is enough.
    slot = _Slot(0, None)
    slot.response = answers()
    assert watched(slot, [(0.0, 0), (1.0, 1000), (2.0, 2000), (2.5, 2500)]) is None
    assert list(slot.samples)[-1][:2] == (2.5, 2500) and not cut_off(slot.response)


def test_the_window_moves_on_keeping_just_over_its_length(answers):
    from ofa_manager.core.segments import _Slot

    slot = _Slot(0, None)
    slot.response = answers()
    # A fast start then a trickle: 5,000 bytes by 2.5 s, then 100 in the next 2 s. Judged from 0 s the
    # average is above the floor; the window is the last 2 s alone, and they bring 100 bytes: cut.
    assert watched(slot, [(0.0, 0), (2.5, 5000), (4.5, 5100)]) == 4.5


def test_a_connection_waiting_to_reconnect_or_on_a_new_answer_starts_a_new_window(answers):
    from ofa_manager.core.segments import _Slot

    slot = _Slot(0, None)
    first = slot.response = answers()
    assert watched(slot, [(0.0, 0), (1.0, 0)]) is None
    slot.response = None  # dropped; waiting to reconnect
    assert watched(slot, [(2.0, 0), (3.0, 0)]) is None and not slot.samples
    slot.response = answers()  # the new answer is judged from its own start, not from 0 s
    assert watched(slot, [(4.0, 0), (5.0, 0)]) is None and [s[0] for s in slot.samples] == [4.0, 5.0]
    # Nor does an answer replaced without a gap carry the old one's samples.
    slot.response = answers()
    assert watched(slot, [(5.5, 0)]) is None and [s[0] for s in slot.samples] == [5.5]
    assert watched(slot, [(7.5, 10)]) == 7.5 and not cut_off(first)


def test_workers_that_all_end_with_bytes_missing_fail_the_download_never_finish_it(
    tmp_path, models_dir, http_server
):
    # Every connection ended with no failure and no pause, yet the plan has a hole: the partial file is
    # already as long as the object (holes read as zeros), so only this rule keeps it from being placed.
    http_server.add(PATH, payload(1000))
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    transfer = Transfer(library, m, fast_options())
    plan = _Plan(1000, [[0, 600]])
    with pytest.raises(DownloadError) as info:
        transfer._supervise(plan, [], [], threading.Event())
    assert str(info.value) == "Model M: the download ended before the file was complete"
    assert info.value.kind is ErrorKind.NETWORK


def test_one_connections_failure_ends_the_download_while_another_is_held_by_the_server(
    tmp_path, models_dir, http_server
):
    # The first answer holds after 1000 bytes until the test lets it go, which it does only once the transfer
    # has returned; the second connection's 403 is final. The held connection must be woken by the failure,
    # not left to its 120 s read timeout (the guard below ends the test long before that).
    release = threading.Event()
    data = payload(4 * MiB)
    http_server.add(PATH, data, stall_after=1000, stall_until=release, statuses=[None, 403])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=2, min_segment=256 * 1024, timeout=120.0, min_speed=0)
    try:
        with pytest.raises(DownloadError) as info:
            run_guarded(Transfer(library, m, options), limit=30)
    finally:
        release.set()
    assert "403" in str(info.value) and info.value.kind is ErrorKind.HTTP
    assert [r.status for r in gets(http_server)] == [206, 403]


def test_a_partial_file_removed_under_a_transfer_stops_every_connection_at_once(
    tmp_path, models_dir, http_server
):
    # Two connections at 256 KiB/s each need 8 s for the file; the removal is seen within a tenth of a second
    # and must end both, not let them run on to the end of their shares into a file that is gone.
    data = payload(4 * MiB)
    http_server.add(PATH, data, rate=256 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    transfer = Transfer(library, m, fast_options(connections=2, min_segment=MiB))
    outcome: list = []

    def work():
        try:
            transfer.run()
        except DownloadError as exc:
            outcome.append(exc)

    runner = threading.Thread(target=work)
    runner.start()
    wait_for(lambda: library.read_record(m).get("ranges"), what="data on disk")
    os.remove(library.part_path(m))
    runner.join(60)
    assert not runner.is_alive() and outcome and outcome[0].kind == "removed"
    assert sum(r.bytes_sent for r in gets(http_server)) < len(data)


@pytest.mark.parametrize("extra", [1, 2 * MiB], ids=["one-byte-more", "2-MiB-more"])
def test_a_stream_of_unknown_length_longer_than_the_catalogs_size_is_refused_and_not_kept(
    tmp_path, models_dir, http_server, extra
):
    # No Content-Length: only the bytes themselves show the object is larger than the catalog says, from the
    # first byte past the catalog's size.
    http_server.add(PATH, payload(MiB + extra), no_length=True, ignore_range=True)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=MiB)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    assert str(info.value) == (
        "Model M: the server sent more than the catalog's size (1.0 MiB); the data was not kept"
    )
    assert info.value.kind is ErrorKind.INTEGRITY
    assert len(gets(http_server)) == 1  # not asked again: the same bytes would come
    assert not library.path(m).exists() and not library.part_path(m).exists()
    assert not library.record_path(m).exists()


def test_a_stream_of_unknown_length_cut_before_the_catalogs_size_is_a_drop(tmp_path, models_dir, http_server):
    http_server.add(PATH, payload(MiB), no_length=True, ignore_range=True, drop_after=300_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=MiB)
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1, retries=0)))
    assert str(info.value) == "Model M: connection dropped mid-transfer (gave up after 1 attempt)"
    assert info.value.kind is ErrorKind.NETWORK
