"""The window layer's parts: background work reports through the callbacks it was submitted with (typed
results, in the GUI thread, never after shutdown), a task works on the inputs captured when it was made,
the enabling rules of the action table, and the downloads panel acting through the commands."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QApplication  # noqa: E402

from ofa_manager.core.library import Library  # noqa: E402
from ofa_manager.core.states import ItemState  # noqa: E402
from ofa_manager.gui.actions import Selection, enabled_actions  # noqa: E402
from ofa_manager.gui.bridge import Bridge  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, row_of  # noqa: E402

pytestmark = WINDOW_MARKS


@pytest.fixture
def bridge(qtbot):
    made = Bridge()
    yield made
    assert made.shutdown(5.0)


def test_a_task_reports_to_its_own_callbacks_in_the_gui_thread(qtbot, bridge):
    gui_thread = threading.current_thread()
    done, failed, progress, threads = [], [], [], []
    release = threading.Event()

    def work(task):
        task.progress(1, 2)
        release.wait(5)
        task.progress(2, 2)
        return {"answer": 42}

    def on_done(result):
        threads.append(threading.current_thread())
        done.append(result)

    bridge.submit(work, on_done, failed.append, on_progress=progress.append)
    # The submission returned before the work ran to its end: it runs off the GUI thread.
    assert done == []
    release.set()
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert done == [{"answer": 42}] and failed == [] and threads == [gui_thread]
    assert progress == [0.5, 1.0]


def test_a_failed_task_reports_its_reason_and_a_shut_bridge_reports_nothing(qtbot, bridge):
    failed, done = [], []

    def work(task):
        raise OSError("disk on fire")

    bridge.submit(work, done.append, failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=WAIT_MS)
    assert failed == ["disk on fire"] and done == []

    # Finished while the bridge shuts down: the answer is dropped, not delivered to a closed window.
    started, release = threading.Event(), threading.Event()

    def slow(task):
        started.set()
        release.wait(5)
        return "late"

    bridge.submit(slow, done.append, failed.append)
    assert started.wait(5)
    stopper = threading.Thread(target=bridge.shutdown, args=(5.0,))
    stopper.start()
    qtbot.waitUntil(lambda: bridge.stopping, timeout=WAIT_MS)
    release.set()
    stopper.join(5)
    QApplication.processEvents()
    assert done == []


def test_a_verification_hashes_with_the_library_it_was_started_with(
    qtbot, monkeypatch, server, open_window, models_dir
):
    # The task captures the library when it is submitted: the GUI thread replacing the store's library
    # before the worker runs (new shared stores, a folder change) does not change what the worker uses.
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    qtbot.waitUntil(lambda: window.actions_by_name["verify"].isEnabled(), timeout=WAIT_MS)
    store = window.store
    started_with = store.library
    messages: list[str] = []
    store.message.connect(messages.append)
    seen = []
    original = Library.verify

    def verify(library, entry, **kwargs):
        seen.append(library)
        return original(library, entry, **kwargs)

    monkeypatch.setattr(Library, "verify", verify)
    # Both disk workers held, so the verification waits in line until the library is replaced.
    gate, held = threading.Event(), threading.Semaphore(0)

    def hold(task):
        held.release()
        gate.wait(10)

    for _ in range(2):
        window.workspace.bridge.submit(hold, lambda result: None)
    assert held.acquire(timeout=5) and held.acquire(timeout=5)
    assert window.commands.verify([store.catalog.get("ofa-tiny")]) == 1
    store.library = Library(started_with.root, store.catalog)
    gate.set()
    qtbot.waitUntil(lambda: any("verified" in m for m in messages), timeout=WAIT_MS)
    assert seen == [started_with]


def selection(**fields):
    values = dict(
        entries=["x"],
        states=set(),
        statuses=[],
        settled=[],
        verifiable=[],
        wanted=False,
        ready=True,
        touch=True,
    )
    values.update(fields)
    return Selection(**values)


def test_the_action_table_enables_each_action_by_its_rule():
    assert enabled_actions(selection(states={ItemState.FAILED}))["retry"] is True
    assert enabled_actions(selection(states={ItemState.FAILED}, ready=False))["retry"] is False
    assert enabled_actions(selection(states={ItemState.DONE}))["retry"] is False
    assert enabled_actions(selection(states={ItemState.DOWNLOADING}))["pause"] is True
    assert enabled_actions(selection(states={ItemState.PAUSED}))["pause"] is False
    assert enabled_actions(selection(settled=["x"]))["delete"] is True
    assert enabled_actions(selection(settled=["x"], touch=False))["delete"] is False
    assert enabled_actions(selection(entries=[]))["open"] is False
    assert enabled_actions(selection(ready=False, touch=False, entries=[]))["check"] is True


def test_the_downloads_panel_pauses_and_cancels_through_the_commands(qtbot, server, open_window):
    server.add("ofa-base", 256 * KiB)
    window = open_window(server.catalog())
    calls = []
    commands = window.commands
    for name in ("pause_key", "resume_key", "cancel_key"):
        real = getattr(commands, name)
        setattr(commands, name, lambda key, real=real, name=name: (calls.append(name), real(key)))
    window.commands.download([window.store.catalog.get("ofa-base")])
    qtbot.waitUntil(lambda: row_of(window, "ofa-base") is not None, timeout=WAIT_MS)
    key = window.store.key_of(window.store.catalog.get("ofa-base"))
    window.downloads.act(key, "pause")
    window.downloads.act(key, "cancel")
    assert calls == ["pause_key", "cancel_key"]
    qtbot.waitUntil(lambda: row_of(window, "ofa-base") is None, timeout=WAIT_MS)
