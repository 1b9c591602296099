"""Queue rules no other test pinned: Clear finished takes the done rows off and keeps the failed ones (their
Retry is still wanted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from ofa_manager.core import queue as queue_module
from ofa_manager.core.credentials import SERVICE, TokenCache
from ofa_manager.core.file_status import State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.library import Library
from ofa_manager.core.queue import ItemState
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import Aborted, DownloadError, Progress, RateLimiter, TransferOptions
from tests.catalogs import MiB, cli_env, entry, load, payload, wait_for, write_catalog
from tests.queues import FAST, Recorder

# A hang guard (a mutant of wait() that never returns), not a timed assert: each test takes seconds, and
# a hanging mutant costs the mutation run this limit.
pytestmark = pytest.mark.timeout(60)


def test_clear_finished_keeps_failed_rows(make_queue, http_server):  # noqa: F811
    queue, library, _ = make_queue({"good": payload(10_000), "bad": payload(10_000, 1)})
    http_server.route("/bad.pt").statuses = [404] * 5  # its row fails
    keys = queue.add(list(library.catalog))
    assert queue.wait(30)
    states = {i.entry_ids[0]: i.state for i in queue.items()}
    assert states == {"good": ItemState.DONE, "bad": ItemState.FAILED} and len(keys) == 2
    queue.clear_finished()
    assert [(i.entry_ids[0], i.state) for i in queue.items()] == [("bad", ItemState.FAILED)]


def test_fewer_than_one_job_means_one(make_queue, http_server):
    queue, library, recorder = make_queue({n: payload(20_000, i) for i, n in enumerate("abc")}, jobs=0)
    assert queue.jobs == 1
    queue.set_jobs(-3)
    assert queue.jobs == 1
    queue.add(list(library.catalog))
    assert queue.wait(30)
    assert recorder.max_active == 1
    assert [i.state for i in queue.items()] == [ItemState.DONE] * 3


def test_raising_the_jobs_starts_more_at_once(make_queue, http_server):
    queue, library, recorder = make_queue({n: payload(600_000, i) for i, n in enumerate("abc")}, jobs=1)
    for route in ("/a.pt", "/b.pt", "/c.pt"):
        http_server.route(route).rate = 256 * 1024
    keys = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(keys[0]).state.active, what="the first download")
    assert [queue.get(k).state for k in keys[1:]] == [ItemState.QUEUED] * 2
    queue.set_jobs(3)
    assert all(queue.get(k).state is not ItemState.QUEUED for k in keys)  # started there and then
    assert queue.wait(60)
    assert recorder.max_active == 3


def test_a_file_added_twice_is_one_key_and_one_row(make_queue, http_server):
    queue, library, recorder = make_queue({"a": payload(1000)})
    a = library.catalog.get("a")
    keys = queue.add([a, a], paused=True)
    assert keys == [queue.key_for(a)] == [str(library.path(a))]
    assert [(i.key, i.entry_ids, i.state) for i in queue.items()] == [(keys[0], ("a",), ItemState.PAUSED)]
    assert queue.get("no such key") is None
    changed = len(recorder.changes(keys[0]))
    queue.add([a], paused=True)  # nothing new: no event
    assert len(recorder.changes(keys[0])) == changed
    assert [e.kind for _, e in recorder.events].count("added") == 1


def test_adding_a_failed_file_again_clears_its_failure(make_queue, http_server):
    queue, library, _ = make_queue({"a": payload(5000)}, statuses=[404])
    a = library.catalog.get("a")
    (key,) = queue.add([a])
    assert queue.wait(30)
    failed = queue.get(key)
    assert failed.state is ItemState.FAILED and failed.error and failed.finished_at is not None
    queue.add([a], paused=True)  # Download again, paused: back on the list, the failure gone
    item = queue.get(key)
    assert (item.state, item.error, item.error_kind, item.message, item.finished_at) == (
        ItemState.PAUSED,
        None,
        None,
        "",
        None,
    )
    queue.resume(key)  # it runs now (the server answers)
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE


def test_moving_by_nothing_or_an_unknown_key_changes_nothing(make_queue):
    queue, library, recorder = make_queue({n: payload(1000, i) for i, n in enumerate("ab")})
    keys = queue.add(list(library.catalog), paused=True)
    queue.move(keys[0], 0)
    queue.move(keys[0], -1)  # already first
    queue.move("no such key", 1)
    assert [e.kind for _, e in recorder.events].count("moved") == 0
    assert [i.key for i in queue.items()] == keys
    queue.move(keys[0], 1)
    assert [(e.key, e.index) for _, e in recorder.events if e.kind == "moved"] == [(keys[0], 1)]


# Its own hang guard, far above its tenth of a second: a mutant of wait() that ignores the limit hangs here
# first, and a full mutation run meets a dozen of them.
@pytest.mark.timeout(10)
def test_wait_answers_false_while_something_can_still_run(make_queue):
    queue, library, _ = make_queue({"a": payload(1000)})
    queue.shutdown()  # a closed queue starts nothing: the item stays queued
    (key,) = queue.add(list(library.catalog))
    assert queue.get(key).state is ItemState.QUEUED
    assert queue.wait(0) is False
    assert queue.wait(0.05) is False
    queue.pause(key)
    assert queue.wait(0) is True and queue.wait() is True


def test_wait_without_a_limit_returns_once_the_downloads_end(make_queue):
    queue, library, _ = make_queue({"a": payload(20_000), "b": payload(20_000, 1)}, jobs=1)
    keys = queue.add(list(library.catalog))
    assert queue.wait() is True  # no limit: it waits for both, however long they take
    assert [queue.get(k).state for k in keys] == [ItemState.DONE] * 2


def test_pause_and_resume_only_change_what_they_can(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, recorder = make_queue({"a": payload(1000)}, state_file=state_file)
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE
    events = len(recorder.events)
    queue.pause(key)  # done: stays done
    queue.resume(key)  # done: nothing to resume
    queue.pause_all()
    queue.resume_all()
    assert queue.get(key).state is ItemState.DONE and len(recorder.events) == events


def saved_rows(state_file) -> list[dict]:
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert saved["version"] == 1
    return saved["items"]


def test_the_saved_queue_has_each_unfinished_file_with_its_state(make_queue, http_server, tmp_path):
    state_file = tmp_path / "queue.json"
    files = {"done": payload(1000, 1), "bad": payload(1000, 2), "paused": payload(1000, 3)}
    queue, library, _ = make_queue(files, state_file=state_file)
    http_server.route("/bad.pt").statuses = [404] * 5
    keys = {name: queue.add([library.catalog.get(name)])[0] for name in ("done", "bad")}
    assert queue.wait(30)
    (keys["paused"],) = queue.add([library.catalog.get("paused")], paused=True)
    queue.shutdown()
    rows = saved_rows(state_file)
    bad = queue.get(keys["bad"])
    assert rows == [
        {
            "key": keys["bad"],
            "entry_ids": ["bad"],
            "state": "failed",
            "error": bad.error,
            "error_kind": "http",
        },
        {"key": keys["paused"], "entry_ids": ["paused"], "state": "paused"},
    ]
    assert "404" in bad.error


def test_a_queue_that_cannot_save_still_downloads(make_queue, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    queue, library, _ = make_queue({"a": payload(1000)}, state_file=blocker / "queue.json")
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE
    assert blocker.read_text() == "x"


def test_restore_skips_what_it_cannot_use(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(1000), "b": payload(1000, 1)}, state_file=state_file)
    assert make_queue({}, library=library)[0].restore(resume=True) == 0  # no state file at all
    state_file.write_text(json.dumps([{"entry_ids": ["a"], "state": "queued"}]), encoding="utf-8")
    assert queue.restore(resume=True) == 0  # not an object
    state_file.write_text(
        json.dumps(
            {
                "version": 1,
                "items": [
                    {"entry_ids": ["gone"], "state": "queued"},
                    {"entry_ids": ["gone", "b"], "state": "paused"},
                    {"entry_ids": ["a"], "state": "failed"},
                ],
            }
        ),
        encoding="utf-8",
    )
    assert queue.restore(resume=True) == 2
    rows = [(i.entry_ids, i.state, i.error, i.error_kind) for i in queue.items()]
    assert rows == [(("b",), ItemState.PAUSED, None, None), (("a",), ItemState.FAILED, "failed", "error")]


def test_a_restored_failure_keeps_its_kind(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(1000)}, state_file=state_file)
    row = {"entry_ids": ["a"], "state": "failed", "error": "no room", "error_kind": "space"}
    state_file.write_text(json.dumps({"version": 1, "items": [row]}), encoding="utf-8")
    assert queue.restore(resume=False) == 1
    (item,) = queue.items()
    assert (item.state, item.error, item.error_kind) == (ItemState.FAILED, "no room", "space")


def test_an_unexpected_error_in_a_download_fails_its_row_with_the_reason(make_queue, monkeypatch):
    # A bug in the engine cannot be staged with real parts: the transfer's run is made to raise one.
    def broken(self):
        raise RuntimeError("boom at https://user:secret@host.example/x")

    monkeypatch.setattr(queue_module.Transfer, "run", broken)
    queue, library, _ = make_queue({"a": payload(1000), "b": payload(1000, 1)}, jobs=1)
    keys = queue.add(list(library.catalog))
    assert queue.wait(30)
    for key in keys:  # the worker did not die: the second file ran too
        item = queue.get(key)
        assert item.state is ItemState.FAILED and item.error_kind == "error"
        assert item.error.startswith("unexpected error: RuntimeError(") and "boom" in item.error
        assert "secret" not in item.error


def test_a_download_that_cannot_even_start_fails_its_row_and_wait_returns(make_queue, monkeypatch):
    # As above: the transfer's setup is made to raise (a bug, or a catalog entry gone), which real parts
    # cannot stage. The worker must not die before it can say so: the row would stay "connecting" and wait()
    # would never return.
    def broken(*args, **kwargs):
        raise RuntimeError("cannot set up")

    monkeypatch.setattr(queue_module, "Transfer", broken)
    queue, library, _ = make_queue({"a": payload(1000), "b": payload(1000, 1)}, jobs=1)
    keys = queue.add(list(library.catalog))
    assert queue.wait(30)
    for key in keys:
        item = queue.get(key)
        assert (item.state, item.error_kind) == (ItemState.FAILED, "error")
        assert item.error == "unexpected error: RuntimeError('cannot set up')"


def test_resume_and_cancel_touch_only_the_file_named(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, recorder = make_queue(
        {n: payload(1000, i) for i, n in enumerate("abc")}, state_file=state_file
    )
    queue.shutdown()  # closed: nothing starts, so the states stay where the commands put them
    a, b, c = queue.add(list(library.catalog), paused=True)
    queue.resume(a)
    assert [queue.get(k).state for k in (a, b, c)] == [ItemState.QUEUED, ItemState.PAUSED, ItemState.PAUSED]
    queue.cancel(b)
    assert [i.key for i in queue.items()] == [a, c]
    (removed,) = [e for _, e in recorder.events if e.kind == "removed"]
    assert removed.key == b and removed.item.key == b and removed.item.state is ItemState.PAUSED
    assert [row["key"] for row in saved_rows(state_file)] == [a, c]  # saved at once
    queue.move(c, -1)
    (moved,) = [e for _, e in recorder.events if e.kind == "moved"]
    assert (moved.key, moved.index, moved.item.key) == (c, 0, c)


def test_pause_and_resume_are_saved_at_once_and_a_command_that_changes_nothing_writes_nothing(
    make_queue, tmp_path
):
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({n: payload(1000, i) for i, n in enumerate("ab")}, state_file=state_file)
    queue.shutdown()
    a, b = queue.add(list(library.catalog))
    queue.pause(a)
    assert [row["state"] for row in saved_rows(state_file)] == ["paused", "queued"]
    state_file.unlink()
    queue.pause(a)  # paused already
    queue.resume(b)  # queued already
    assert not state_file.exists()
    queue.resume(a)
    assert [row["state"] for row in saved_rows(state_file)] == ["queued", "queued"]


def test_a_paused_download_shows_no_speed_connections_or_message(make_queue, http_server):
    queue, library, _ = make_queue({"a": payload(2 * MiB)}, rate=512 * 1024)
    (key,) = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(key).speed > 0 and queue.get(key).connections > 0, what="a running download")
    queue.pause(key)
    item = queue.get(key)
    assert (item.state, item.speed, item.eta, item.connections, item.message) == (
        ItemState.PAUSED,
        0.0,
        None,
        0,
        "",
    )
    assert item.done > 0  # what came in is still counted


def test_retry_clears_the_failure_from_the_row_as_it_queues(make_queue, http_server):
    queue, library, recorder = make_queue({"a": payload(1000)}, statuses=[404])
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30) and queue.get(key).state is ItemState.FAILED
    mark = len(recorder.events)
    queue.resume(key)
    requeued = next(e.item for _, e in recorder.events[mark:] if e.kind == "changed")
    assert (requeued.state, requeued.error, requeued.error_kind, requeued.message) == (
        ItemState.QUEUED,
        None,
        None,
        "",
    )
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE


def test_a_transfer_that_fails_as_it_is_paused_stays_paused(make_queue, monkeypatch):
    # A transfer failing at the very moment it is paused cannot be timed with real parts: the transfer's run
    # is made to wait for the pause and then fail.
    def fails_when_stopped(self):
        self.abort.wait(30)
        raise DownloadError(self.entry.title, "connection reset", kind=ErrorKind.NETWORK)

    monkeypatch.setattr(queue_module.Transfer, "run", fails_when_stopped)
    queue, library, _ = make_queue({"a": payload(1000)})
    (key,) = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(key).state is ItemState.CONNECTING, what="the download to start")
    queue.pause(key)
    assert queue.wait(30)  # the worker has ended
    item = queue.get(key)
    assert (item.state, item.error) == (ItemState.PAUSED, None)


def test_restore_skips_rows_without_files_and_a_file_without_rows(make_queue, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(1000)}, state_file=state_file)
    state_file.write_text(json.dumps({"version": 1}), encoding="utf-8")
    assert queue.restore(resume=True) == 0
    state_file.write_text(json.dumps({"version": 1, "items": [{"state": "queued"}]}), encoding="utf-8")
    assert queue.restore(resume=True) == 0 and queue.items() == []


def test_a_saved_failure_does_not_stop_a_download_already_running(make_queue, http_server, tmp_path):
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(2 * MiB)}, rate=512 * 1024, state_file=state_file)
    (key,) = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(key).done > 0, what="the download to run")
    row = {"entry_ids": ["a"], "state": "failed", "error": "404", "error_kind": "http"}
    state_file.write_text(json.dumps({"version": 1, "items": [row]}), encoding="utf-8")
    assert queue.restore(resume=True) == 1
    assert queue.get(key).state.active and queue.get(key).error is None
    assert queue.wait(60) and queue.get(key).state is ItemState.DONE


def test_pausing_a_file_another_process_downloads_clears_its_words(make_queue):
    queue, library, _ = make_queue({"a": payload(1000)})
    a = library.catalog.get("a")
    with library.lock(a):  # as another process downloading the same file would hold it
        (key,) = queue.add([a])
        wait_for(lambda: queue.get(key).state is ItemState.WAITING, what="the waiting state")
        assert queue.get(key).message  # it says who downloads it
        queue.pause(key)
        assert (queue.get(key).state, queue.get(key).message) == (ItemState.PAUSED, "")


def test_a_retry_shows_on_its_row_as_stalled_then_connecting_again(make_queue, http_server):
    # The pause before the retry (at least half a second) is longer than the transfer's own gap between
    # two reports, so its "connecting" after the stall is not folded into the stall's report.
    options = TransferOptions(backoff_base=1.0, retries=2, timeout=5.0, connect_timeout=5.0)
    queue, library, recorder = make_queue({"a": payload(20_000)}, jobs=1, options=options)
    http_server.route("/a.pt").statuses = [503]  # the first answer: busy, try again
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE
    states = recorder.states(key)
    shown = [state for i, state in enumerate(states) if states[i - 1 : i] != [state]]
    stalled = shown.index(ItemState.STALLED)
    assert shown[stalled + 1] is ItemState.CONNECTING
    assert shown[-2:] == [ItemState.VERIFYING, ItemState.DONE]  # the file's check shows before it is done
    reason = next(e.item.message for _, e in recorder.changes(key) if e.item.state is ItemState.STALLED)
    assert reason.startswith("503 Service Unavailable; retrying in ")


def test_a_downloading_row_carries_the_transfers_figures(make_queue):
    size = 400_000
    options = TransferOptions(backoff_base=0.01, connections=1)
    queue, library, recorder = make_queue({"a": payload(size)}, jobs=1, rate=200 * 1024, options=options)
    (key,) = queue.add(list(library.catalog))  # the catalog gives no size: the server's answer does
    assert queue.wait(60) and queue.get(key).state is ItemState.DONE
    rows = [e.item for _, e in recorder.changes(key)]
    downloading = [row for row in rows if row.state is ItemState.DOWNLOADING]
    assert len(downloading) >= 2 and all(row.total == size for row in downloading)
    assert [row.done for row in downloading] == sorted(row.done for row in downloading)
    moving = [row for row in downloading if row.speed > 0]
    assert moving and all(row.eta is not None and row.eta >= 0 for row in moving)
    assert all(row.connections == 1 for row in downloading)
    assert [row.total for row in rows if row.state is ItemState.VERIFYING] == [size]


class _KnownTokens(TokenCache):
    """A token already known for every host (the system keyring cannot exist here)."""

    def token_for(self, url: str) -> str | None:
        return "s3cret"


class _CountingLimiter(RateLimiter):
    """The real speed limit (10 MiB/s, never reached here), counting the bytes that drew on it."""

    def __init__(self) -> None:
        super().__init__(10 * MiB)
        self.consumed = 0

    def consume(self, amount: int, abort) -> None:
        self.consumed += amount  # one connection per download, one download at a time
        super().consume(amount, abort)


def test_the_queues_options_speed_limit_and_tokens_reach_every_download(make_queue, http_server):
    _, library, _ = make_queue({"a": payload(100_000), "b": payload(10_000, 1)})
    http_server.route("/b.pt").statuses = [503] * 10  # always busy: its row fails after the retries
    limiter, tokens = _CountingLimiter(), _KnownTokens()
    options = TransferOptions(retries=1, backoff_base=0.01, connections=1)
    queue = queue_module.DownloadQueue(library, options, jobs=1, limiter=limiter, tokens=tokens)
    try:
        keys = queue.add(list(library.catalog))
        assert queue.wait(30)
    finally:
        queue.shutdown()
    a, b = (queue.get(k) for k in keys)
    assert a.state is ItemState.DONE and limiter.consumed == 100_000
    assert b.state is ItemState.FAILED and b.error.endswith("(gave up after 2 attempts)")
    assert http_server.requests and {r.headers.get("authorization") for r in http_server.requests} == {
        "Bearer s3cret"
    }


@pytest.mark.parametrize("where", ["everywhere", "in the download threads"])
def test_an_event_handler_that_fails_stops_no_download_nor_wait(make_queue, http_server, caplog, where):
    # As when the command line's progress line goes to a terminal that was closed: every event raises
    # (or only those the download threads send, the ones that used to end a worker and hang wait()).
    data = {"a": payload(300_000), "b": payload(300_000, 1)}
    queue, library, _ = make_queue(data, jobs=1)
    gone = BrokenPipeError(32, "Broken pipe")

    def handler(event):
        if where == "everywhere" or threading.current_thread() is not threading.main_thread():
            raise gone

    queue.on_event = handler
    with caplog.at_level("WARNING", logger="ofa_manager.core.queue"):
        queue.add(list(library.catalog))
        assert queue.wait(60), "a worker died in the event handler: wait() never returned"
    assert [i.state for i in queue.items()] == [ItemState.DONE, ItemState.DONE]
    assert {name: library.path(library.catalog.get(name)).read_bytes() for name in data} == data
    assert queue.event_error is gone
    # Said once, not once per event.
    assert [r.getMessage() for r in caplog.records] == [f"download events are no longer shown: {gone!r}"]


def test_a_file_removed_as_its_download_finishes_fails_its_row_and_is_saved_so(
    make_queue, tmp_path, monkeypatch
):
    # `rm` between the engine's rename and the queue's look at the file cannot be timed with real parts: the
    # real transfer runs whole, then the file is removed before the queue looks.
    real_run = queue_module.Transfer.run

    def run_then_remove(self):
        real_run(self)
        self.library.path(self.entry).unlink()

    monkeypatch.setattr(queue_module.Transfer, "run", run_then_remove)
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(5000)}, state_file=state_file)
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30)
    item = queue.get(key)
    gone = f"its file was removed from {library.root} as the download finished"
    assert (item.state, item.error, item.error_kind) == (ItemState.FAILED, gone, "removed")
    assert item.finished_at is not None
    # Saved as it failed, not only at the exit.
    failed = {"key": key, "entry_ids": ["a"], "state": "failed", "error": gone, "error_kind": "removed"}
    assert saved_rows(state_file) == [failed]


def test_a_finished_row_shows_the_file_as_it_is_and_no_speed_connections_or_message(
    make_queue, tmp_path, monkeypatch
):
    # A file damaged between the engine's rename and the queue's look cannot be timed with real parts: the
    # real transfer runs whole, then one byte of the file rots (same size and time) and a verify finds it.
    real_run = queue_module.Transfer.run

    def run_then_rot(self):
        real_run(self)
        path = self.library.path(self.entry)
        st = os.stat(path)
        with open(path, "r+b") as file:
            file.seek(1000)
            byte = file.read(1)
            file.seek(1000)
            file.write(bytes([byte[0] ^ 0xFF]))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert self.library.verify(self.entry).state is State.CORRUPT

    monkeypatch.setattr(queue_module.Transfer, "run", run_then_rot)
    state_file = tmp_path / "queue.json"
    size = 300_000
    queue, library, recorder = make_queue({"a": payload(size)}, jobs=1, state_file=state_file)
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30)
    item = queue.get(key)
    # The file is there (damaged: the tree says so): the row is done, with the size that is there.
    assert (item.state, item.done, item.total, item.error, item.error_kind) == (
        ItemState.DONE,
        size,
        size,
        None,
        None,
    )
    assert (item.speed, item.eta, item.connections, item.message) == (0.0, None, 0, "")
    assert item.finished_at is not None
    assert recorder.changes(key)[-1][1].item == item
    assert saved_rows(state_file) == []  # done: off the saved list at once, not only at the exit


def test_by_default_two_files_download_at_once_in_threads_that_never_hold_up_an_exit(make_queue, http_server):
    _, library, _ = make_queue({n: payload(400_000, i) for i, n in enumerate("abc")}, rate=256 * 1024)
    recorder = Recorder()
    queue = queue_module.DownloadQueue(library, on_event=recorder)  # every default
    try:
        assert queue.jobs == 2
        keys = queue.add(list(library.catalog))
        wait_for(lambda: all(queue.get(k).state.active for k in keys[:2]), what="two downloads")
        workers = [t for t in threading.enumerate() if t.name == "ofa-download"]
        assert len(workers) == 2 and all(t.daemon for t in workers)
        assert queue.get(keys[2]).state is ItemState.QUEUED
        assert queue.wait(60)
    finally:
        queue.shutdown()
    assert recorder.max_active == 2
    assert [queue.get(k).state for k in keys] == [ItemState.DONE] * 3


class _Clock:
    """The queue's clock, moved by the test: reports a tenth of a second apart cannot be placed with a real
    clock on a loaded machine. ``time()`` (a row's finishing time) stays the real one."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    time = staticmethod(time.time)


def _report(state: str, done: int = 0, total: int | None = None, **fields) -> Progress:
    values = dict(speed=0.0, eta=None, connections=0, message="")
    values.update(fields)
    return Progress(done=done, total=total, state=state, **values)


def test_a_row_follows_the_transfers_reports_at_most_ten_a_second_and_every_change_of_state(
    make_queue, monkeypatch
):
    # The transfer's reports are scripted at exact instants of the queue's clock (a real transfer's
    # cannot be placed so); everything else, the queue, its worker and its events, is real.
    clock = _Clock()
    monkeypatch.setattr(queue_module, "time", clock)
    script = [
        # the same state a tenth of a second after the last shown (the start): shown
        (0.1, _report("connecting", message="connecting to the server")),
        # a new state at once: shown
        (0.15, _report("downloading", 100, 1000, speed=50.0, eta=18.0, connections=2)),
        # the same state within a tenth of a second: not shown
        (0.2, _report("downloading", 150, 1000, speed=60.0, eta=14.0, connections=2)),
        (0.5, _report("stalled", 160, 1000, message="no data for 30 s")),
        # a reconnection knows no size nor bytes: the row keeps what it had
        (0.6, _report("connecting", 0, 0, message="connecting again")),
        # another process downloads the file: its bytes are shown
        (0.7, _report("waiting", 400, 1000, message="another process downloads it")),
        # the file's check counts the bytes hashed, not those downloaded: the row keeps its bytes
        (0.8, _report("verifying", 5, 1000, speed=9.0, eta=3.0, connections=1, message="checking the file")),
        (0.9, _report("a state of a newer engine", 600, 1000)),  # not one the queue knows: not shown
    ]

    def scripted(self):
        for at, report in script:
            clock.now = at
            self.on_progress(report)
        raise DownloadError(self.entry.title, "the end of the script", kind=ErrorKind.NETWORK)

    monkeypatch.setattr(queue_module.Transfer, "run", scripted)
    queue, library, recorder = make_queue({"a": payload(1000)}, jobs=1)
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(30)
    shown = [
        (i.state, i.done, i.total, i.speed, i.eta, i.connections, i.message)
        for i in (e.item for _, e in recorder.changes(key))
    ]
    assert shown == [
        (ItemState.CONNECTING, 0, None, 0.0, None, 0, ""),  # started
        (ItemState.CONNECTING, 0, None, 0.0, None, 0, "connecting to the server"),
        (ItemState.DOWNLOADING, 100, 1000, 50.0, 18.0, 2, ""),
        (ItemState.STALLED, 160, 1000, 0.0, None, 0, "no data for 30 s"),
        (ItemState.CONNECTING, 160, 1000, 0.0, None, 0, "connecting again"),
        (ItemState.WAITING, 400, 1000, 0.0, None, 0, "another process downloads it"),
        (ItemState.VERIFYING, 400, 1000, 9.0, 3.0, 1, "checking the file"),
        # the end clears the figures of a running transfer
        (ItemState.FAILED, 400, 1000, 0.0, None, 0, ""),
    ]
    assert queue.get(key).error == "the end of the script"


def test_a_report_from_a_transfer_that_is_stopping_changes_no_row(make_queue, monkeypatch):
    # A transfer reporting once more after it was told to stop cannot be timed with real parts: the
    # transfer's run waits for its stop, reports, and ends as a stopped transfer does.
    def reports_after_its_stop(self):
        self.abort.wait(30)
        self.on_progress(_report("downloading", 500, 1000, speed=10.0, eta=50.0, connections=1))
        raise Aborted()

    monkeypatch.setattr(queue_module.Transfer, "run", reports_after_its_stop)
    queue, library, recorder = make_queue({"a": payload(1000), "b": payload(1000, 1)})
    a, b = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(a).state.active and queue.get(b).state.active, what="both to start")
    queue.pause(a)
    queue.shutdown()  # b stops too; both workers have ended when it returns
    assert (queue.get(a).state, queue.get(a).done) == (ItemState.PAUSED, 0)
    assert (queue.get(b).state, queue.get(b).done) == (ItemState.CONNECTING, 0)  # as the exit left it
    assert not [e for _, e in recorder.events if e.item is not None and e.item.done]


