"""The download process under the window: restart, a crash, the in-process test mode."""

from __future__ import annotations

import os
import signal
import time

from ofa_manager.core.settings import Settings
from ofa_manager.gui.download_process import queue_state_file
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, MiB, row_state, wait_status

pytestmark = WINDOW_MARKS


def test_unfinished_downloads_come_back_after_a_restart(qtbot, server, open_window, models_dir):
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    started = time.monotonic()
    window.close()
    # Closing does not wait for the download to finish: the transfer stops, the queue is saved.
    assert time.monotonic() - started < 2.0
    assert queue_state_file(models_dir).exists()

    # With resume-on-start (the default) the download carries on by itself.
    again = open_window(server.catalog(), Settings(connections=1, resume_on_start=True))
    qtbot.waitUntil(lambda: again.downloads.model.rowCount() == 1, timeout=WAIT_MS)
    wait_status(qtbot, again, "ofa-base", r"\d+ %.*")
    again.close()

    # Without it, the download comes back paused, and resumes from where it stopped when asked.
    third = open_window(server.catalog(), Settings(resume_on_start=False))
    qtbot.waitUntil(lambda: third.downloads.model.rowCount() == 1, timeout=WAIT_MS)
    assert row_state(third, 0) == "Paused"
    wait_status(qtbot, third, "ofa-base", "Paused")
    server.http.route("/checkpoints/ofa-base.pt").rate = None
    third.workspace.commands.resume([third.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, third, "ofa-base", "Downloaded")
    assert (models_dir / "ofa-base.pt").read_bytes() == server.data["/checkpoints/ofa-base.pt"]
    assert any(
        r.range and not r.range.startswith("bytes=0-")
        for r in server.http.requests_for("/checkpoints/ofa-base.pt", "GET")
    )


def test_the_in_process_test_mode_downloads_pauses_and_resumes(qtbot, server, open_window, models_dir):
    # Tests that need no download process run its queue in the window's process: it must behave alike.
    server.add("ofa-tiny", 2 * MiB, rate=400 * KiB)
    window = open_window(server.catalog(), Settings(connections=2), queue_in_window=True)
    tiny = window.workspace.catalog.get("ofa-tiny")
    window.download([tiny])
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")
    window.workspace.commands.pause([tiny])
    wait_status(qtbot, window, "ofa-tiny", "Paused")
    server.http.route("/checkpoints/ofa-tiny.pt").rate = None
    window.workspace.commands.resume([tiny])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]


def test_a_crashed_download_process_is_restarted_and_the_queue_comes_back(qtbot, server, open_window):
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    first = window.workspace.process.queue.process
    os.kill(first.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.workspace.process.queue.process is not first, timeout=WAIT_MS)
    assert "download process stopped" in window.message_label.text()
    server.http.route("/checkpoints/ofa-base.pt").rate = None
    wait_status(qtbot, window, "ofa-base", "Downloaded")
