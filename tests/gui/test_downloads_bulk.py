"""The downloads panel's Pause all and Cancel all, through the real download process: one command each,
and no queued file is started on the way (the server never sees it asked for)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.core.settings import Settings  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, MiB, Server, row_state  # noqa: E402

pytestmark = WINDOW_MARKS

NAMES = ("ofa-huge", "ofa-large", "ofa-base", "ofa-medium", "ofa-tiny")


def gets(served: Server, name: str) -> int:
    return len(served.http.requests_for(f"/checkpoints/{name}.pt", "GET"))


def test_pause_all_then_cancel_all_start_no_queued_file(
    qtbot,
    server: Server,
    open_window,
):
    for name in NAMES:
        server.add(name, 2 * MiB, rate=128 * 1024)
    window = open_window(server.catalog(), Settings(jobs=2, connections=1))
    panel = window.downloads
    window.download([window.workspace.catalog.get(n) for n in NAMES])
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=WAIT_MS)
    workspace = window.workspace

    def has_partial(name: str) -> bool:
        return workspace.store.library.part_path(workspace.catalog.get(name)).exists()

    # Two files come in (their data on disk), three wait.
    qtbot.waitUntil(lambda: all(has_partial(n) for n in NAMES[:2]), timeout=WAIT_MS)
    assert [row_state(window, r) for r in range(2, 5)] == ["Queued"] * 3

    panel.tool_buttons["pause_all"].trigger()
    qtbot.waitUntil(lambda: [row_state(window, r) for r in range(5)] == ["Paused"] * 5, timeout=WAIT_MS)
    assert [gets(server, n) for n in NAMES[2:]] == [0, 0, 0]

    window.workspace.commands.resume([window.workspace.catalog.get(NAMES[2])])
    qtbot.waitUntil(lambda: gets(server, NAMES[2]) > 0 and has_partial(NAMES[2]), timeout=WAIT_MS)
    assert panel.tool_buttons["cancel_all"].isEnabled()
    panel.tool_buttons["cancel_all"].trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT_MS)
    assert [gets(server, n) for n in NAMES[3:]] == [0, 0]
    # The partial data stays on disk for a later download.
    assert all(has_partial(n) for n in NAMES[:3])