def test_a_wait_with_time_left_waits_for_the_downloads(make_queue, monkeypatch):
    # The queue's clock stands still: the half second given never runs out, however slow the machine.
    monkeypatch.setattr(queue_module, "time", _Clock())
    queue, library, _ = make_queue({"a": payload(200_000)}, rate=400 * 1024)
    (key,) = queue.add(list(library.catalog))
    assert queue.wait(0.5) is True
    assert queue.get(key).state is ItemState.DONE


def test_a_transfer_that_fails_as_the_queue_shuts_down_is_saved_to_resume(make_queue, monkeypatch, tmp_path):
    # As for a pause: a failure at the very moment of the exit cannot be timed with real parts; the
    # transfer's run waits for its stop and then fails.
    def fails_when_stopped(self):
        self.abort.wait(30)
        raise DownloadError(self.entry.title, "connection reset", kind=ErrorKind.NETWORK)

    monkeypatch.setattr(queue_module.Transfer, "run", fails_when_stopped)
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({"a": payload(1000)}, state_file=state_file)
    (key,) = queue.add(list(library.catalog))
    wait_for(lambda: queue.get(key).state is ItemState.CONNECTING, what="the download to start")
    queue.shutdown()
    item = queue.get(key)
    assert (item.state, item.error) == (ItemState.CONNECTING, None)  # as the exit left it, not failed
    assert saved_rows(state_file) == [{"key": key, "entry_ids": ["a"], "state": "queued"}]


