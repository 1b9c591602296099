"""The download queue: N at a time, order, pause/resume/cancel/retry, bounded events, restore, shutdown."""

from __future__ import annotations

import collections
import threading

import pytest

from ofa_manager.core import connections, transfer_state
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import ItemState
from ofa_manager.core.transfer_options import TransferOptions
from tests.catalogs import (
    MiB,
    body_requests,
    bytes_served,
    engine_threads,
    entry,
    load,
    payload,
    wait_for,
    write_catalog,
)

# timeout: a hang guard (a queue that never returns from wait), not a timed assert.
pytestmark = [pytest.mark.usefixtures("engine_threads_end"), pytest.mark.timeout(60)]


def test_jobs_limit_is_respected(make_queue):
    data = payload(256 * 1024)
    queue, library, recorder = make_queue({n: data for n in "abcde"}, jobs=2, rate=512 * 1024)
    queue.add(list(library.catalog))
    assert queue.wait(60)
    assert recorder.max_active == 2
    assert all(item.state is ItemState.DONE for item in queue.items())
    assert all(library.path(e).read_bytes() == data for e in library.catalog)


def test_items_start_in_queue_order_and_move_changes_it(make_queue):
    data = payload(256 * 1024)
    queue, library, recorder = make_queue({n: data for n in "abcd"}, jobs=1, rate=1 * MiB)
    keys = queue.add(list(library.catalog))
    queue.move(keys[3], -2)  # d jumps ahead of b and c
    queue.move(keys[1], +5)  # b goes to the end (clamped)
    assert [i.key for i in queue.items()] == [keys[0], keys[3], keys[2], keys[1]]
    moved = [e for _, e in recorder.events if e.kind == "moved"]
    assert [(e.key, e.index) for e in moved] == [(keys[3], 1), (keys[1], 3)]
    assert queue.wait(60)
    assert recorder.started == [keys[0], keys[3], keys[2], keys[1]]


def test_pause_keeps_the_partial_and_resume_continues(make_queue, http_server):
    data = payload(2 * MiB)
    queue, library, recorder = make_queue(
        {"a": data}, rate=1 * MiB, options=TransferOptions(backoff_base=0.01, connections=1)
    )
    (key,) = queue.add(list(library.catalog))
    a = library.catalog.get("a")
    wait_for(lambda: queue.get(key).done >= 300_000, what="some progress")
    queue.pause(key)
    assert queue.get(key).state is ItemState.PAUSED
    wait_for(lambda: not engine_threads(), what="the transfer to stop")
    assert library.status(a).state is State.PARTIAL
    kept = library.status(a).bytes
    assert kept >= 300_000
    assert queue.get(key).state is ItemState.PAUSED  # a late event from the stopped transfer changed nothing

    first_run = len(http_server.requests)
    queue.resume(key)
    assert queue.wait(30)
    assert queue.get(key).state is ItemState.DONE
    assert library.path(a).read_bytes() == data
    resumed = http_server.requests[first_run:]
    assert resumed and all(r.range and not r.range.startswith("bytes=0-") for r in resumed)
    assert sum(r.bytes_sent for r in resumed) <= len(data) - kept + 64 * 1024


def test_cancel_keeps_the_partial_on_disk_and_removes_the_item(make_queue):
    data = payload(2 * MiB)
    queue, library, recorder = make_queue({"a": data}, rate=1 * MiB)
    (key,) = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(key).done > 100_000, what="some progress")
    queue.cancel(key)
    assert queue.items() == [] and queue.get(key) is None
    assert any(e.kind == "removed" and e.key == key for _, e in recorder.events)
    queue.shutdown()  # also waits for the cancelled transfer to wind down
    assert engine_threads() == []
    a = library.catalog.get("a")
    assert library.status(a).state is State.PARTIAL and library.part_path(a).exists()
    assert not library.path(a).exists()


def test_retry_after_a_failure(make_queue, http_server):
    data = payload(100_000)
    queue, library, recorder = make_queue({"a": data}, statuses=[404])
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30)
    item = queue.get(key)
    assert item.state is ItemState.FAILED and "404" in item.error and item.error_kind == "http"
    queue.resume(key)  # Retry in the window
    assert queue.wait(30)
    assert queue.get(key).state is ItemState.DONE and queue.get(key).error is None
    assert library.path(library.catalog.get("a")).read_bytes() == data


def test_progress_events_are_at_most_ten_a_second_per_item(make_queue, monkeypatch):
    # The engine has its own limit (ten a second); lifted here, it reports every 5 ms, so what holds the
    # events to ten a second is the queue's own limit, the rule under test.
    monkeypatch.setattr(transfer_state, "PROGRESS_EVERY", 0.005)  # the engine's progress limit
    monkeypatch.setattr(connections, "PROGRESS_EVERY", 0.005)  # how often its supervisor reports
    data = payload(1536 * 1024)
    queue, library, recorder = make_queue({"a": data, "b": data[::-1]}, jobs=2, rate=1 * MiB)
    keys = queue.add(list(library.catalog))
    assert queue.wait(30)
    for key in keys:
        changes = recorder.changes(key)
        times = [t for t, _ in changes]
        downloading = [e for _, e in changes if e.item.state is ItemState.DOWNLOADING]
        assert len(downloading) >= 5  # progress was reported while the file came in
        assert [e.item.done for e in downloading] == sorted(e.item.done for e in downloading)
        # No window of one second holds more than ten events (plus the few state changes).
        for i, t in enumerate(times):
            in_window = sum(1 for u in times[i:] if u - t < 1.0)
            assert in_window <= 10 + 3, f"{in_window} events within one second"
        last = changes[-1][1].item
        assert last.state is ItemState.DONE and last.done == last.total == len(data)


