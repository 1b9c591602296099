"""What each present file holds, read by a worker thread and kept for the tree and the details pane."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.claims import claim_mismatch, inspect_entry, inspect_path
from ofa_manager.core.file_status import FileStatus, State

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

    The read runs on the workspace's disk workers (the core caches the result in the file's metadata,
    so a known file costs a JSON read, a new one about 50 ms). A verify reads the file again.

    Signals:
        inspected(str, list): a file's contents are known; its key and the ids of its checkpoints
    """

    inspected = Signal(str, list)

    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self._found: dict[str, tuple[tuple, dict]] = {}  # file key -> (stamp, summary)
        self._asked: dict[str, tuple] = {}  # file key -> stamp being read
        # The same for the kept copies of downloads that failed their check (NAME.rejected).
        self._rejected_found: dict[str, tuple[tuple, dict]] = {}
        self._rejected_asked: dict[str, tuple] = {}
        workspace.statuses_changed.connect(self.refresh)
        workspace.entries_changed.connect(self.refresh)
        workspace.folder_changed.connect(self._forget)
        workspace.bridge.task_done.connect(self._done, Qt.QueuedConnection)
        workspace.bridge.task_failed.connect(self._failed, Qt.QueuedConnection)

    # -- what the views ask -----------------------------------------------------------------------

    def summary_of(self, entry: Checkpoint) -> dict | None:
        """The contents of this checkpoint's file as last read, while that file is still the one read."""
        key = self.workspace.key_of(entry)
        found = self._found.get(key)
        if found is None or found[0] != _stamp(self.workspace.status_of(entry)):
            return None
        return found[1]

    def mismatch_of(self, entry: Checkpoint) -> str | None:
        return claim_mismatch(entry.expect, self.summary_of(entry))

    def reading(self, entry: Checkpoint) -> bool:
        return self.workspace.key_of(entry) in self._asked

    def rejected_summary_of(self, entry: Checkpoint) -> dict | None:
        """The contents of the kept copy of this checkpoint's failed download (NAME.rejected), as read."""
        found = self._rejected_found.get(self.workspace.key_of(entry))
        if found is None or found[0] != _rejected_stamp(self.workspace.status_of(entry)):
            return None
        return found[1]

    def reading_rejected(self, entry: Checkpoint) -> bool:
        return self.workspace.key_of(entry) in self._rejected_asked

    # -- reading ----------------------------------------------------------------------------------

    def refresh(self, *args) -> None:
        """Read every present file not yet read in its current version."""
        ws = self.workspace
        if ws.statuses is None:
            return
        for entry in ws.one_per_file(ws.catalog):
            status = ws.status_of(entry)
            stamp = _stamp(status)
            key = ws.key_of(entry)
            self._refresh_rejected(entry, key, _rejected_stamp(status))
            if stamp is None:
                self._found.pop(key, None)
                continue
            if self._asked.get(key) == stamp or (key in self._found and self._found[key][0] == stamp):
                continue
            self.read(entry, stamp)

    def read(self, entry: Checkpoint, stamp: tuple | None = None, *, again: bool = False) -> None:
        ws = self.workspace
        stamp = stamp or _stamp(ws.status_of(entry))
        if stamp is None:
            return
        key = ws.key_of(entry)
        self._asked[key] = stamp
        library = ws.library

        def work(task):
            return library, stamp, inspect_entry(library, entry, refresh=again)

        ws.bridge.submit("inspect", key, work)

    def _refresh_rejected(self, entry: Checkpoint, key: str, stamp: tuple | None) -> None:
        if stamp is None:
            self._rejected_found.pop(key, None)
            return
        found = self._rejected_found.get(key)
        if self._rejected_asked.get(key) == stamp or (found is not None and found[0] == stamp):
            return
        self._rejected_asked[key] = stamp
        library = self.workspace.library
        path = library.rejected_path(entry)

        def work(task):
            return library, stamp, inspect_path(path)

        self.workspace.bridge.submit("inspect-rejected", key, work)

    def _done(self, kind: str, key: str, result) -> None:
        if kind == "inspect-rejected":
            library, stamp, summary = result
            if self._rejected_asked.get(key) == stamp:
                del self._rejected_asked[key]
            if library is not self.workspace.library:
                return
            self._rejected_found[key] = (stamp, summary)
            ids = [e.id for e in self.workspace.entries_of(key)]
            self.inspected.emit(key, ids)
            self.workspace.entries_changed.emit(ids)
            return
        if kind == "verify":
            entries = self.workspace.entries_of(key)
            if entries:
                self.read(entries[0], again=True)
            return
        if kind != "inspect":
            return
        library, stamp, found = result
        if self._asked.get(key) == stamp:
            del self._asked[key]
        if library is not self.workspace.library:
            return
        if found is None:
            self._found.pop(key, None)
        else:
            self._found[key] = (stamp, found.summary)
        ids = [e.id for e in self.workspace.entries_of(key)]
        self.inspected.emit(key, ids)
        self.workspace.entries_changed.emit(ids)

    def _failed(self, kind: str, key: str, reason: str) -> None:
        if kind == "inspect":
            self._asked.pop(key, None)
        elif kind == "inspect-rejected":
            self._rejected_asked.pop(key, None)

    def _forget(self) -> None:
        self._found.clear()
        self._asked.clear()
        self._rejected_found.clear()
        self._rejected_asked.clear()
