"""The window on a folder whose checkpoints ofa-manager moved (issue 11, item 6): a bar above the tree
says where they went and when, and its button opens that folder."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from ofa_manager.core import moved  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


def test_the_old_folder_shows_where_its_checkpoints_went_and_opens_it(qtbot, moved_away, open_window):
    old, new, catalog = moved_away
    date = moved.read_marker(old).date
    window = open_window(catalog, root=old)
    notice = window.moved_notice
    qtbot.waitUntil(notice.isVisible, timeout=WAIT_MS)
    assert notice.text.text() == f"The checkpoints of this folder were moved to {new} on {date}."
    assert notice.open_button.text() == f"Open {new}"
    # It sits above the tree, in the same column.
    assert notice.parentWidget() is window.tree.parentWidget()
    assert notice.geometry().bottom() <= window.tree.geometry().top()
    wait_status(qtbot, window, "m", "Not downloaded")

    qtbot.mouseClick(notice.open_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.store.library.root == new, timeout=WAIT_MS)
    wait_status(qtbot, window, "m", "Verified|Downloaded")
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=WAIT_MS)
    assert window.store.settings.models_dir == str(new)


def test_a_folder_without_a_marker_shows_no_bar(qtbot, moved_away, open_window):
    _old, new, catalog = moved_away
    window = open_window(catalog, root=new)
    wait_status(qtbot, window, "m", "Verified|Downloaded")
    # The marker check ran for this folder (its answer came back) and found nothing.
    qtbot.waitUntil(lambda: window.moved_notice.checked == new, timeout=WAIT_MS)
    assert not window.moved_notice.isVisible()
