"""The real window, offscreen, on a models folder next to a read-only shared store."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Qt, QUrl, Slot  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ofa_manager.core import settings as settings_file  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.gui import tree  # noqa: E402
from ofa_manager.gui.window import MainWindow  # noqa: E402
from ofa_manager.gui.workspace import Workspace  # noqa: E402
from tests.catalogs import entry, payload, sha256, write_catalog  # noqa: E402
from tests.scenes import snapshot  # noqa: E402

SIZE = 100_000
DATA = {"good": payload(SIZE, 1), "absent": payload(SIZE, 2)}
WAIT_MS = 15000


class Opened(QObject):
    """Catches the URLs the window asks the desktop to open (Qt's own hook for a URL scheme)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def store(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "good.pt").write_bytes(DATA["good"])
    (folder / "good.pt").chmod(0o444)
    (folder / "absent.pt").write_bytes(DATA["absent"][:-1])  # the wrong size: not used
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def open_window(qtbot, tmp_path, models_dir, stores: list[str]):
    # Nothing here downloads: the addresses are never asked for.
    catalog = write_catalog(
        tmp_path / "catalog.json",
        [
            entry(name, f"http://127.0.0.1:9/{name}.pt", size=SIZE, sha256=sha256(data))
            for name, data in DATA.items()
        ],
    )
    settings_file.save(settings_file.Settings(stores=stores))
    workspace = Workspace(load_catalog([catalog]), settings_file.load(), models_dir, queue_in_window=True)
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    workspace.start()
    qtbot.waitUntil(lambda: workspace.store.statuses is not None, timeout=WAIT_MS)
    return window


def status_text(window, entry_id: str, role=Qt.ItemDataRole.DisplayRole) -> str:
    return window.model.index_of(entry_id, tree.COL_STATUS).data(role)


def test_the_tree_shows_the_store_and_offers_no_delete_or_download(qtbot, tmp_path, models_dir, store):
    before = snapshot(store)
    window = open_window(qtbot, tmp_path, models_dir, [str(store)])
    assert status_text(window, "good") == "In the shared store"
    assert str(store / "good.pt") in status_text(window, "good", Qt.ItemDataRole.ToolTipRole)
    assert status_text(window, "absent") == "Not downloaded"
    tip = status_text(window, "absent", Qt.ItemDataRole.ToolTipRole)
    assert f"{store / 'absent.pt'} in the shared store was not used: it has {SIZE - 1} bytes" in tip

    window.select(["good"])
    assert not window.actions_by_name["delete"].isEnabled()
    assert not window.actions_by_name["download"].isEnabled()
    window.select(["absent"])
    assert window.actions_by_name["download"].isEnabled()

    window.select(["good"])
    window.actions_by_name["copy"].trigger()
    assert QApplication.clipboard().text() == str(store / "good.pt")
    opened = Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        window.actions_by_name["open"].trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in opened.urls] == [str(store)]
    window.close()
    assert snapshot(store) == before
    assert list(models_dir.iterdir()) == []


def test_a_store_added_in_settings_is_saved_and_shown(qtbot, tmp_path, models_dir, store):
    window = open_window(qtbot, tmp_path, models_dir, [])
    assert status_text(window, "good") == "Not downloaded"
    dialog = window.open_settings()
    dialog.add_store(str(tmp_path / "elsewhere"))
    dialog.add_store(str(store))
    dialog.add_store(str(store))  # once only
    assert dialog.store_folders() == [str(tmp_path / "elsewhere"), str(store)]
    dialog.stores.item(0).setSelected(True)
    dialog.remove_selected_stores()
    dialog.accept()
    assert settings_file.load().stores == [str(store)]
    qtbot.waitUntil(lambda: status_text(window, "good") == "In the shared store", timeout=WAIT_MS)

    dialog = window.open_settings()
    assert dialog.store_folders() == [str(store)]
    dialog.stores.item(0).setSelected(True)
    dialog.remove_selected_stores()
    dialog.accept()
    qtbot.waitUntil(lambda: status_text(window, "good") == "Not downloaded", timeout=WAIT_MS)
    window.close()
