"""What the window shows, kept in the GUI thread: queue rows, file states, disk usage, probed sizes.

The store is read by the item models and views and holds no actions. It is fed by the bridge (the
download queue's events) and by the results of background work (scans, link checks, verifications)
that the commands and the download process's owner hand it; progress is coalesced by one timer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ofa_manager.core.catalog import Catalog, Checkpoint
from ofa_manager.core.file_status import DiskUsage, FileStatus, State
from ofa_manager.core.library import Library
from ofa_manager.core.mirrors import sources
from ofa_manager.core.safe_files import free_space
from ofa_manager.core.settings import Settings
from ofa_manager.core.states import ACTIVE, UNFINISHED, ItemState, QueueEventKind
from ofa_manager.gui.bridge import Bridge, Task
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.i18n import SOURCE_LANGUAGE, current_language
from ofa_manager.gui.status import EntryState, display_path, short_reason
from ofa_manager.gui.tasks import ScanResult

if TYPE_CHECKING:
    from ofa_manager.core.http import LinkCheck
    from ofa_manager.core.queue import QueueEvent, QueueItem

# Progress reaches the views at most this often, whatever the number of downloads.
FLUSH_MS = 250
# While downloads run, the disk usage figures are refreshed this often.
RESCAN_WHILE_ACTIVE_S = 2.0

# (file, bytes, titles, partial), largest first
UsageRow = tuple[str, int, list[str], bool]


class Store(QObject):
    """Holds what the window shows: queue items in order, file states, disk usage, probed sizes.

    Item models read from it and keep no copy. Only the window layer's commands, the download
    process's owner and the folder-change flow change it, through the methods under "changes".

    Signals:
        started(): the download queue exists and runs (after the first paint)
        items_about_to_insert(int): a queue row is about to appear at this index
        items_inserted(): it appeared
        items_about_to_remove(int): the queue row at this index is about to go
        items_removed(): it went
        items_about_to_move(int, int): a queue row moves from one index to another
        items_moved(): it moved
        items_about_to_reset(): the whole queue is replaced (new models folder, new download process)
        items_reset(): it was replaced
        items_changed(list, bool): queue rows that changed (coalesced); False when only progress moved
        entries_changed(list): checkpoint ids whose state, size or file changed
        entries_progressed(list): checkpoint ids whose download or verification moved on (coalesced)
        statuses_changed(): any checkpoint may have changed (first scan, new settings, new folder)
        scanned(): a scan of the current models folder arrived
        usage_changed(): new disk usage figures
        usage_rows_about_to_change(): the files-by-size rows are about to be replaced
        usage_rows_changed(): new files-by-size rows
        progress_changed(): the overall progress may have changed
        message(str): a line for the status bar
        item_finished(object): a queued file finished or failed (a QueueItem)
        verified(str): a file was hashed again (its key)
        folder_changed(): the models folder was switched
    """

    started = Signal()
    items_about_to_insert = Signal(int)
    items_inserted = Signal()
    items_about_to_remove = Signal(int)
    items_removed = Signal()
    items_about_to_move = Signal(int, int)
    items_moved = Signal()
    items_about_to_reset = Signal()
    items_reset = Signal()
    items_changed = Signal(list, bool)
    entries_changed = Signal(list)
    entries_progressed = Signal(list)
    statuses_changed = Signal()
    scanned = Signal()
    usage_changed = Signal()
    usage_rows_about_to_change = Signal()
    usage_rows_changed = Signal()
    progress_changed = Signal()
    message = Signal(str)
    item_finished = Signal(object)
    verified = Signal(str)
    folder_changed = Signal()

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        root: Path | str,
        bridge: Bridge,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.settings = settings
        self.library = Library(root, catalog, stores=settings.store_paths())
        self.statuses: dict[str, FileStatus] | None = None
        self.usage: DiskUsage | None = None
        self.usage_rows: list[UsageRow] = []
        self.links: dict[str, LinkCheck] = {}  # catalog URL -> what its last HEAD said
        self.verifying: dict[str, float] = {}  # file key -> fraction hashed
        self.retries: dict[str, int] = {}  # file key -> which try a Retry started (2 for the first retry)
        self.moving = False  # a models-folder change runs
        self.moving_to: Path | None = None  # where a folder change that moves the files takes them
        self._bridge = bridge
        self._items: list[QueueItem] = []
        self._by_key: dict[str, QueueItem] = {}
        self._file_entries: dict[str, list[Checkpoint]] = {}
        # Files whose whole row changed, and files whose progress alone moved, since the last tick.
        self._dirty_keys: set[str] = set()
        self._moved_keys: set[str] = set()
        self._scan_running = False
        self._scan_again = False
        self._last_scan = 0.0
        self._closed = False
        self.map_files()
        # Queued even for events emitted from the GUI thread itself, so every event is handled in the
        # order the queue emitted it.
        bridge.queue_event.connect(self._on_queue_event, Qt.ConnectionType.QueuedConnection)
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

    # -- what the views read ----------------------------------------------------------------------

    def items(self) -> list[QueueItem]:
        return self._items

    def item_count(self) -> int:
        return len(self._items)

    def item_at(self, row: int) -> QueueItem:
        return self._items[row]

    def row_of(self, key: str) -> int | None:
        for row, item in enumerate(self._items):
            if item.key == key:
                return row
        return None

    def key_of(self, entry: Checkpoint) -> str:
        return str(self.library.path(entry))

    def item_for(self, entry: Checkpoint) -> QueueItem | None:
        return self._by_key.get(self.key_of(entry))

    def item_by_key(self, key: str) -> QueueItem | None:
        return self._by_key.get(key)

    def title_of(self, key: str) -> str:
        """The name a user knows a queued file by: its (first) checkpoint's title."""
        entries = self.entries_of(key)
        item = self.item_by_key(key)
        return entries[0].title if entries else (item.title if item is not None else Path(key).name)

    def entries_of(self, key: str) -> list[Checkpoint]:
        """Every checkpoint whose file is ``key`` (several when they share one URL)."""
        return self._file_entries.get(key, [])

    def status_of(self, entry: Checkpoint) -> FileStatus | None:
        return None if self.statuses is None else self.statuses.get(entry.id)

    def entry_state(self, entry: Checkpoint) -> EntryState:
        key = self.key_of(entry)
        return EntryState(
            self.status_of(entry), self._by_key.get(key), self.verifying.get(key), self._link_error(entry)
        )

    def _link_error(self, entry: Checkpoint) -> str | None:
        """What the last check said when the published link failed (noting a mirror that answered)."""
        link = self.links.get(entry.url)
        if link is None or link.ok:
            return None
        answering = [
            s for s in sources(entry, self.catalog)[1:] if (c := self.links.get(s.url)) is not None and c.ok
        ]
        return f"{link.error}; a mirror answers" if answering else link.error

    def _probed_size(self, entry: Checkpoint) -> int | None:
        for source in sources(entry, self.catalog):
            link = self.links.get(source.url)
            if link is not None and link.ok and link.size is not None:
                return link.size
        return None

    def size_of(self, entry: Checkpoint) -> int | None:
        """Catalog size, else what the download or the disk says, else the HEAD probe; None if unknown."""
        size = self.library.expected_size(entry)
        if size is not None:
            return size
        item = self._by_key.get(self.key_of(entry))
        if item is not None and item.total:
            return item.total
        status = self.status_of(entry)
        if status is not None and status.state is not State.REMOTE and status.size:
            return status.size
        return self._probed_size(entry)

    def overall_progress(self) -> tuple[float | None, int]:
        """Fraction done over the unfinished downloads, and how many are running or waiting to."""
        unfinished = [i for i in self._items if i.state in UNFINISHED]
        going = [i for i in unfinished if i.state is not ItemState.PAUSED]
        known = [(i.done, i.total) for i in unfinished if i.total]
        total = sum(t for _, t in known if t)
        fraction = sum(min(d, t) for d, t in known if t) / total if total else None
        return fraction, len(going)

    def free_bytes(self) -> int:
        if self.usage is not None:
            return self.usage.free
        return free_space(self.library.root)

    def one_per_file(self, entries: Any) -> list[Checkpoint]:
        """One entry per file."""
        return self.library.one_per_file(entries)

    def rejected_entries(self, entries: Any) -> list[Checkpoint]:
        """One entry per file whose last download failed its check and was kept (NAME.rejected)."""
        return [
            e
            for e in self.one_per_file(entries)
            if (s := self.status_of(e)) is not None and s.rejected is not None
        ]

    # -- changes (commands, the process owner and the folder change only) -------------------------

    def close(self) -> None:
        self._closed = True
        self._flush_timer.stop()

    def map_files(self) -> None:
        self._file_entries = {str(path): entries for path, entries in self.library.files().items()}

    def clear_items(self) -> None:
        """The queue is gone (new folder, new download process): its rows go; it sends them again."""
        self.items_about_to_reset.emit()
        self._items, self._by_key = [], {}
        self.items_reset.emit()

    def set_library(self, library: Library) -> None:
        """A new library (another folder, or new shared stores): a scan of the old one is not taken for it."""
        self.library = library
        self.map_files()

    def forget_disk(self) -> None:
        """Nothing is known of the (new) folder until it is scanned."""
        self.statuses = None
        self._set_usage(None, [])

    def set_link(self, url: str, result: LinkCheck) -> None:
        self.links[url] = result
        self.entries_changed.emit([e.id for e in self.catalog if url in (e.url, *e.mirrors)])

    def verifying_started(self, key: str) -> None:
        self.verifying[key] = 0.0
        self.mark_file(key)

    def verifying_progressed(self, key: str, fraction: float) -> None:
        if key in self.verifying:
            self.verifying[key] = fraction
            self.mark_file(key, whole=False)

    def verifying_ended(self, key: str) -> None:
        self.verifying.pop(key, None)
        self.mark_file(key)

    def mark_file(self, key: str, *, whole: bool = True) -> None:
        (self._dirty_keys if whole else self._moved_keys).add(key)
        if not self._flush_timer.isActive() and not self._closed:
            self._flush_timer.start()

    # -- scanning ---------------------------------------------------------------------------------

    def request_scan(self) -> None:
        """Re-read file states and disk usage in the background; calls made meanwhile fold into one."""
        if self._closed:
            return
        if self._scan_running:
            self._scan_again = True
            return
        self._scan_running = True
        self._scan_again = False
        self._last_scan = time.monotonic()
        library = self.library

        def work(task: Task) -> ScanResult:
            from ofa_manager.core.names import adopt_earlier_names

            adopt_earlier_names(library)  # files kept under the names earlier versions chose
            return ScanResult(library, library.statuses(), library.disk_usage())

        self._bridge.submit(work, self._scanned, self._scan_failed)

    def _scanned(self, result: ScanResult) -> None:
        if self._closed:
            return
        self._scan_running = False
        if result.library is self.library:
            statuses, usage = result.statuses, result.usage
            before, self.statuses = self.statuses, statuses
            rows = sorted(
                (
                    (
                        path,
                        size,
                        [e.title for e in self.entries_of(path)],
                        any(statuses[e.id].state is State.PARTIAL for e in self.entries_of(path)),
                    )
                    for path, size in usage.per_file.items()
                    if size
                ),
                key=lambda row: -row[1],
            )
            self._set_usage(usage, rows)
            if before is None:
                self.statuses_changed.emit()
            else:
                changed = [i for i, status in statuses.items() if before.get(i) != status]
                if changed:
                    self.entries_changed.emit(changed)
            self.scanned.emit()
        if self._scan_again:
            self.request_scan()

    def _scan_failed(self, reason: str) -> None:
        if self._closed:
            return
        self._scan_running = False
        self.message.emit(self.tr("Cannot read the models folder: {reason}").format(reason=reason))
        if self._scan_again:
            self.request_scan()

    def _set_usage(self, usage: DiskUsage | None, rows: list[UsageRow]) -> None:
        """New disk usage figures; new rows are announced before (for the model's reset) and after."""
        if rows != self.usage_rows:
            self.usage_rows_about_to_change.emit()
            self.usage_rows = rows
            self.usage_rows_changed.emit()
        if usage != self.usage:
            self.usage = usage
            self.usage_changed.emit()

    # -- events from the download queue -----------------------------------------------------------

    def _on_queue_event(self, event: QueueEvent) -> None:
        if self._closed:
            return
        item = event.item
        if event.kind == QueueEventKind.ADDED and item is not None:
            if event.key not in self._file_entries:
                return  # from the queue of a folder that was just left
            if event.key in self._by_key:
                self._replace(event.key, item)
                return
            row = len(self._items)
            self.items_about_to_insert.emit(row)
            self._items.append(item)
            self._by_key[item.key] = item
            self.items_inserted.emit()
            self.mark_file(item.key)
        elif event.kind == QueueEventKind.CHANGED and item is not None:
            if event.key in self._by_key:
                self._replace(event.key, item)
        elif event.kind == QueueEventKind.REMOVED:
            gone = self.row_of(event.key)
            if gone is None:
                return
            self.items_about_to_remove.emit(gone)
            del self._items[gone]
            del self._by_key[event.key]
            self.items_removed.emit()
            self.mark_file(event.key)
            self.request_scan()
        elif event.kind == QueueEventKind.MOVED:
            moved = self.row_of(event.key)
            target = max(0, min(event.index, len(self._items) - 1))
            if moved is None or moved == target:
                return
            self.items_about_to_move.emit(moved, target)
            self._items.insert(target, self._items.pop(moved))
            self.items_moved.emit()

    def _replace(self, key: str, item: QueueItem) -> None:
        row = self.row_of(key)
        if row is None:
            return
        old = self._items[row]
        self._items[row] = item
        self._by_key[key] = item
        if old.state is not item.state:
            self.mark_file(key)
            self._transition(old, item)
        else:
            self.mark_file(key, whole=False)

    def _transition(self, old: QueueItem, item: QueueItem) -> None:
        state = item.state
        if state not in ACTIVE or old.state not in ACTIVE:
            # Files appeared, grew or went: the tree's states and the disk figures follow.
            self.request_scan()
        if state in (ItemState.DONE, ItemState.FAILED):
            self.item_finished.emit(item)
            titles = ", ".join(catalog_text(e.title) for e in self.entries_of(item.key)[:1])
            titles = titles or catalog_text(item.title)
            failed = state is ItemState.FAILED
            tries = self.retries.get(item.key, 0) if failed else self.retries.pop(item.key, 0)
            if failed and tries:
                self.message.emit(
                    self.tr("{title}: try {tries} failed too, at {time}: {error}").format(
                        title=titles, tries=tries, time=time.strftime("%H:%M:%S"), error=item.error
                    )
                )
            elif failed:
                # The whole reason in English; in another language, the row's words (the tooltip has it all).
                reason = (
                    item.error
                    if current_language() == SOURCE_LANGUAGE
                    else short_reason(item.error, item.error_kind)
                )
                self.message.emit(
                    self.tr("{titles}: download failed: {reason}").format(titles=titles, reason=reason)
                )
            else:
                self.message.emit(
                    self.tr("{titles}: downloaded to {path}").format(
                        titles=titles, path=display_path(item.key)
                    )
                )
        # State changes show at once; plain progress waits for the timer.
        self._flush()

    def _flush(self) -> None:
        """Tell the views what changed since the last tick; stop ticking when nothing runs.

        Every repaint calls back into Python many times, and each call waits for the interpreter lock
        that the download threads share, so only the cells that changed are announced.
        """
        if self._dirty_keys or self._moved_keys:
            moved = self._moved_keys - self._dirty_keys
            for keys, whole in ((self._dirty_keys, True), (moved, False)):
                rows = sorted(r for r in (self.row_of(k) for k in keys) if r is not None)
                ids = [e.id for k in keys for e in self.entries_of(k)]
                if rows:
                    self.items_changed.emit(rows, whole)
                if ids:
                    (self.entries_changed if whole else self.entries_progressed).emit(ids)
            self._dirty_keys = set()
            self._moved_keys = set()
            self.progress_changed.emit()
        running = any(i.state in ACTIVE for i in self._items) or bool(self.verifying)
        if running and time.monotonic() - self._last_scan >= RESCAN_WHILE_ACTIVE_S:
            self.request_scan()
        if not running:
            self._flush_timer.stop()
