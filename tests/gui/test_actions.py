"""The window's actions on a selection: double click, Check Links, Copy Path, shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ofa_manager.core import units
from ofa_manager.gui import tree
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, wait_status

pytestmark = WINDOW_MARKS


def test_double_click_downloads_a_remote_checkpoint(qtbot, server, open_window, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    index = window.proxy.mapFromSource(window.model.index_of("ofa-tiny"))
    window.tree.doubleClicked.emit(index)
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    opened: list = []
    window.open_folder = opened.append
    window.tree.doubleClicked.emit(index)
    assert opened == [[models_dir / "ofa-tiny.pt"]]


def test_check_links_reports_each_link(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-huge", 64 * KiB, statuses=[404] * 5)
    window = open_window(server.catalog())
    window.select(["ofa-tiny", "ofa-huge"])
    window.actions_by_name["check"].trigger()
    qtbot.waitUntil(lambda: "links failed" in window.message_label.text(), timeout=WAIT_MS)
    assert window.message_label.text() == "1 of 2 links failed — ofa-huge.pt: 404 Not Found"
    wait_status(qtbot, window, "ofa-huge", "Not downloaded — link failed: 404 Not Found")


def test_check_links_asks_the_mirrors_too(qtbot, server, open_window, http_server):
    server.add("ofa-tiny", 64 * KiB, statuses=[404] * 5, in_catalog_size=False)
    http_server.add("/mirror/ofa-tiny.pt", server.data["/checkpoints/ofa-tiny.pt"])
    http_server.add("/dead-mirror/ofa-tiny.pt", b"", statuses=[410] * 5)
    server.entries[0]["mirrors"] = [
        http_server.url("/dead-mirror/ofa-tiny.pt"),
        http_server.url("/mirror/ofa-tiny.pt"),
    ]
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["check"].trigger()
    qtbot.waitUntil(lambda: "links failed" in window.message_label.text(), timeout=WAIT_MS)
    host = http_server.url("/").split("/")[2]
    assert window.message_label.text() == (
        f"2 of 3 links failed — ofa-tiny.pt: 404 Not Found; ofa-tiny.pt (mirror at {host}): 410 Gone"
    )
    # The published link is broken, but the file can still be had: the row says so, with the mirror's size.
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded — link failed: 404 Not Found; a mirror answers")
    assert window.model.index_of("ofa-tiny", tree.COL_SIZE).data() == units.size(64 * KiB)


def test_copy_path_puts_the_files_on_the_clipboard(server, open_window, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 64 * KiB)
    window = open_window(server.catalog())
    window.select(["ofa-tiny", "ofa-base"])
    window.actions_by_name["copy"].trigger()
    assert QApplication.clipboard().text() == f"{models_dir / 'ofa-tiny.pt'}\n{models_dir / 'ofa-base.pt'}"


def test_no_two_actions_share_a_shortcut(server, open_window):
    window = open_window(server.catalog())
    keys = {}
    for name, action in window.actions_by_name.items():
        for sequence in action.shortcuts():
            text = sequence.toString()
            assert text not in keys, f"{name} and {keys[text]} both use {text}"
            keys[text] = name
    assert window.actions_by_name["refresh"].shortcut().toString() == "F5"
