"""What each present file holds, read by a worker thread and kept for the tree and the details pane."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.claims import claim_mismatch, inspect_entry, inspect_path
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.gui.bridge import Bridge, Task
from ofa_manager.gui.tasks import InspectResult

if TYPE_CHECKING:
    from ofa_manager.gui.store import Store

PRESENT = (State.DOWNLOADED, State.CORRUPT, State.IN_STORE)


def _stamp(status: FileStatus | None) -> tuple | None:
    """What identifies the file that was read: a changed stamp means the file must be read again."""
    if status is None or status.state not in PRESENT:
        return None
    return (
        status.state is State.IN_STORE,
        str(status.store_path or status.path),
        status.bytes,
        status.sha256,
        status.meta.get("mtime_ns"),
        status.meta.get("verified_at"),
    )


def _rejected_stamp(status: FileStatus | None) -> tuple | None:
    """What identifies a kept copy of a download that failed its check (NAME.rejected), when the row
    has no file of its own: that copy is what the details pane shows."""
    if status is None or status.state in PRESENT or status.rejected is None:
        return None
    info = status.rejected
    return (str(status.path), info.get("size"), info.get("sha256"), info.get("mtime_ns"))


class ContentsWatcher(QObject):
    """Reads each present file's contents off the GUI thread, once per version of the file.

    The read runs on the disk workers (the core caches the result in the file's metadata,
    so a known file costs a JSON read, a new one about 50 ms). A verify reads the file again.

    Signals:
        inspected(str, list): a file's contents are known; its key and the ids of its checkpoints
    """

    inspected = Signal(str, list)

    def __init__(self, store: Store, bridge: Bridge) -> None:
        super().__init__(store)
        self.store = store
        self._bridge = bridge
        self._found: dict[str, tuple[tuple, dict]] = {}  # file key -> (stamp, summary)
        self._asked: dict[str, tuple] = {}  # file key -> stamp being read
        # The same for the kept copies of downloads that failed their check (NAME.rejected).
        self._rejected_found: dict[str, tuple[tuple, dict | None]] = {}
        self._rejected_asked: dict[str, tuple] = {}
        store.statuses_changed.connect(self.refresh)
        store.entries_changed.connect(self.refresh)
        store.folder_changed.connect(self._forget)
        store.verified.connect(self._verified)

    # -- what the views ask -----------------------------------------------------------------------

    def summary_of(self, entry: Checkpoint) -> dict | None:
        """The contents of this checkpoint's file as last read, while that file is still the one read."""
        key = self.store.key_of(entry)
        found = self._found.get(key)
        if found is None or found[0] != _stamp(self.store.status_of(entry)):
            return None
        return found[1]

    def mismatch_of(self, entry: Checkpoint) -> str | None:
        return claim_mismatch(entry.expect, self.summary_of(entry))

    def reading(self, entry: Checkpoint) -> bool:
        return self.store.key_of(entry) in self._asked

    def rejected_summary_of(self, entry: Checkpoint) -> dict | None:
        """The contents of the kept copy of this checkpoint's failed download (NAME.rejected), as read."""
        found = self._rejected_found.get(self.store.key_of(entry))
        if found is None or found[0] != _rejected_stamp(self.store.status_of(entry)):
            return None
        return found[1]

    def reading_rejected(self, entry: Checkpoint) -> bool:
        return self.store.key_of(entry) in self._rejected_asked

    # -- reading ----------------------------------------------------------------------------------

    def refresh(self, *args: object) -> None:
        """Read every present file not yet read in its current version."""
        store = self.store
        if store.statuses is None:
            return
        for entry in store.one_per_file(store.catalog):
            status = store.status_of(entry)
            stamp = _stamp(status)
            key = store.key_of(entry)
            self._refresh_rejected(entry, key, _rejected_stamp(status))
            if stamp is None:
                self._found.pop(key, None)
                continue
            if self._asked.get(key) == stamp or (key in self._found and self._found[key][0] == stamp):
                continue
            self.read(entry, stamp)

    def read(self, entry: Checkpoint, stamp: tuple | None = None, *, again: bool = False) -> None:
        store = self.store
        stamp = stamp or _stamp(store.status_of(entry))
        if stamp is None:
            return
        key = store.key_of(entry)
        self._asked[key] = stamp
        library = store.library

        def work(task: Task) -> InspectResult:
            found = inspect_entry(library, entry, refresh=again)
            return InspectResult(library, stamp, None if found is None else found.summary)

        self._bridge.submit(
            work, lambda result: self._read(key, result), lambda reason: self._read_failed(key, reason)
        )

    def _refresh_rejected(self, entry: Checkpoint, key: str, stamp: tuple | None) -> None:
        if stamp is None:
            self._rejected_found.pop(key, None)
            return
        found = self._rejected_found.get(key)
        if self._rejected_asked.get(key) == stamp or (found is not None and found[0] == stamp):
            return
        self._rejected_asked[key] = stamp
        library = self.store.library
        path = library.rejected_path(entry)

        def work(task: Task) -> InspectResult:
            return InspectResult(library, stamp, inspect_path(path))

        self._bridge.submit(
            work,
            lambda result: self._rejected_read(key, result),
            lambda reason: self._rejected_read_failed(key, reason),
        )

    def _rejected_read(self, key: str, result: InspectResult) -> None:
        if self._rejected_asked.get(key) == result.stamp:
            del self._rejected_asked[key]
        if result.library is not self.store.library:
            return
        self._rejected_found[key] = (result.stamp, result.summary)
        self._announce(key)

    def _read(self, key: str, result: InspectResult) -> None:
        if self._asked.get(key) == result.stamp:
            del self._asked[key]
        if result.library is not self.store.library:
            return
        if result.summary is None:
            self._found.pop(key, None)
        else:
            self._found[key] = (result.stamp, result.summary)
        self._announce(key)

    def _announce(self, key: str) -> None:
        ids = [e.id for e in self.store.entries_of(key)]
        self.inspected.emit(key, ids)
        self.store.entries_changed.emit(ids)

    def _verified(self, key: str) -> None:
        entries = self.store.entries_of(key)
        if entries:
            self.read(entries[0], again=True)

    def _read_failed(self, key: str, reason: str) -> None:
        self._asked.pop(key, None)
        self.store.message.emit(f"Reading what the file holds failed for {Path(key).name}: {reason}")

    def _rejected_read_failed(self, key: str, reason: str) -> None:
        self._rejected_asked.pop(key, None)
        label = self.tr("Reading the rejected copy")
        self.store.message.emit(f"{label} failed for {Path(key).name}: {reason}")

    def _forget(self) -> None:
        self._found.clear()
        self._asked.clear()
        self._rejected_found.clear()
        self._rejected_asked.clear()
