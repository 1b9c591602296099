"""The item models' words in Chinese: each string the tree, the downloads list, the disk panel and the scan
report look up by hand (QCoreApplication.translate with the class's context) is found in the translation,
so a user of the Chinese window never meets an English word there."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from ofa_manager.core.states import ItemState
from ofa_manager.gui import disk, downloads, i18n, scan_report, tree
from tests.windows import WINDOW_MARKS

pytestmark = WINDOW_MARKS

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(qapp):
    i18n.install("zh_CN", qapp)
    yield
    i18n.uninstall(qapp)


def assert_chinese(texts) -> None:
    english = [text for text in texts if not CHINESE.search(text or "")]
    assert english == [], english


def test_headers_buttons_and_figures_in_chinese(chinese):
    assert_chinese(tree.header_text(c) for c in range(len(tree.HEADERS)))
    assert_chinese(downloads.header_text(c) for c in range(len(downloads.HEADERS)))
    actions = ("pause", "resume", "cancel", "retry", "remove", "show")
    assert_chinese(downloads.button_label(a) for a in actions)
    assert downloads.done_of_total(1024, 2048) == "1.0 KiB / 2.0 KiB"  # not "of"
    assert_chinese(disk.segment_label(key) for key, *_ in disk.SEGMENTS)


def test_the_scan_reports_details_in_chinese(chinese):
    assert_chinese(
        scan_report.detail_words(detail)
        for detail in (
            "uses a variable the script does not set",
            "named as a training run names its outputs",
            "our link is there; the file is not",
            "already there",
            "no catalog entry has this file name",
            "our link is there; the archive is not unpacked",
            "under a/b, which the project's scripts write to",
            "already there; the name fits several entries: x, y",
            "the name fits several catalog entries: x, y",
            "already there; it fits several archive members: m of x, n of y",
            "it fits several archive members: m of x",
            "already there (fits m.pt of x)",
        )
    )


def test_the_models_cells_in_chinese(model_scene, chinese):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    assert_chinese(
        [
            model.index_of("big", tree.COL_LOCATION).data(tree.ACCESSIBLE_TEXT),  # no local file
            model.index(0, tree.COL_PARAMS).data(tree.ACCESSIBLE_TEXT),  # an empty cell
            model.index(0, tree.COL_SIZE).data(),  # "+ 1 unknown"
            model.index_of("small", tree.COL_SIZE).data(Qt.ToolTipRole),
        ]
    )
    rows = downloads.DownloadsModel(model_scene.store)
    model_scene.add(model_scene.item("big", ItemState.PAUSED))
    assert_chinese(
        [
            rows.index(0, downloads.COL_SPEED).data(downloads.ACCESSIBLE_TEXT),  # an empty cell
            rows.index(0, downloads.COL_ACTIONS).data(downloads.ACCESSIBLE_TEXT),
            # The sentence itself, not only the buttons' names in it.
            rows.index(0, downloads.COL_ACTIONS)
            .data(downloads.ACCESSIBLE_DESCRIPTION)
            .replace(downloads.button_label("resume"), "")
            .replace(downloads.button_label("cancel"), ""),
        ]
    )


def test_the_disk_panels_share_column_fits_its_chinese_title(qtbot, model_scene, chinese):
    panel = disk.DiskPanel(model_scene.store)
    qtbot.addWidget(panel)
    title = panel.model.headerData(disk.COL_SHARE, Qt.Horizontal)
    assert CHINESE.search(title)
    width = panel.files.header().sectionSize(disk.COL_SHARE)
    assert width == panel.fontMetrics().horizontalAdvance(title) + 24
