"""The window: the details pane and the tree's mismatch mark for a PETL entry whose file holds OFA-Huge."""

from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ofa_manager.core.settings import Settings  # noqa: E402
from ofa_manager.gui.tree import COL_STATUS  # noqa: E402
from tests.catalogs import DATA  # noqa: E402
from tests.windows import HUGE, MISMATCH, WAIT_MS  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

FIXTURES = DATA / "checkpoints"


@pytest.fixture
def window(open_window, http_server, tmp_path):
    http_server.add("/checkpoints/caption_huge_best.pt", HUGE.read_bytes())
    http_server.add("/checkpoints/ofa_large.pt", (FIXTURES / "petl_ofa_large.pt").read_bytes())
    url = http_server.url("/checkpoints/caption_huge_best.pt")
    entries = [
        {
            "id": "ofa-large",
            "title": "OFA-Large",
            "group": ["Pretrained backbones"],
            "url": http_server.url("/checkpoints/ofa_large.pt"),
            "expect": {"arch": "ofa_large"},
        },
        {
            "id": "refcoco-adapter",
            "title": "Adapter checkpoint on RefCOCO",
            "group": ["PETL on OFA-Large", "RefCOCO"],
            "url": url,
            "base": "ofa-large",
            "expect": {"arch": "ofa_large", "task": "refcoco", "petl": "adapter"},
        },
    ]
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"format": 1, "title": "t", "entries": entries}), encoding="utf-8")
    win = open_window(catalog, Settings())
    win.resize(1024, 600)
    return win


def download(qtbot, win, *ids: str) -> None:
    ws = win.workspace
    ws.commands.download([ws.catalog.get(i) for i in ids])
    qtbot.waitUntil(
        lambda: all(win.model.index_of(i, COL_STATUS).data() == "Downloaded" for i in ids), timeout=WAIT_MS
    )


def test_the_details_pane_says_what_the_file_holds_and_that_it_is_not_what_is_claimed(qtbot, window, reads):
    download(qtbot, window, "refcoco-adapter")
    window.select(["refcoco-adapter"])
    pane = window.details
    qtbot.waitUntil(lambda: pane.labels["holds"].text() != "Reading…", timeout=WAIT_MS)
    assert pane.title.text() == "Adapter checkpoint on RefCOCO"
    assert pane.labels["source"].text().endswith("/checkpoints/caption_huge_best.pt")
    assert pane.labels["file"].text().endswith("caption_huge_best.pt")
    assert pane.labels["size"].text().endswith(f"({HUGE.stat().st_size:,} bytes)")
    assert (
        pane.labels["sha256"].text().split()[0]
        == window.workspace.store.status_of(window.workspace.catalog.get("refcoco-adapter")).sha256
    )
    assert pane.labels["holds"].text() == "ofa_huge fine-tuned for caption (873M parameters)"
    assert pane.labels["safety"].text() == "tensors and plain data only"
    assert pane.labels["claim"].text() == "an Adapter for refcoco on OFA-Large"
    assert pane.labels["verdict"].text() == f"⚠ This file {MISMATCH}."
    code = pane.code.toPlainText()
    assert "weights_only=True" in code and "add_safe_globals" in code and "argparse.Namespace" in code
    # The read ran on a disk worker, never on the GUI thread.
    assert reads and all(name.startswith("ofa-disk") for name in reads)
    assert threading.current_thread().name not in reads
    qtbot.mouseClick(pane.copy_button, _left())
    assert QGuiApplication.clipboard().text() == code


def test_the_tree_marks_the_mismatch_with_an_icon_and_says_it_in_the_tooltip(qtbot, window, reads):
    download(qtbot, window, "refcoco-adapter", "ofa-large")
    cell = window.model.index_of("refcoco-adapter", COL_STATUS)
    qtbot.waitUntil(lambda: cell.data(_decoration()) is not None, timeout=WAIT_MS)
    assert MISMATCH in cell.data(_tooltip())
    backbone = window.model.index_of("ofa-large", COL_STATUS)
    qtbot.waitUntil(
        lambda: window.workspace.contents.summary_of(window.workspace.catalog.get("ofa-large")) is not None,
        timeout=WAIT_MS,
    )
    assert backbone.data(_decoration()) is None and "holds" not in backbone.data(_tooltip())


def test_a_backbone_that_holds_what_it_claims_says_so(qtbot, window, reads):
    download(qtbot, window, "ofa-large")
    window.select(["ofa-large"])
    pane = window.details
    qtbot.waitUntil(lambda: pane.labels["verdict"].text() != "Reading…", timeout=WAIT_MS)
    assert pane.labels["verdict"].text() == "holds what the catalog says"
    assert (
        pane.labels["holds"]
        .text()
        .startswith("ofa_large fine-tuned for refcoco with Adapter, LoRA, Prompt keys")
    )


def test_nothing_selected_or_not_downloaded(qtbot, window):
    pane = window.details
    assert pane.title.text().startswith("Select one checkpoint")
    assert not pane.labels["holds"].isVisible()
    window.select(["refcoco-adapter"])
    assert pane.labels["holds"].text() == "not downloaded"
    assert not pane.copy_button.isEnabled()
    window.select(["refcoco-adapter", "ofa-large"])
    assert pane.title.text().startswith("Select one checkpoint")


def test_the_pane_fits_a_small_screen(qtbot, window):
    window.select(["refcoco-adapter"])
    QApplication.processEvents()
    assert window.width() <= 1024 and window.height() <= 600
    assert window.details.isVisible() and window.details.width() >= 250
    assert window.tree.width() >= 500


def _left():
    from PySide6.QtCore import Qt

    return Qt.LeftButton


def _decoration():
    from PySide6.QtCore import Qt

    return Qt.DecorationRole


def _tooltip():
    from PySide6.QtCore import Qt

    return Qt.ToolTipRole


def test_read_again_reads_the_file_on_a_worker(qtbot, window, reads):
    download(qtbot, window, "refcoco-adapter")
    window.select(["refcoco-adapter"])
    pane = window.details
    qtbot.waitUntil(lambda: pane.read_button.isEnabled(), timeout=WAIT_MS)
    before = len(reads)
    qtbot.mouseClick(pane.read_button, _left())
    qtbot.waitUntil(lambda: len(reads) > before and pane.read_button.isEnabled(), timeout=WAIT_MS)
    assert reads[-1].startswith("ofa-disk")
    assert pane.labels["verdict"].text() == f"⚠ This file {MISMATCH}."
