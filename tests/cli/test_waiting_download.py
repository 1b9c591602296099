"""`ofa-manager download` of a file another process is downloading (issue 11, item 7): it says so at once,
names that process, shows that download's progress, and Ctrl+C stops only the waiting. Real processes
against the loopback server, which holds the first download half-way (stall_until) until the test has
seen what it waits for: no outcome depends on how fast the machine is."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from ofa_manager.core import elsewhere
from ofa_manager.core.library import Library
from tests.catalogs import (
    MiB,
    bytes_served,
    cli_command,
    cli_env,
    entry,
    load,
    payload,
    sha256,
    write_catalog,
)

SIZE = 6 * MiB
GUARD_S = 90  # a hang guard for reading a process's output, never a speed check


class Output:
    """A process's stderr, line by line, read on a thread of its own."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc) -> None:
        for line in proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str) -> re.Match:
        while True:
            line = self._queue.get(timeout=GUARD_S)
            if line is None:
                raise AssertionError(f"the process ended without printing {pattern!r}: {self.lines}")
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def rest(self) -> list[str]:
        self._thread.join(GUARD_S)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return self.lines


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
    )


def wait_until(condition, what: str) -> None:
    import time

    deadline = time.monotonic() + GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_a_second_download_names_the_other_process_shows_its_progress_and_stops_waiting_on_ctrl_c(
    tmp_path, models_dir, http_server, processes
):
    data = payload(SIZE, 21)
    release = threading.Event()  # the first download stays half-way until this is set
    http_server.add("/m.pt", data, rate=400 * 1024, stall_after=SIZE // 2, stall_until=release)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]

    # A read never times out while the server holds the body (a retry would go past the hold).
    first = start(*args, "download", "m", "--connections", "1", "--timeout", "3600")
    processes.append(first)
    wait_until(lambda: library.read_record(m).get("ranges"), "the first download's data on disk")
    # The lock's holder as the kernel tells it, seen from this (third) process.
    assert elsewhere.lock_holder(library.lock_path(m)) == first.pid

    interrupted = start(*args, "download", "m")
    patient = start(*args, "download", "m")
    processes.extend([interrupted, patient])
    said, waits = Output(interrupted), Output(patient)
    announcement = rf"^m\.pt is being downloaded by another process \(pid {first.pid}\); waiting…$"
    said.wait_for(announcement)
    waits.wait_for(announcement)
    # Then that download's progress, from its partial file and record.
    found = said.wait_for(r"^m: the other process has (\d+) %, (.+) of 6\.0 MiB$")
    assert 0 < int(found.group(1)) <= 50

    interrupted.send_signal(signal.SIGINT)
    assert interrupted.wait(GUARD_S) == 130
    lines = said.rest()
    assert "stopped waiting for m.pt: the other process's download goes on" in lines
    release.set()

    # The first download was not harmed: it completes, verified; the patient one finds the file there.
    _, first_err = first.communicate(timeout=GUARD_S)
    assert first.returncode == 0, first_err
    assert library.path(m).read_bytes() == data
    assert patient.wait(GUARD_S) == 0, waits.rest()
    assert any(line.startswith("done: m ") for line in waits.rest())
    # One download's worth of bytes: neither waiting process fetched anything.
    assert bytes_served(http_server, "/m.pt") == SIZE
    assert sorted(os.listdir(models_dir)) == [".m.pt.lock", ".m.pt.meta.json", "m.pt"]


def test_no_holder_is_named_when_nobody_holds_the_lock(tmp_path):
    lock = tmp_path / ".x.lock"
    assert elsewhere.lock_holder(lock) is None  # no file
    lock.write_bytes(b"")
    assert elsewhere.lock_holder(lock) is None  # a file nobody locks
    link = tmp_path / ".y.lock"
    os.symlink(lock, link)
    assert elsewhere.lock_holder(link) is None  # never through a link
    assert elsewhere.OtherDownload("m.pt", None, 0, None).sentence() == (
        "m.pt is being downloaded by another process"
    )
    assert elsewhere.OtherDownload("m.pt", 42, 3 * MiB, 6 * MiB).progress() == "50 %, 3.0 MiB of 6.0 MiB"
    assert Path(lock).read_bytes() == b""


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_the_command_line_names_the_windows_download_process(
    qtbot, tmp_path, models_dir, http_server, processes
):
    """The window downloads in a child process of its own; `download` on the command line names it."""
    pytest.importorskip("pytestqt")
    from ofa_manager.core import settings as settings_file
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.gui.window import MainWindow
    from ofa_manager.gui.workspace import Workspace

    data = payload(SIZE, 22)
    release = threading.Event()  # the window's download stays half-way until this is set
    http_server.add("/m.pt", data, rate=400 * 1024, stall_after=SIZE // 2, stall_until=release)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    saved = settings_file.load()
    saved.timeout = 3600  # a read never times out while the server holds the body
    settings_file.save(saved)
    workspace = Workspace(load_catalog([catalog]), saved, models_dir)
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    window.show()
    workspace.start()
    try:
        qtbot.waitUntil(lambda: workspace.store.statuses is not None, timeout=GUARD_S * 1000)
        m = workspace.store.catalog.get("m")
        window.download([m])
        child = workspace.process.queue.process.pid
        lock = workspace.store.library.lock_path(m)
        qtbot.waitUntil(lambda: elsewhere.lock_holder(lock) == child, timeout=GUARD_S * 1000)
        qtbot.waitUntil(
            lambda: bool(workspace.store.library.read_record(m).get("ranges")), timeout=GUARD_S * 1000
        )
        waiting = start("--dir", str(models_dir), "--catalog", str(catalog), "download", "m")
        processes.append(waiting)
        said = Output(waiting)
        said.wait_for(rf"^m\.pt is being downloaded by another process \(pid {child}\); waiting…$")
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(GUARD_S) == 130
        release.set()
        # The window's download goes on to the end.
        qtbot.waitUntil(
            lambda: (
                workspace.store.library.path(m).exists()
                and workspace.store.status_of(m).state.value == "downloaded"
            ),
            timeout=GUARD_S * 1000,
        )
        assert workspace.store.library.path(m).read_bytes() == data
    finally:
        window.close()
