"""A models folder and its window store without the window: for fast tests of the item models.

The store is the real one (gui/store.py) over a real models folder in a temporary folder; files get there
through the command line's own download from the loopback server. The download queue is not started:
its events are handed to the store's bridge as the download process's owner hands them on (the
downloads themselves are tested with the whole window elsewhere).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, QModelIndex  # noqa: E402

from ofa_manager import cli  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.core.settings import Settings  # noqa: E402
from ofa_manager.core.states import ItemState, QueueEvent, QueueEventKind, QueueItem  # noqa: E402
from ofa_manager.gui.workspace import Workspace  # noqa: E402
from tests.catalogs import entry, payload, sha256, write_catalog  # noqa: E402

WAIT_MS = 15000
SIZES = {"big": 300_000, "small": 120_000, "petl": 50_000}


class ModelScene:
    """Four checkpoints in two groups: big (sha256, size, params, a description) and small (no size
    in the catalog) under Backbones; petl-a (RefCOCO, needs big) and petl-b (RefCOCO+, said to hold an
    adapter) share one file."""

    def __init__(
        self, tmp_path: Path, http_server, qtbot, *, settings: Settings | None = None, queue_in_window=False
    ) -> None:
        self.qtbot, self.http = qtbot, http_server
        self.data = {name: payload(size, seed) for seed, (name, size) in enumerate(SIZES.items())}
        for name, data in self.data.items():
            http_server.add(f"/{name}.pt", data)
        self.catalog_file = write_catalog(
            tmp_path / "catalog.json",
            [
                entry(
                    "big",
                    http_server.url("/big.pt"),
                    title="Big Model",
                    group=["Backbones"],
                    size=SIZES["big"],
                    sha256=sha256(self.data["big"]),
                    params="470M",
                    description="The large one.",
                ),
                entry("small", http_server.url("/small.pt"), title="Small Model", group=["Backbones"]),
                entry(
                    "petl-a",
                    http_server.url("/petl.pt"),
                    title="Adapter A",
                    group=["PETL", "RefCOCO"],
                    size=SIZES["petl"],
                    base="big",
                    params="1.5B",
                ),
                entry(
                    "petl-b",
                    http_server.url("/petl.pt"),
                    title="Adapter B",
                    group=["PETL", "RefCOCO+"],
                    size=SIZES["petl"],
                    params="33k",
                    expect={"petl": "adapter"},  # the file holds no checkpoint: marked in the tree
                ),
            ],
        )
        self.dir = tmp_path / "models"
        self.dir.mkdir()
        self.catalog = load_catalog([self.catalog_file])
        self.workspace = Workspace(
            self.catalog, settings or Settings(), self.dir, queue_in_window=queue_in_window
        )
        self.store = self.workspace.store
        self.contents = self.workspace.contents

    def start(self) -> None:
        """Start the download queue (in this process when the scene was made so) and the first scan."""
        self.workspace.start()
        self.qtbot.waitUntil(lambda: self.store.statuses is not None, timeout=WAIT_MS)

    # -- the folder -------------------------------------------------------------------------------

    def download(self, *ids: str) -> None:
        """Downloads through the command line, in this process, as a user would before opening the window."""
        args = ["--dir", str(self.dir), "--catalog", str(self.catalog_file), "download", *ids]
        assert cli.main([*args, "--connections", "1", "--no-backbone"]) == 0

    def path(self, entry_id: str) -> Path:
        return self.store.library.path(self.catalog.get(entry_id))

    def key(self, entry_id: str) -> str:
        return self.store.key_of(self.catalog.get(entry_id))

    def scan(self) -> None:
        """The store reads the folder again (on a worker, as in the window) and tells the models."""
        with self.qtbot.waitSignal(self.store.scanned, timeout=WAIT_MS):
            self.store.request_scan()

    # -- the queue --------------------------------------------------------------------------------

    def item(self, entry_id: str, state: ItemState = ItemState.QUEUED, **fields) -> QueueItem:
        ids = tuple(e.id for e in self.store.entries_of(self.key(entry_id)))
        title = fields.pop("title", self.catalog.get(entry_id).title)
        return QueueItem(self.key(entry_id), ids, title, state, **fields)

    def event(self, kind: QueueEventKind, key: str, item: QueueItem | None = None, index: int = -1) -> None:
        """One event of the download queue, through the bridge; returns once the store has handled it."""
        self.workspace.bridge.queue_event.emit(QueueEvent(kind, key, item, index))
        QCoreApplication.sendPostedEvents()  # the store takes queue events through a queued connection

    def add(self, item: QueueItem) -> QueueItem:
        self.event(QueueEventKind.ADDED, item.key, item)
        assert self.store.item_by_key(item.key) == item
        return item

    def change(self, item: QueueItem, **fields) -> QueueItem:
        changed = dataclasses.replace(item, **fields)
        self.event(QueueEventKind.CHANGED, item.key, changed)
        assert self.store.item_by_key(item.key) == changed
        return changed

    def close(self) -> None:
        assert self.workspace.close()


class Spy:
    """Every dataChanged of a model as (parent, first row, last row, first column, last column, roles)."""

    def __init__(self, model) -> None:
        self.seen: list[tuple[QModelIndex, int, int, int, int, list[int]]] = []
        model.dataChanged.connect(self._record)

    def _record(self, top_left, bottom_right, roles=()) -> None:
        assert top_left.parent() == bottom_right.parent(), "a dataChanged range spans two parents"
        self.seen.append(
            (
                QModelIndex(top_left.parent()),
                top_left.row(),
                bottom_right.row(),
                top_left.column(),
                bottom_right.column(),
                sorted(int(r) for r in roles),
            )
        )

    def named(self, index: QModelIndex, role: int | None = None) -> bool:
        """Whether some dataChanged covered this cell (and this role, when given)."""
        return any(
            parent == index.parent()
            and first <= index.row() <= last
            and left <= index.column() <= right
            and (role is None or not roles or role in roles)
            for parent, first, last, left, right, roles in self.seen
        )

    def clear(self) -> None:
        self.seen.clear()