def test_a_normal_download_never_shows_waiting_but_a_locked_file_does(make_queue):
    data = payload(100_000)
    queue, library, recorder = make_queue({"a": data, "b": data})
    a, b = library.catalog.get("a"), library.catalog.get("b")
    (key_a,) = queue.add([a])
    assert queue.wait(30)
    assert ItemState.WAITING not in recorder.states(key_a)

    with library.lock(b):  # as another process downloading the same file would hold it
        (key_b,) = queue.add([b])
        wait_for(lambda: queue.get(key_b).state is ItemState.WAITING, what="the waiting state")
    assert queue.wait(30)
    assert queue.get(key_b).state is ItemState.DONE


def test_shared_entries_are_one_item(make_queue, tmp_path, models_dir, http_server):
    data = payload(100_000)
    http_server.add("/s.pt", data)
    catalog = write_catalog(
        tmp_path / "shared.json", [entry("x", http_server.url("/s.pt")), entry("y", http_server.url("/s.pt"))]
    )
    library = Library(models_dir, load(catalog))
    queue, library, recorder = make_queue({}, library=library)
    queue.add([library.catalog.get("x")])
    queue.add([library.catalog.get("y")])
    queue.add([library.catalog.get("x")])
    assert len(queue.items()) == 1 and queue.items()[0].entry_ids == ("x", "y")
    assert queue.wait(30)
    assert len(body_requests(http_server, "/s.pt")) == 1


def test_restore_brings_back_unfinished_items(make_queue, tmp_path):
    state_file = tmp_path / "state" / "queue.json"
    data = payload(2 * MiB)
    queue, library, recorder = make_queue(
        {n: data for n in "abc"}, jobs=1, rate=256 * 1024, state_file=state_file
    )
    keys = queue.add([library.catalog.get("a"), library.catalog.get("b")])
    (paused_key,) = queue.add([library.catalog.get("c")], paused=True)
    wait_for(lambda: queue.get(keys[0]).done > 0, what="the first download to start")
    queue.shutdown()
    assert engine_threads() == []
    saved = state_file.read_text()

    # Restarted with "resume on start": what was queued or running comes back queued, and starts.
    again, _, recorder = make_queue({}, library=library, state_file=state_file, jobs=1)
    assert again.restore(resume=True) == 3
    items = again.items()
    assert [i.key for i in items] == [keys[0], keys[1], paused_key]
    assert items[0].state.active and items[1].state is ItemState.QUEUED and items[2].state is ItemState.PAUSED
    wait_for(lambda: again.get(keys[0]).done > 0, what="the restored download to run")
    again.shutdown()

    # Restarted without it: everything comes back paused.
    state_file.write_text(saved)
    third, _, _ = make_queue({}, library=library, state_file=state_file, jobs=1)
    assert third.restore(resume=False) == 3
    assert [(i.key, i.state) for i in third.items()] == [
        (keys[0], ItemState.PAUSED),
        (keys[1], ItemState.PAUSED),
        (paused_key, ItemState.PAUSED),
    ]
    third.shutdown()


def test_restore_after_a_finished_download_does_not_bring_it_back(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, recorder = make_queue({"a": payload(1000)}, state_file=state_file)
    queue.add(list(library.catalog))
    assert queue.wait(30)
    queue.shutdown()
    again, _, _ = make_queue({}, library=library, state_file=state_file)
    assert again.restore(resume=True) == 0 and again.items() == []


def test_a_failure_comes_back_on_its_row_after_a_restart(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, recorder = make_queue({"a": payload(1000)}, state_file=state_file, statuses=[404])
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30)
    assert queue.get(key).state is ItemState.FAILED
    queue.shutdown()
    again, _, _ = make_queue({}, library=library, state_file=state_file)
    assert again.restore(resume=True) == 1
    item = again.get(key)
    assert item.state is ItemState.FAILED and "404" in item.error  # not silently retried, not dropped
    again.resume(key)  # Retry in the window
    assert again.wait(30) and again.get(key).state is ItemState.DONE


def test_restore_ignores_a_damaged_state_file(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    state_file.write_text("{not json", encoding="utf-8")
    queue, library, recorder = make_queue({"a": payload(1000)}, state_file=state_file)
    assert queue.restore(resume=True) == 0


def test_shutdown_stops_every_thread_and_keeps_partials(make_queue):
    data = payload(2 * MiB)
    queue, library, recorder = make_queue({n: data for n in "ab"}, jobs=2, rate=512 * 1024)
    queue.add(list(library.catalog))
    wait_for(lambda: all(i.done > 0 for i in queue.items()), what="both downloads to start")
    queue.shutdown()
    assert engine_threads() == []
    assert all(library.status(e).state is State.PARTIAL for e in library.catalog)
    queue.add(list(library.catalog))  # a closed queue starts nothing
    assert engine_threads() == []


def test_commands_from_many_threads_at_once(make_queue, http_server):
    data = payload(300_000)
    names = "abcdef"
    queue, library, recorder = make_queue({n: data for n in names}, jobs=3, rate=2 * MiB)
    entries = list(library.catalog)
    keys = queue.add(entries)

    def churn(i):
        for _ in range(20):
            key = keys[i % len(keys)]
            queue.pause(key)
            queue.move(key, -1)
            queue.resume(key)
            queue.items()

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert queue.wait(60)
    counts = collections.Counter(i.state for i in queue.items())
    assert counts == {ItemState.DONE: len(names)}
    assert all(library.path(e).read_bytes() == data for e in entries)
    assert bytes_served(http_server, "/a.pt") >= len(data)
