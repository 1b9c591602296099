"""The downloads panel and the rows: pause, resume, cancel, retry, progress, reorder, keyboard, menus."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ofa_manager.core.settings import Settings
from ofa_manager.gui import downloads
from tests.windows import WAIT_MS, WINDOW_MARKS, Answers, KiB, MiB, row_of, row_state, status, wait_status

pytestmark = WINDOW_MARKS


def test_two_downloads_pause_resume_and_cancel(qtbot, qtmodeltester, server, open_window, models_dir):
    size = 3 * MiB
    server.add("ofa-medium", size, rate=400 * KiB)
    server.add("ofa-tiny", size, rate=400 * KiB)
    window = open_window(server.catalog(), Settings(jobs=2, connections=2))
    window.select(["ofa-medium", "ofa-tiny"])
    window.actions_by_name["download"].trigger()
    qtbot.waitUntil(lambda: window.downloads.model.rowCount() == 2, timeout=WAIT_MS)
    qtmodeltester.check(window.downloads.model)
    wait_status(qtbot, window, "ofa-medium", r"\d+ %.*")
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")

    # Pause one from the tree; the other keeps going.
    window.select(["ofa-medium"])
    window.actions_by_name["pause"].trigger()
    wait_status(qtbot, window, "ofa-medium", "Paused")
    assert row_state(window, row_of(window, "ofa-medium")) == "Paused"
    assert re.fullmatch(r"\d+ %.*", status(window, "ofa-tiny"))

    # Cancel the other from its row's button: it leaves the list, its partial data stays on disk.
    tiny_row = row_of(window, "ofa-tiny")
    qtbot.mouseClick(
        window.downloads.view.viewport(),
        Qt.LeftButton,
        pos=window.downloads.button_rect(tiny_row, "cancel").center(),
    )
    qtbot.waitUntil(lambda: row_of(window, "ofa-tiny") is None, timeout=WAIT_MS)
    wait_status(qtbot, window, "ofa-tiny", r"Partial \(.+\)")
    assert (models_dir / "ofa-tiny.pt.part").exists()

    # Resume the paused one: it completes with the server's bytes.
    window.select(["ofa-medium"])
    window.actions_by_name["resume"].trigger()
    wait_status(qtbot, window, "ofa-medium", "Downloaded", timeout=30000)
    assert (models_dir / "ofa-medium.pt").read_bytes() == server.data["/checkpoints/ofa-medium.pt"]
    assert row_state(window, row_of(window, "ofa-medium")) == "Downloaded"


def test_failure_shows_on_the_row_and_retry_fixes_it(qtbot, server, open_window, models_dir, http_server):
    server.add("ofa-tiny", 256 * KiB, statuses=[404])
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Failed: 404 Not Found")
    row = row_of(window, "ofa-tiny")
    assert row_state(window, row) == "Failed: 404 Not Found"
    assert window.downloads.model.index(row, downloads.COL_ACTIONS).data(downloads.Role.ACTIONS) == (
        "retry",
        "remove",
    )
    # A failure in the background never opens a dialog.
    assert QApplication.activeModalWidget() is None
    assert "download failed: 404" in window.message_label.text()

    qtbot.mouseClick(
        window.downloads.view.viewport(),
        Qt.LeftButton,
        pos=window.downloads.button_rect(row, "retry").center(),
    )
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
    assert [r.status for r in http_server.requests_for("/checkpoints/ofa-tiny.pt", "GET")][:2] == [404, 206]


def test_window_title_shows_overall_progress(qtbot, server, open_window):
    server.add("ofa-base", 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    assert window.windowTitle() == "ofa-manager"
    window.download([window.workspace.catalog.get("ofa-base")])
    qtbot.waitUntil(
        lambda: re.fullmatch(r"([1-9]\d?) % — 1 download — ofa-manager", window.windowTitle()) is not None,
        timeout=WAIT_MS,
    )
    window.workspace.commands.pause([window.workspace.catalog.get("ofa-base")])
    qtbot.waitUntil(lambda: window.windowTitle() == "ofa-manager", timeout=WAIT_MS)


# Progress reaching the views once per timer tick: tests/test_model_signals_gui.py (counted by ticks).


def test_downloads_panel_reorders_pauses_all_and_clears_finished(qtbot, server, open_window):
    for entry_id in ("ofa-huge", "ofa-large", "ofa-base"):
        server.add(entry_id, 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(jobs=1, connections=1))
    panel = window.downloads
    window.download(list(window.workspace.catalog))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT_MS)
    names = lambda: [panel.model.index(r, 0).data() for r in range(panel.model.rowCount())]  # noqa: E731
    assert names() == ["OFA-Huge", "OFA-Large", "OFA-Base"]

    # One file at a time: moving OFA-Base up makes it the next to start.
    panel.view.setCurrentIndex(panel.model.index(2, 0))
    panel.tool_buttons["up"].trigger()
    qtbot.waitUntil(lambda: names() == ["OFA-Huge", "OFA-Base", "OFA-Large"], timeout=WAIT_MS)
    assert [row_state(window, r) for r in (1, 2)] == ["Queued", "Queued"]

    panel.tool_buttons["pause_all"].trigger()
    qtbot.waitUntil(lambda: [row_state(window, r) for r in range(3)] == ["Paused"] * 3, timeout=WAIT_MS)
    for name in ("ofa-huge", "ofa-large", "ofa-base"):
        server.http.route(f"/checkpoints/{name}.pt").rate = None
    panel.tool_buttons["resume_all"].trigger()
    qtbot.waitUntil(lambda: [row_state(window, r) for r in range(3)] == ["Downloaded"] * 3, timeout=WAIT_MS)
    assert "3 finished" in panel.summary.text()
    panel.tool_buttons["clear"].trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT_MS)


def test_download_rows_answer_the_keyboard_and_a_context_menu(
    qtbot, monkeypatch, server, open_window, models_dir
):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    server.add("ofa-huge", 64 * KiB, statuses=[404] * 5)
    window = open_window(server.catalog(), Settings(connections=1))
    panel = window.downloads
    catalog = window.workspace.catalog
    window.download([catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    window.download([catalog.get("ofa-base"), catalog.get("ofa-huge")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    qtbot.waitUntil(lambda: row_state(window, 2).startswith("Failed"), timeout=WAIT_MS)
    names = lambda: [panel.model.index(r, 0).data() for r in range(panel.model.rowCount())]  # noqa: E731
    assert names() == ["OFA-Tiny", "OFA-Base", "OFA-Huge"]

    def select_rows(*rows: int) -> None:
        selection = panel.view.selectionModel()
        selection.clearSelection()
        for row in rows:
            selection.select(
                panel.model.index(row, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows
            )

    # What the menu offers follows the selection: the downloading row can pause, the failed one retry.
    select_rows(1, 2)
    assert panel.row_actions["pause"].isEnabled() and panel.row_actions["retry"].isEnabled()
    assert not panel.row_actions["show"].isEnabled()
    panel.row_actions["pause"].trigger()
    qtbot.waitUntil(lambda: row_state(window, 1) == "Paused", timeout=WAIT_MS)
    assert row_state(window, 2).startswith("Failed")

    # A finished row opens its folder on a double-click.
    shown: list = []
    window.open_folder = shown.append
    panel.view.doubleClicked.emit(panel.model.index(0, 0))
    assert shown == [[models_dir / "ofa-tiny.pt"]]
    panel.view.doubleClicked.emit(panel.model.index(1, 0))  # a paused row: nothing to open
    assert len(shown) == 1

    # Delete in the list takes the selected rows off it; the checkpoint selected in the tree is not
    # touched, and nobody is asked about the trash.
    answers = Answers(monkeypatch, window, lambda title, choices: choices[-1])
    window.select(["ofa-tiny"])
    select_rows(1, 2)
    window.activateWindow()
    panel.view.setFocus()
    qtbot.waitUntil(panel.view.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(panel.view, Qt.Key_Delete)
    qtbot.waitUntil(lambda: names() == ["OFA-Tiny"], timeout=WAIT_MS)
    assert answers.asked == [] and (models_dir / "ofa-tiny.pt").exists()
    assert (models_dir / "ofa-base.pt.part").exists()  # a cancelled download keeps its data

    # The same key in the tree is the tree's: it asks before trashing the file.
    window.tree.setFocus()
    qtbot.waitUntil(window.tree.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(window.tree, Qt.Key_Delete)
    assert [title for title, _, _ in answers.asked] == ["Move to the trash?"]
    assert (models_dir / "ofa-tiny.pt").exists()  # the answer was Cancel


def test_a_dropped_connection_shows_stalled_then_recovers(qtbot, server, open_window):
    server.add("ofa-tiny", 1 * MiB, rate=512 * KiB, drop_after=256 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Stalled, reconnecting")
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
