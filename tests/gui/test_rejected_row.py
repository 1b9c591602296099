"""The window: Inspect on a rejected download shows what its kept copy holds; the downloads panel's Retry
asks first, as the tree's does."""

from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu  # noqa: E402

from tests.catalogs import sha256  # noqa: E402
from tests.windows import HUGE, MISMATCH, WAIT_MS, Answers, row_of, row_state, status, wait_status  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform cannot raise a popup menu or let it grab the keyboard; it says so.
    pytest.mark.qt_log_ignore(
        r"This plugin does not support propagateSizeHints\(\)",
        r"This plugin does not support raise\(\)",
        r"This plugin does not support grabbing the keyboard",
    ),
]

PATH = "/checkpoints/caption_huge_best.pt"


def click_retry(qtbot, window, row: int) -> None:
    """A click on the downloads panel row's Retry button."""
    panel = window.downloads
    qtbot.mouseClick(panel.view.viewport(), Qt.LeftButton, pos=panel.button_rect(row, "retry").center())


@pytest.fixture
def rejected_window(qtbot, http_server, open_window, models_dir, tmp_path):  # noqa: F811
    """A window whose one checkpoint's download failed its sha256 check and was kept as NAME.rejected.

    The served bytes are a real OFA-Huge caption checkpoint; the catalog claims an Adapter on OFA-Large
    and a sha256 of other bytes."""
    http_server.add(PATH, HUGE.read_bytes())
    entry = {
        "id": "refcoco-adapter",
        "title": "Adapter checkpoint on RefCOCO",
        "group": ["PETL on OFA-Large", "RefCOCO"],
        "url": http_server.url(PATH),
        "sha256": sha256(b"not these bytes"),
        "expect": {"arch": "ofa_large", "task": "refcoco", "petl": "adapter"},
    }
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"format": 1, "title": "t", "entries": [entry]}), encoding="utf-8")
    window = open_window(catalog)
    window.select(["refcoco-adapter"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "refcoco-adapter", "Failed: sha256 mismatch")
    assert (models_dir / "caption_huge_best.pt.rejected").exists()
    assert not (models_dir / "caption_huge_best.pt").exists()
    window.workspace.store.request_scan()
    qtbot.waitUntil(lambda: window.actions_by_name["keep_rejected"].isEnabled(), timeout=WAIT_MS)
    return window


def test_the_details_pane_shows_what_the_rejected_copy_holds(qtbot, reads, rejected_window):  # noqa: F811
    window, pane = rejected_window, rejected_window.details
    window.select([])
    window.select(["refcoco-adapter"])
    waiting = ("Reading…", "not downloaded")
    qtbot.waitUntil(lambda: pane.labels["holds"].text() not in waiting, timeout=WAIT_MS)
    assert pane.rejected_note.isVisibleTo(pane)
    note = pane.rejected_note.text()
    assert note.startswith("The last download failed its check (")
    assert "sha256" in note
    assert "kept as caption_huge_best.pt.rejected; this is what it holds:" in note
    assert pane.labels["file"].text().endswith("caption_huge_best.pt.rejected")
    assert pane.labels["holds"].text() == "ofa_huge fine-tuned for caption (873M parameters)"
    assert pane.labels["verdict"].text() == f"⚠ This file {MISMATCH}."
    # Read on a disk worker, never on the GUI thread.
    assert reads and all(name.startswith("ofa-disk") for name in reads)
    assert threading.current_thread().name not in reads


def test_inspect_in_the_context_menu_shows_the_details_tab(qtbot, rejected_window):
    window = rejected_window
    window.side.setCurrentIndex(1)  # the disk tab
    assert window.side.currentWidget() is not window.details
    window.select(["refcoco-adapter"])
    window._context_menu(window.tree.viewport().rect().center())
    menu = next(m for m in window.findChildren(QMenu) if m.isVisible())
    inspect = next(a for a in menu.actions() if a.text() == "Inspect")
    assert inspect.isEnabled()
    menu.close()
    inspect.trigger()
    assert window.side.currentWidget() is window.details
    assert window.details.entry is not None and window.details.entry.id == "refcoco-adapter"


def test_the_downloads_panels_retry_asks_first_after_a_check_mismatch(
    qtbot, rejected_window, http_server, monkeypatch
):
    window = rejected_window
    gets = len(http_server.requests_for(PATH, "GET"))
    row = row_of(window, "refcoco-adapter")
    assert row_state(window, row) == "Failed: sha256 mismatch"

    # The row's button: asked, "Cancel" fetches nothing.
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    click_retry(qtbot, window, row)
    assert [a[0] for a in answers.asked] == ["Download again?"]
    # The context menu's Retry on the selected row: asked the same.
    selection = window.downloads.view.selectionModel()
    selection.select(
        window.downloads.model.index(row, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows
    )
    window.downloads.update_row_actions()
    window.downloads.row_actions["retry"].trigger()
    assert [a[0] for a in answers.asked] == ["Download again?", "Download again?"]
    QApplication.processEvents()
    assert len(http_server.requests_for(PATH, "GET")) == gets
    assert status(window, "refcoco-adapter") == "Failed: sha256 mismatch"

    # "Download Again" fetches the file once more (it fails its check again: same bytes).
    Answers(monkeypatch, window, lambda title, choices: "Download Again")
    click_retry(qtbot, window, row)
    qtbot.waitUntil(lambda: len(http_server.requests_for(PATH, "GET")) > gets, timeout=WAIT_MS)
    wait_status(qtbot, window, "refcoco-adapter", "Failed: sha256 mismatch")
