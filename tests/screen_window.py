"""Open the real window on an offscreen screen of a given size and print what a user would see, as JSON.

Run by tests/gui/test_polish.py in a child process: Qt's offscreen platform takes its screen size from a
config file (``QT_QPA_PLATFORM=offscreen:configfile=FILE``) once per process, so each screen size needs
its own process. The folders and settings are the caller's (the tests' isolated ones).

Usage: python -m tests.screen_window WIDTH HEIGHT CATALOG MODELS [--saved X,Y,W,H]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    # The screen's size itself comes from the platform's config file; these name it in the command line.
    catalog, models = sys.argv[3], sys.argv[4]
    saved = None
    if "--saved" in sys.argv:
        saved = [int(v) for v in sys.argv[sys.argv.index("--saved") + 1].split(",")]

    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication, QMainWindow, QToolButton

    app = QApplication([sys.argv[0]])

    from ofa_manager.core import settings as settings_file
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.gui.delegates import ProgressDelegate
    from ofa_manager.gui.status import progress_text
    from ofa_manager.gui.tree import COL_STATUS
    from ofa_manager.gui.window import MainWindow
    from ofa_manager.gui.workspace import Workspace

    settings = settings_file.load()
    if saved is not None:
        # A place saved on another, larger screen: far off this one and larger than it.
        other = QMainWindow()
        other.setGeometry(QRect(*saved))
        settings.window_geometry = bytes(other.saveGeometry().toBase64()).decode()
    workspace = Workspace(load_catalog([Path(catalog)]), settings, Path(models))
    window = MainWindow(workspace)
    window.show()
    app.processEvents()
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    bar = window.toolbar
    extension = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    buttons = {}
    for action in bar.actions():
        if action.objectName() and not action.isSeparator():
            button = bar.widgetForAction(action)
            inside = button is not None and bar.rect().contains(button.geometry())
            buttons[action.objectName()] = bool(button is not None and button.isVisible() and inside)
    metrics = window.tree.fontMetrics()
    header = window.tree.header()
    margins = 2 * ProgressDelegate.MARGIN
    facts = {
        "available": [available.x(), available.y(), available.width(), available.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "toolbar_labels": bar.toolButtonStyle().name,
        "toolbar_buttons_shown": buttons,
        "toolbar_overflows": bool(extension is not None and extension.isVisible()),
        "search_width": window.search.width(),
        "status_column": header.sectionSize(COL_STATUS) - margins,
        "status_column_visible": window.tree.viewport().width() - header.sectionViewportPosition(COL_STATUS),
        "full_progress": metrics.horizontalAdvance(progress_text(710, 1000, 1023.9 * 2**20, 599)),
        "short_progress": metrics.horizontalAdvance(progress_text(710, 1000, 0, None) + " — 1 min 11 s left"),
        "tree": [window.tree.width(), window.tree.height()],
        "tree_rows_visible": window.tree.viewport().height() // max(1, window.tree.sizeHintForRow(0)),
        "side": [window.side.width(), window.side.height()],
        "downloads": [window.downloads.width(), window.downloads.height()],
        "downloads_toolbar_overflows": bool(
            (ext := window.downloads.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")) is not None
            and ext.isVisible()
        ),
    }
    window.close()
    workspace.close()
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
