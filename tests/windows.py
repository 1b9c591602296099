"""Helpers of the window tests (tests/gui/): the catalog server, rows and statuses, answering dialogs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.core.states import ItemState  # noqa: E402
from ofa_manager.gui import downloads, tree  # noqa: E402
from ofa_manager.gui.window import MainWindow  # noqa: E402
from tests.catalogs import DATA  # noqa: E402

# Any Qt warning fails a test, except the offscreen platform's note that it has no window manager.
WINDOW_MARKS = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


KiB = 1024
MiB = 1024 * 1024
WAIT_MS = 15000
# A PETL entry whose file holds OFA-Huge fine-tuned for captions, and the sentence the window says of it.
HUGE = DATA / "checkpoints" / "fairseq_ofa_huge_caption.pt"
MISMATCH = "holds ofa_huge fine-tuned for caption (873M parameters), not an Adapter for refcoco on OFA-Large"
PETL = ("refcoco-adapter", "refcoco-lora", "refcocoplus-adapter")
TITLES = {
    "ofa-huge": "OFA-Huge",
    "ofa-large": "OFA-Large",
    "ofa-base": "OFA-Base",
    "ofa-medium": "OFA-Medium",
    "ofa-tiny": "OFA-Tiny",
    "refcoco-adapter": "Adapter checkpoint on RefCOCO",
    "refcoco-lora": "LoRA checkpoint on RefCOCO",
    "refcocoplus-adapter": "Adapter checkpoint on RefCOCO+",
}


def payload(size: int, seed: int) -> bytes:
    """Distinct, incompressible-looking bytes for each file."""
    block = bytes((i * 131 + seed * 17) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


class Server:
    """The loopback server with the files of a small catalog shaped like the built-in one."""

    def __init__(self, http_server, tmp_path: Path) -> None:
        self.http = http_server
        self.tmp_path = tmp_path
        self.entries: list[dict] = []
        self.data: dict[str, bytes] = {}

    def add(
        self,
        entry_id: str,
        size: int,
        *,
        group=("Pretrained backbones",),
        path: str | None = None,
        in_catalog_size: bool = True,
        **faults,
    ) -> dict:
        path = path or f"/checkpoints/{entry_id}.pt"
        if path not in self.data:
            self.data[path] = payload(size, len(self.data) + 1)
            self.http.add(path, self.data[path], **faults)
        entry = {"id": entry_id, "title": TITLES[entry_id], "group": list(group), "url": self.http.url(path)}
        if in_catalog_size:
            entry["size"] = size
        self.entries.append(entry)
        return entry

    def catalog(self) -> Path:
        file = self.tmp_path / "catalog.json"
        file.write_text(json.dumps({"format": 1, "title": "test", "entries": self.entries}), encoding="utf-8")
        return file


def status(window: MainWindow, entry_id: str) -> str:
    return window.model.index_of(entry_id, tree.COL_STATUS).data()


def wait_status(qtbot, window: MainWindow, entry_id: str, pattern: str, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(
        lambda: re.fullmatch(pattern, status(window, entry_id) or "") is not None, timeout=timeout
    )


def row_state(window: MainWindow, row: int) -> str:
    return window.downloads.model.index(row, downloads.COL_STATE).data()


def row_of(window: MainWindow, entry_id: str) -> int | None:
    ws = window.workspace
    return ws.store.row_of(ws.store.key_of(ws.catalog.get(entry_id)))


class Answers:
    """Stands in for a person clicking in the confirmation dialogs: records each question, picks a button."""

    def __init__(
        self, monkeypatch, window: MainWindow, choose: Callable[[str, list[str]], str | None]
    ) -> None:
        self.asked: list[tuple[str, str, list[str]]] = []
        self.choose = choose
        monkeypatch.setattr(window, "ask", self)

    def __call__(self, title: str, text: str, choices: list[str], **options) -> str | None:
        self.asked.append((title, text, choices))
        return self.choose(title, choices)


def download_all(qtbot, window: MainWindow) -> None:
    """Download every entry and wait until the queue has reported each one finished (its row done and
    its message shown), not only until the files are found on disk: a scan may see a finished file before
    the queue's last event arrives, and that event's message would land in the middle of the test."""
    window.download(list(window.workspace.catalog))
    store = window.workspace.store
    for entry in window.workspace.catalog:
        wait_status(qtbot, window, entry.id, "Downloaded|Verified")
        qtbot.waitUntil(
            lambda entry=entry: (
                (row := row_of(window, entry.id)) is not None and store.item_at(row).state is ItemState.DONE
            ),
            timeout=WAIT_MS,
        )


def choose_folder(window: MainWindow, target: Path) -> None:
    """Pick another models folder in the settings dialog and press OK, as a user would."""
    dialog = window.open_settings()
    dialog.folder.setText(str(target))
    dialog.accept()


def wait_moved(qtbot, window: MainWindow, target: Path) -> None:
    ws = window.workspace
    qtbot.waitUntil(
        lambda: ws.store.library.root == target.resolve() and not ws.store.moving, timeout=WAIT_MS
    )