def test_the_keyring_is_asked_once_per_host_for_all_the_queues_downloads(
    make_queue, http_server, memory_keyring, monkeypatch
):
    _, library, _ = make_queue({"a": payload(10_000), "b": payload(10_000, 1)})
    host = normalise_host(http_server.url("/a.pt"))
    memory_keyring.set_password(SERVICE, host, "s3cret")
    asked = []
    real = memory_keyring.get_password
    monkeypatch.setattr(memory_keyring, "get_password", lambda s, u: asked.append(u) or real(s, u))
    queue = queue_module.DownloadQueue(library, FAST, jobs=1)  # its own token cache, as the window's
    try:
        keys = queue.add(list(library.catalog))
        assert queue.wait(30)
    finally:
        queue.shutdown()
    assert [queue.get(k).state for k in keys] == [ItemState.DONE] * 2
    assert asked == [host]
    assert {r.headers.get("authorization") for r in http_server.requests} == {"Bearer s3cret"}


def test_every_event_names_the_rows_place_in_the_list(make_queue):
    queue, library, recorder = make_queue({n: payload(1000, i) for i, n in enumerate("abc")})
    queue.shutdown()  # closed: nothing starts, only the commands below change rows
    a, b, c = queue.add(list(library.catalog), paused=True)
    queue.cancel(a)
    queue.resume(c)
    queue.move(c, -1)
    queue.pause(c)
    events = [(e.kind, e.key, e.index) for _, e in recorder.events]
    assert events == [
        ("added", a, 0),
        ("added", b, 1),
        ("added", c, 2),
        ("removed", a, -1),
        ("changed", c, 1),
        ("moved", c, 0),
        ("changed", c, 0),
    ]


