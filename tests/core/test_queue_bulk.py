"""Bulk queue commands: Pause all, Resume all, Cancel all and Clear finished change every file at once.

Each one changes every affected item under one hold of the queue's lock and schedules once: pausing
all never starts a queued file on the way (only to pause it), resuming all starts up to ``jobs`` files.
"""

from __future__ import annotations

import threading

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue, ItemState, QueueEvent
from ofa_manager.core.transfer_options import TransferOptions
from tests.catalogs import MiB, engine_threads, entry, load, payload, wait_for, write_catalog

OPTIONS = TransferOptions(backoff_base=0.01, retries=2, timeout=5.0, connect_timeout=5.0, connections=1)
NAMES = ("a", "b", "c", "d", "e", "f")


# timeout: a hang guard (a queue that never returns from wait), not a timed assert.
pytestmark = [pytest.mark.usefixtures("engine_threads_end"), pytest.mark.timeout(60)]


class Events:
    """Every event the queue emits, in order (they come from worker threads and the caller's)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[QueueEvent] = []

    def __call__(self, event: QueueEvent) -> None:
        with self.lock:
            self.log.append(event)

    def since(self, mark: int) -> list[QueueEvent]:
        with self.lock:
            return self.log[mark:]

    def __len__(self) -> int:
        with self.lock:
            return len(self.log)


@pytest.fixture
def six(tmp_path, models_dir, http_server):
    """Six 2 MiB files served slowly, and a queue of three jobs over them (shut down afterwards)."""
    data = {name: payload(2 * MiB, seed=i) for i, name in enumerate(NAMES)}
    for name in NAMES:
        http_server.add(f"/{name}.pt", data[name], rate=256 * 1024)
    catalog = write_catalog(tmp_path / "c.json", [entry(n, http_server.url(f"/{n}.pt")) for n in NAMES])
    library = Library(models_dir, load(catalog))
    events = Events()
    queue = DownloadQueue(library, OPTIONS, jobs=3, on_event=events)
    yield queue, library, events, data
    queue.shutdown()


def gets(server, name: str) -> int:
    return len(server.requests_for(f"/{name}.pt", "GET"))


def started(events: list[QueueEvent]) -> list[str]:
    """Keys of the items that left the queue for a transfer, in order."""
    return [e.key for e in events if e.kind == "changed" and e.item is not None and e.item.state.active]


def test_pause_all_with_three_running_and_three_queued_starts_no_new_transfer(six, http_server):
    queue, library, events, _ = six
    keys = queue.add(list(library.catalog))
    running, waiting = keys[:3], keys[3:]
    wait_for(lambda: all(queue.get(k).done > 0 for k in running), what="three files coming in")
    assert [queue.get(k).state for k in waiting] == [ItemState.QUEUED] * 3
    mark = len(events)

    queue.pause_all()

    assert [item.state for item in queue.items()] == [ItemState.PAUSED] * 6
    wait_for(lambda: not engine_threads(), what="the transfers to stop")
    after = events.since(mark)
    # One change per file, to Paused, and nothing else: no queued file was started on the way.
    assert [(e.kind, e.key, e.item.state) for e in after] == [("changed", k, ItemState.PAUSED) for k in keys]
    assert started(after) == []
    # The server never saw the queued files asked for.
    assert [gets(http_server, n) for n in NAMES[3:]] == [0, 0, 0]
    assert all(library.status(e).state is State.PARTIAL for e in list(library.catalog)[:3])


def test_resume_all_starts_up_to_jobs_files_at_once_in_queue_order(six, http_server):
    queue, library, events, data = six
    keys = queue.add(list(library.catalog), paused=True)
    assert engine_threads() == [] and len(http_server.requests) == 0
    mark = len(events)

    queue.resume_all()

    after = events.since(mark)
    # Every file is queued first, and only then do the first three start: one scheduling pass.
    assert [(e.key, e.item.state) for e in after[:6]] == [(k, ItemState.QUEUED) for k in keys]
    assert started(after[6:])[:3] == keys[:3]
    assert [queue.get(k).state.active for k in keys] == [True] * 3 + [False] * 3
    for name in NAMES:
        http_server.route(f"/{name}.pt").rate = None
    assert queue.wait(60)
    assert [item.state for item in queue.items()] == [ItemState.DONE] * 6
    assert all(library.path(e).read_bytes() == data[e.id] for e in library.catalog)


def test_cancel_all_takes_off_every_unfinished_file_and_starts_none(six, http_server):
    queue, library, events, _ = six
    entries = list(library.catalog)
    http_server.route("/a.pt").rate = None
    (done,) = queue.add(entries[:1])
    assert queue.wait(30) and queue.get(done).state is ItemState.DONE
    keys = queue.add(entries[1:])  # b, c, d run; e, f wait
    wait_for(lambda: all(queue.get(k).done > 0 for k in keys[:3]), what="three files coming in")
    mark = len(events)

    queue.cancel_all()

    assert [item.key for item in queue.items()] == [done]
    wait_for(lambda: not engine_threads(), what="the transfers to stop")
    after = events.since(mark)
    assert [(e.kind, e.key) for e in after] == [("removed", k) for k in keys]
    assert [gets(http_server, n) for n in ("e", "f")] == [0, 0]
    # The partial data stays on disk for a later download.
    assert [library.status(e).state for e in entries[1:4]] == [State.PARTIAL] * 3


def test_clear_finished_removes_the_done_files_only(six, http_server):
    queue, library, events, _ = six
    entries = list(library.catalog)
    http_server.route("/a.pt").rate = None
    http_server.route("/b.pt").rate = None
    done = queue.add(entries[:2])
    assert queue.wait(30)
    paused = queue.add(entries[2:], paused=True)
    mark = len(events)

    queue.clear_finished()

    assert [item.key for item in queue.items()] == paused
    assert [(e.kind, e.key) for e in events.since(mark)] == [("removed", k) for k in done]
    assert engine_threads() == []