def test_the_saved_queue_is_written_without_waiting_for_the_disk(make_queue, tmp_path, monkeypatch):
    # It is written at every command (a click in the window): a crash loses only the restart memory.
    state_file = tmp_path / "queue.json"
    queue, library, _ = make_queue({n: payload(1000, i) for i, n in enumerate("ab")}, state_file=state_file)
    queue.shutdown()
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    a, b = queue.add(list(library.catalog), paused=True)
    queue.resume(a)
    queue.move(b, -1)
    assert [row["key"] for row in saved_rows(state_file)] == [b, a]
    assert synced == []


RESTORE_IN_A_PROCESS = """
import json
import sys
from pathlib import Path
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue

library = Library(Path(sys.argv[1]), load_catalog([Path(sys.argv[2])]))
queue = DownloadQueue(library, state_file=Path(sys.argv[3]))
print(json.dumps([queue.restore(resume=False), [item.error for item in queue.items()]]))
"""


def test_the_saved_queue_is_read_as_utf8_whatever_the_locale(tmp_path, models_dir):
    # The locale's encoding is fixed when Python starts: a process started with the plain C locale (ASCII,
    # neither coerced nor in UTF-8 mode), as on a server or under a minimal session.
    catalog = write_catalog(tmp_path / "c.json", [entry("a", "http://127.0.0.1:9/a.pt")])
    state_file = tmp_path / "queue.json"
    row = {"entry_ids": ["a"], "state": "failed", "error": "le serveur a répondu 404", "error_kind": "http"}
    state_file.write_text(json.dumps({"version": 1, "items": [row]}, ensure_ascii=False), encoding="utf-8")
    env = cli_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run(
        [sys.executable, "-c", RESTORE_IN_A_PROCESS, str(models_dir), str(catalog), str(state_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [1, ["le serveur a répondu 404"]]


def test_a_file_that_completes_as_it_is_paused_is_done(make_queue, monkeypatch):
    # The last bytes arriving at the very moment of a pause cannot be timed with real parts: the real
    # transfer runs whole, then waits for the pause before it returns.
    real_run = queue_module.Transfer.run

    def completes_then_waits_for_the_pause(self):
        real_run(self)
        self.abort.wait(30)

    monkeypatch.setattr(queue_module.Transfer, "run", completes_then_waits_for_the_pause)
    queue, library, _ = make_queue({"a": payload(5000)})
    a = library.catalog.get("a")
    (key,) = queue.add([a])
    wait_for(lambda: library.status(a).state is State.DOWNLOADED, what="the file in place")
    queue.pause(key)
    assert queue.wait(30)
    item = queue.get(key)
    assert (item.state, item.done, item.total) == (ItemState.DONE, 5000, 5000)


def test_a_new_row_names_the_checkpoint_and_its_size_as_the_catalog_gives_them(
    make_queue, tmp_path, models_dir, http_server
):
    http_server.add("/a.pt", payload(1000))
    http_server.add("/b.pt", payload(1000, 1))
    rows = [
        entry("a", http_server.url("/a.pt"), title="Model A", size=1000),
        entry("b", http_server.url("/b.pt")),
    ]
    library = Library(models_dir, load(write_catalog(tmp_path / "sized.json", rows)))
    queue, library, recorder = make_queue({}, library=library)
    queue.shutdown()  # closed: the rows stay as added
    queue.add(list(library.catalog), paused=True)
    assert [(i.title, i.total) for i in queue.items()] == [("Model A", 1000), ("B", None)]
    assert [e.item for _, e in recorder.events if e.kind == "added"] == queue.items()


def test_a_finished_file_added_again_runs_again_under_every_entry_that_named_it(
    make_queue, tmp_path, models_dir, http_server
):
    data = payload(10_000)
    http_server.add("/s.pt", data)
    rows = [entry("x", http_server.url("/s.pt")), entry("y", http_server.url("/s.pt"))]
    library = Library(models_dir, load(write_catalog(tmp_path / "shared.json", rows)))
    queue, library, recorder = make_queue({}, library=library)
    (key,) = queue.add([library.catalog.get("x")])
    assert queue.wait(30) and queue.get(key).state is ItemState.DONE
    mark = len(recorder.events)
    assert queue.add([library.catalog.get("y")]) == [key]  # Download again, from the other entry
    requeued = recorder.events[mark][1].item
    assert (requeued.state, requeued.entry_ids) == (ItemState.QUEUED, ("x", "y"))
    assert queue.wait(30)
    assert (queue.get(key).state, queue.get(key).entry_ids) == (ItemState.DONE, ("x", "y"))
