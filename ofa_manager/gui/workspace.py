"""The models folder, its catalog and its download queue as the window sees them, kept in the GUI thread."""

from __future__ import annotations

import getpass
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ofa_manager.core import settings as settings_file
from ofa_manager.core import units
from ofa_manager.core.catalog import Catalog, Checkpoint
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.library import Library
from ofa_manager.core.mirrors import rewrite, sources
from ofa_manager.core.safe_files import free_space
from ofa_manager.core.settings import Settings
from ofa_manager.core.states import ACTIVE, CANCELLABLE, GOING, UNFINISHED, ItemState, QueueEventKind
from ofa_manager.gui.bridge import Bridge, Task
from ofa_manager.gui.status import EntryState, display_path

# Progress reaches the views at most this often, whatever the number of downloads.
FLUSH_MS = 250
# While downloads run, the disk usage figures are refreshed this often.
RESCAN_WHILE_ACTIVE_S = 2.0
# HEAD probes give up after this long, so a dead host never keeps a worker for the stall timeout.
PROBE_TIMEOUT_S = 10.0
# How long delete and move wait for another program (or a download) to let go of a file.
LOCK_WAIT_S = 10.0


def folder_key(root: Path | str) -> str:
    """A short stable name for a models folder (and the user), for per-folder state and the instance lock."""
    text = f"{getpass.getuser()}\0{Path(root).expanduser().resolve()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def queue_state_file(root: Path | str) -> Path:
    return settings_file.state_dir() / f"queue-{folder_key(root)}.json"


class Workspace(QObject):
    """Holds what the window shows: queue items in order, file states, disk usage, probed sizes.

    It is fed only by the bridge's signals, in the GUI thread; item models read from it and keep no
    copy. Progress is coalesced by one timer that stops when nothing runs.

    Signals:
        started(): the download queue exists and runs (after the first paint)
        items_about_to_insert(int): a queue row is about to appear at this index
        items_inserted(): it appeared
        items_about_to_remove(int): the queue row at this index is about to go
        items_removed(): it went
        items_about_to_move(int, int): a queue row moves from one index to another
        items_moved(): it moved
        items_about_to_reset(): the whole queue is replaced (new models folder)
        items_reset(): it was replaced
        items_changed(list, bool): queue rows that changed (coalesced); False when only progress moved
        entries_changed(list): checkpoint ids whose state, size or file changed
        entries_progressed(list): checkpoint ids whose download or verification moved on (coalesced)
        statuses_changed(): any checkpoint may have changed (first scan, new settings, new folder)
        usage_changed(): new disk usage figures
        usage_rows_about_to_change(): the files-by-size rows are about to be replaced
        usage_rows_changed(): new files-by-size rows
        progress_changed(): the overall progress may have changed
        message(str): a line for the status bar
        item_finished(object): a queued file finished or failed (a QueueItem)
        trash_failed(list, str): moving these checkpoint ids' file to the trash failed, and why
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
    usage_changed = Signal()
    usage_rows_about_to_change = Signal()
    usage_rows_changed = Signal()
    progress_changed = Signal()
    message = Signal(str)
    item_finished = Signal(object)
    trash_failed = Signal(list, str)
    folder_changed = Signal()

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        root: Path | str,
        parent: QObject | None = None,
        *,
        in_process_queue: bool = False,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.settings = settings
        self.library = Library(root, catalog, stores=settings.store_paths())
        # The download queue: a QueueProcess. A test mode (``in_process_queue``) runs the child's queue,
        # a LocalQueue, in this process instead, without starting a child; no build uses it.
        self.queue = None
        self.tokens = None  # for the HEAD probes made from this process
        self.in_process_queue = in_process_queue
        # Set by the app: takes the single-instance lock of another folder (False: a window has it).
        self.claim_folder: Callable[[Path], bool] | None = None
        self.moving = False
        self.moving_to: Path | None = None  # where a folder change that moves the files takes them
        # Restarts of a download process that ended by itself (a RestartBudget, made at start).
        self.restart_budget = None
        # Passed to each QueueProcess (heartbeat and not-responding times; tests shorten them).
        self.queue_process_options: dict = {}
        self.statuses: dict[str, FileStatus] | None = None
        self.usage = None
        # (file, bytes, titles, partial), largest first
        self.usage_rows: list[tuple[str, int, list[str], bool]] = []
        self.links: dict[str, object] = {}  # catalog URL -> LinkCheck
        self.verifying: dict[str, float] = {}  # file key -> fraction hashed
        self._items: list = []
        self._by_key: dict[str, object] = {}
        self._file_entries: dict[str, list[Checkpoint]] = {}
        # Files whose whole row changed, and files whose progress alone moved, since the last tick.
        self._dirty_keys: set[str] = set()
        self._moved_keys: set[str] = set()
        self._scan_running = False
        self._scan_again = False
        self._last_scan = 0.0
        self._probed_once = False
        self._unreachable_hosts: set[str] = set()  # servers the size probes could not reach
        self._link_batch: dict[str, object] | None = None
        self._closed = False
        self._map_files()

        self.bridge = Bridge(self)
        # Queued even for events emitted from the GUI thread itself, so every event is handled in the
        # order the queue emitted it.
        self.bridge.queue_event.connect(self._on_queue_event, Qt.QueuedConnection)
        self.bridge.task_done.connect(self._on_task_done, Qt.QueuedConnection)
        self.bridge.task_failed.connect(self._on_task_failed, Qt.QueuedConnection)
        self.bridge.task_progress.connect(self._on_task_progress, Qt.QueuedConnection)
        self.bridge.queue_exited.connect(self._on_queue_exited, Qt.QueuedConnection)
        from ofa_manager.gui.contents import ContentsWatcher  # imports the workspace's own types

        # What each present file holds (read on the disk workers): the tree's mismatch marks, the details.
        self.contents = ContentsWatcher(self)

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

    # -- start and stop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Create the download queue and bring back unfinished downloads; call after the first paint."""
        if self.queue is not None or self._closed:
            return
        # Imported here: requests and keyring are the slowest imports, and the window draws without them.
        from ofa_manager.gui.queue_process import RestartBudget, SessionTokens

        self.tokens = SessionTokens()
        if self.restart_budget is None:
            self.restart_budget = RestartBudget()
        self.queue = self._make_queue()
        self.queue.start(resume=self.settings.resume_on_start)
        self.request_scan()
        self.started.emit()

    def _make_queue(self):
        from ofa_manager.gui.queue_process import LocalQueue, QueueProcess

        state_file = queue_state_file(self.library.root)
        if not self.in_process_queue:
            return QueueProcess(
                self.library,
                self.catalog.sources,
                state_file,
                self.settings,
                on_event=self.bridge.forward,
                on_exit=self.bridge.exited,
                **self.queue_process_options,
            )
        return LocalQueue(self.library, state_file, self.settings, on_event=self.bridge.forward)

    def _on_queue_exited(self, ended) -> None:
        """The download process ended without being asked to (``ended`` is a ChildExit): start another,
        which restores the queue, unless it speaks another protocol version or the restart budget is
        spent for now."""
        from ofa_manager.gui.queue_process import PROTOCOL_VERSION, ExitReason

        if self._closed or self.moving:
            return
        self.items_about_to_reset.emit()
        self._items, self._by_key = [], {}
        self.items_reset.emit()
        if ended.reason is ExitReason.INCOMPATIBLE:
            self.queue = None
            self.message.emit(
                self.tr(
                    "The download process is from another version of ofa-manager (protocol {theirs}, this "
                    "window {ours}); reinstall ofa-manager"
                ).format(theirs=ended.version, ours=PROTOCOL_VERSION)
            )
            return
        if not self.restart_budget.take():
            self.queue = None
            text = self.tr(
                "The download process keeps stopping ({reason}, exit code {code}); restart ofa-manager"
            )
            self.message.emit(text.format(reason=ended.reason.value, code=ended.code))
            return
        if ended.reason is ExitReason.NOT_RESPONDING:
            text = self.tr("The download process was not responding for {seconds:.0f} s; restarted it")
        elif ended.reason is ExitReason.EXITED:
            text = self.tr("The download process stopped (exit code {code}); restarted it")
        else:
            text = self.tr("The download process stopped ({reason}); restarted it")
        self.message.emit(text.format(seconds=ended.silent, code=ended.code, reason=ended.reason.value))
        self.queue = self._make_queue()
        self.queue.start(resume=self.settings.resume_on_start)
        self.request_scan()

    def close(self, timeout: float = 2.0) -> bool:
        """Stop the downloads (partial data and the queue are kept for next time) and every worker.

        Returns True when every thread ended within ``timeout``; closing never waits longer.
        """
        if self._closed:
            return True
        self._closed = True
        self._flush_timer.stop()
        deadline = time.monotonic() + timeout
        stopped = True
        if self.queue is not None:
            stopper = threading.Thread(
                target=self.queue.shutdown, kwargs={"timeout": timeout}, name="ofa-shutdown", daemon=True
            )
            stopper.start()
            stopper.join(timeout)
            stopped = not stopper.is_alive()
        return self.bridge.shutdown(max(0.1, deadline - time.monotonic())) and stopped

    @property
    def ready(self) -> bool:
        return self.queue is not None and not self.moving

    @property
    def may_touch_files(self) -> bool:
        """Local files may be verified or deleted: the downloads are known and no folder move runs."""
        return self.tokens is not None and not self.moving

    # -- what the views read ----------------------------------------------------------------------

    def items(self) -> list:
        return self._items

    def item_count(self) -> int:
        return len(self._items)

    def item_at(self, row: int):
        return self._items[row]

    def row_of(self, key: str) -> int | None:
        for row, item in enumerate(self._items):
            if item.key == key:
                return row
        return None

    def key_of(self, entry: Checkpoint) -> str:
        return str(self.library.path(entry))

    def item_for(self, entry: Checkpoint):
        return self._by_key.get(self.key_of(entry))

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
        known = [i for i in unfinished if i.total]
        total = sum(i.total for i in known)
        fraction = sum(min(i.done, i.total) for i in known) / total if total else None
        return fraction, len(going)

    def free_bytes(self) -> int:
        if self.usage is not None:
            return self.usage.free
        return free_space(self.library.root)

    # -- commands ---------------------------------------------------------------------------------

    def download(self, entries: Iterable[Checkpoint]) -> list[str]:
        """Queue these checkpoints' files (resuming paused and failed ones); returns the file keys."""
        if not self.ready:
            return []
        entries = list(entries)
        return self.queue.download(entries)

    def pause(self, entries: Iterable[Checkpoint]) -> None:
        for key in self._keys(entries, lambda i: i is not None and i.state in GOING):
            self.queue.pause(key)

    def resume(self, entries: Iterable[Checkpoint]) -> None:
        """Resume paused or failed downloads; partial files that are not queued are queued again."""
        again = []
        for entry in entries:
            item = self.item_for(entry)
            status = self.status_of(entry)
            if item is not None and item.state in (ItemState.PAUSED, ItemState.FAILED):
                self.queue.resume(item.key)
            elif (
                (item is None or item.state not in UNFINISHED)
                and status is not None
                and status.state is State.PARTIAL
            ):
                again.append(entry)
        if again:
            self.download(again)

    def cancel(self, entries: Iterable[Checkpoint]) -> None:
        for key in self._keys(entries, lambda i: i is not None and i.state in CANCELLABLE):
            self.queue.cancel(key)

    def retry(self, entries: Iterable[Checkpoint]) -> None:
        for key in self._keys(entries, lambda i: i is not None and i.state is ItemState.FAILED):
            self.queue.resume(key)

    def _keys(self, entries: Iterable[Checkpoint], wanted) -> list[str]:
        if not self.ready:
            return []
        keys = dict.fromkeys(self.key_of(e) for e in entries)
        return [key for key in keys if wanted(self._by_key.get(key))]

    def verify(self, entries: Iterable[Checkpoint]) -> int:
        """Re-hash the local files of these checkpoints in the background; returns how many started."""
        started = 0
        if not self.may_touch_files:
            return 0
        for entry in self.one_per_file(entries):
            key = self.key_of(entry)
            # Not while a new copy is on its way: it would replace the file being hashed.
            if key in self.verifying or not self.entry_state(entry).verifiable:
                continue
            self.verifying[key] = 0.0
            self.bridge.submit(
                "verify",
                key,
                lambda task, e=entry: self.library.verify(
                    e, progress=task.progress, cancelled=task.cancelled
                ),
            )
            self._mark_file(key)
            started += 1
        return started

    def check_links(self, entries: Iterable[Checkpoint]) -> int:
        """HEAD each distinct URL and mirror; the results go to the size and status columns and the
        status bar."""
        urls = list(dict.fromkeys(s.url for e in entries for s in sources(e, self.catalog)))
        self._link_batch = {url: None for url in urls}
        for url in urls:
            self._probe(url)
        if urls:
            self.message.emit(f"Checking {len(urls)} link(s)…")
        return len(urls)

    def _probe(self, url: str, *, kind: str = "probe") -> None:
        """HEAD one URL in the background: "probe" for Check Links, "size-probe" when only the size is
        wanted (then a server that cannot be reached is no news about the link)."""
        target = rewrite(url, self.settings.rewrite_rules)
        tokens = self.tokens

        def work(task: Task):
            from ofa_manager.core.http import check_link

            return check_link(target, tokens=tokens, timeout=PROBE_TIMEOUT_S)

        self.bridge.submit(kind, url, work, lane="network")

    def _probe_unknown_sizes(self) -> None:
        """Ask the servers for sizes the catalog does not give, once per start."""
        self._probed_once = True
        urls = [e.url for e in self.catalog if self.size_of(e) is None and e.url not in self.links]
        for url in dict.fromkeys(urls):
            self._probe(url, kind="size-probe")

    def trash(self, entries: Iterable[Checkpoint]) -> None:
        """Move the local files of these checkpoints to the desktop trash, in the background."""
        if not self.may_touch_files:
            return
        for entry in self.one_per_file(entries):
            status = self.status_of(entry)
            if status is None or status.state not in (State.DOWNLOADED, State.CORRUPT):
                continue
            self.bridge.submit("trash", self.key_of(entry), lambda task, e=entry: self._move_to_trash(e))

    def _move_to_trash(self, entry: Checkpoint) -> tuple[bool, str, int, list[str]]:
        from ofa_manager.core.trash import NoTrashError, move_to_trash

        ids = [e.id for e in self.entries_of(self.key_of(entry))]
        try:
            trashed = move_to_trash(self.library, entry, self.trash_file, lock_wait=LOCK_WAIT_S)
        except NoTrashError as exc:
            return False, str(exc), 0, ids
        return True, trashed.where, trashed.size, ids

    @staticmethod
    def trash_file(path: Path) -> str | None:
        """Move one file to the desktop trash; its place in the trash, or None when there is no trash."""
        from PySide6.QtCore import QFile

        trashed = QFile(str(path))
        return trashed.fileName() if trashed.moveToTrash() else None

    def delete_permanently(self, entries: Iterable[Checkpoint]) -> None:
        if not self.may_touch_files:
            return
        for entry in self.one_per_file(entries):
            self.bridge.submit("delete", self.key_of(entry), lambda task, e=entry: self._delete(e, False))

    def delete_partial(self, entries: Iterable[Checkpoint]) -> None:
        """Drop partial data; a download of the same file is cancelled first (the lock waits for it)."""
        if not self.may_touch_files:
            return
        for entry in self.one_per_file(entries):
            key = self.key_of(entry)
            item = self._by_key.get(key)
            if item is not None and item.state in CANCELLABLE and self.queue is not None:
                self.queue.cancel(key)
            self.bridge.submit("delete-partial", key, lambda task, e=entry: self._delete(e, True))

    def rejected_entries(self, entries: Iterable[Checkpoint]) -> list[Checkpoint]:
        """One entry per file whose last download failed its check and was kept (NAME.rejected)."""
        return [
            e
            for e in self.one_per_file(entries)
            if (s := self.status_of(e)) is not None and s.rejected is not None
        ]

    def accept_rejected(self, entries: Iterable[Checkpoint]) -> None:
        """Keep anyway: the rejected copy becomes the file, marked as differing from the catalog."""
        if not self.may_touch_files:
            return
        for entry in self.rejected_entries(entries):
            key = self.key_of(entry)
            self.bridge.submit("accept", key, lambda task, e=entry: self.library.accept_rejected(e))

    def delete_rejected(self, entries: Iterable[Checkpoint]) -> None:
        if not self.may_touch_files:
            return
        for entry in self.rejected_entries(entries):
            key = self.key_of(entry)
            self.bridge.submit("delete-rejected", key, lambda task, e=entry: self.library.delete_rejected(e))

    def _delete(self, entry: Checkpoint, partial_only: bool) -> tuple[int, list[str]]:
        ids = [e.id for e in self.entries_of(self.key_of(entry))]
        return self.library.delete(entry, partial_only=partial_only), ids

    def one_per_file(self, entries: Iterable[Checkpoint]) -> list[Checkpoint]:
        """One entry per file."""
        return self.library.one_per_file(entries)

    # -- settings and the models folder -----------------------------------------------------------

    def apply_settings(self, new: Settings, tokens: dict[str, str | None] | None = None) -> None:
        """Save the settings and give the running downloads the new limits, rules and tokens.

        ``tokens`` are the hosts whose token was stored (or removed, None) in the keyring just now.
        """
        from ofa_manager.gui.queue_process import engine_settings

        new = new.validated()
        for name in ("window_geometry", "window_state", "splitter_state"):
            setattr(new, name, getattr(self.settings, name))
        stores_changed = new.stores != self.settings.stores
        self.settings = new
        if stores_changed:
            # A new library, so that a scan of the old list still running is not taken for this one.
            self.library = Library(self.library.root, self.catalog, stores=new.store_paths())
            self.request_scan()
        try:
            settings_file.save(new)
        except OSError as exc:
            self.message.emit(f"Cannot save the settings ({exc}); they apply until ofa-manager closes")
        if self.queue is not None:
            self.queue.configure(engine_settings(new))
        self.give_tokens(tokens)
        self.statuses_changed.emit()

    def give_tokens(self, tokens: dict[str, str | None] | None) -> None:
        """Hand tokens just stored in (or removed from, None) the keyring to the running downloads."""
        if tokens and self.queue is not None:
            self.queue.give_tokens(tokens)
            self.tokens.give(tokens)

    def save_window(self, geometry: str, state: str, splitter: str) -> None:
        self.settings.window_geometry = geometry
        self.settings.window_state = state
        self.settings.splitter_state = splitter
        try:
            settings_file.save(self.settings)
        except OSError as exc:
            self.message.emit(f"Cannot save the settings: {exc}")

    def change_folder(self, root: Path | str, *, move_files: bool) -> None:
        """Switch to another models folder, optionally moving the known files there first (in the background).

        The unfinished downloads follow to the new folder, paused ones stay paused.
        """
        root = Path(root).expanduser().resolve()
        if root == self.library.root or self.moving:
            return
        carried = [
            (item.entry_ids, item.state is ItemState.PAUSED)
            for item in self._items
            if item.state in UNFINISHED
        ]
        old_queue, old_library = self.queue, self.library
        self.moving = True
        self.moving_to = root if move_files else None
        self.items_about_to_reset.emit()
        self._items, self._by_key = [], {}
        self.items_reset.emit()
        where = display_path(root)
        self.message.emit(f"Moving the checkpoints to {where}…" if move_files else f"Switching to {where}…")

        def work(task: Task):
            if old_queue is not None:
                old_queue.shutdown(timeout=LOCK_WAIT_S)
            from ofa_manager.core.relocate import Relocation, relocate

            if move_files:
                relocation = relocate(old_library, root, progress=task.progress, stopped=task.cancelled)
            else:
                relocation = Relocation(root)
            try:
                queue_state_file(old_library.root).unlink()
            except FileNotFoundError:
                pass
            return relocation, carried

        self.bridge.submit("move", str(root), work)

    def _finish_move(self, result) -> None:
        relocation, carried = result
        root, moved, skipped = relocation.root, relocation.moved, relocation.skipped
        self.library = Library(root, self.catalog, stores=self.settings.store_paths())
        if not os.environ.get("OFA_MANAGER_DIR"):
            self.settings.models_dir = str(root)
            try:
                settings_file.save(self.settings)
            except OSError as exc:
                self.message.emit(
                    f"Cannot save the settings ({exc}); the new folder applies until ofa-manager closes"
                )
        self._map_files()
        self.statuses = None
        self._set_usage(None, [])
        if self.tokens is not None:
            self.queue = self._make_queue()
            self.queue.start(resume=self.settings.resume_on_start)
            for ids, paused in carried:
                entries = [self.catalog.get(i) for i in ids if i in self.catalog]
                if entries:
                    self.queue.add(entries, paused=paused)
        self.moving = False
        self.moving_to = None
        self.folder_changed.emit()
        self.statuses_changed.emit()
        self.request_scan()
        text = f"Models folder is now {display_path(root)}"
        if moved:
            text += f"; moved {len(moved)} file(s)"
        if skipped:
            names = ", ".join(s.path.name for s in skipped)
            text += (
                f"; left {len(skipped)} file(s) in the old folder, their names being taken here or a link or "
                f"folder being at one of their names: {names}"
            )
        self.message.emit(text)

    def _map_files(self) -> None:
        self._file_entries = {str(path): entries for path, entries in self.library.files().items()}

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

        def work(task: Task):
            return library, library.statuses(), library.disk_usage()

        self.bridge.submit("scan", str(library.root), work)

    # -- events from the bridge -------------------------------------------------------------------

    def _on_queue_event(self, event) -> None:
        if self._closed:
            return
        item = event.item
        if event.kind == QueueEventKind.ADDED:
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
            self._mark_file(item.key)
        elif event.kind == QueueEventKind.CHANGED:
            if event.key in self._by_key:
                self._replace(event.key, item)
        elif event.kind == QueueEventKind.REMOVED:
            row = self.row_of(event.key)
            if row is None:
                return
            self.items_about_to_remove.emit(row)
            del self._items[row]
            del self._by_key[event.key]
            self.items_removed.emit()
            self._mark_file(event.key)
            self.request_scan()
        elif event.kind == QueueEventKind.MOVED:
            row = self.row_of(event.key)
            target = max(0, min(event.index, len(self._items) - 1))
            if row is None or row == target:
                return
            self.items_about_to_move.emit(row, target)
            self._items.insert(target, self._items.pop(row))
            self.items_moved.emit()

    def _replace(self, key: str, item) -> None:
        row = self.row_of(key)
        old = self._items[row]
        self._items[row] = item
        self._by_key[key] = item
        if old.state is not item.state:
            self._mark_file(key)
            self._transition(old, item)
        else:
            self._mark_file(key, whole=False)

    def _transition(self, old, item) -> None:
        state = item.state
        if state not in ACTIVE or old.state not in ACTIVE:
            # Files appeared, grew or went: the tree's states and the disk figures follow.
            self.request_scan()
        if state in (ItemState.DONE, ItemState.FAILED):
            self.item_finished.emit(item)
            titles = ", ".join(e.title for e in self.entries_of(item.key)[:1]) or item.title
            if state is ItemState.FAILED:
                self.message.emit(f"{titles}: download failed: {item.error}")
            else:
                self.message.emit(f"{titles}: downloaded to {display_path(item.key)}")
        # State changes show at once; plain progress waits for the timer.
        self._flush()

    def _mark_file(self, key: str, *, whole: bool = True) -> None:
        (self._dirty_keys if whole else self._moved_keys).add(key)
        if not self._flush_timer.isActive() and not self._closed:
            self._flush_timer.start()

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

    def _on_task_progress(self, kind: str, key: str, fraction: float) -> None:
        if kind == "move" and self.moving:
            # A move across volumes copies every byte: the status bar follows it.
            self.message.emit(f"Moving the checkpoints to {display_path(Path(key))}… {int(100 * fraction)} %")
        elif kind == "verify" and key in self.verifying:
            self.verifying[key] = fraction
            self._mark_file(key, whole=False)

    def _set_usage(self, usage, rows: list[tuple[str, int, list[str], bool]]) -> None:
        """New disk usage figures; new rows are announced before (for the model's reset) and after."""
        if rows != self.usage_rows:
            self.usage_rows_about_to_change.emit()
            self.usage_rows = rows
            self.usage_rows_changed.emit()
        if usage != self.usage:
            self.usage = usage
            self.usage_changed.emit()

    def _on_task_done(self, kind: str, key: str, result) -> None:
        if self._closed:
            return
        if kind == "scan":
            self._scan_running = False
            library, statuses, usage = result
            if library is self.library:
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
                if not self._probed_once and self.queue is not None:
                    self._probe_unknown_sizes()
            if self._scan_again:
                self.request_scan()
        elif kind == "size-probe" and result.status is None:
            # No answer at all (offline, a proxy, DNS): the sizes stay unknown; the links are not blamed.
            self._size_probe_unanswered(key, result.error)
        elif kind in ("probe", "size-probe"):
            self.links[key] = result
            self.entries_changed.emit([e.id for e in self.catalog if key in (e.url, *e.mirrors)])
            if kind == "probe":
                self._link_checked(key, result)
        elif kind == "verify":
            self.verifying.pop(key, None)
            names = ", ".join(e.title for e in self.entries_of(key))
            if result.state is State.CORRUPT:
                self.message.emit(
                    f"{names}: CORRUPT — the file does not match its hash; delete it and download it again"
                )
            elif result.state is State.FOREIGN:
                self.message.emit(
                    self.tr("{names}: not ours — {reason}").format(names=names, reason=result.reason)
                )
            else:
                self.message.emit(f"{names}: verified, sha256 {result.sha256}")
            self._mark_file(key)
            self.request_scan()
        elif kind == "trash":
            ok, where, freed, ids = result
            if ok:
                self.message.emit(
                    f"Moved {Path(key).name} to the trash: {display_path(where)} "
                    f"({units.size(freed)} freed; restore it from the trash to get it back)"
                )
                self._forget_finished_row(key)
            else:
                self.trash_failed.emit(ids, where)
            self.request_scan()
        elif kind in ("delete", "delete-partial"):
            freed, _ids = result
            if kind == "delete":
                self._forget_finished_row(key)
            what = "partial file of " if kind == "delete-partial" else ""
            self.message.emit(f"Deleted the {what}{Path(key).name} permanently ({units.size(freed)} freed)")
            self.request_scan()
        elif kind == "move":
            self._finish_move(result)
        elif kind == "accept":
            item = self._by_key.get(key)
            if item is not None and item.state is ItemState.FAILED and self.queue is not None:
                self.queue.cancel(key)  # the failed row would hide the file that is there now
            self.message.emit(
                self.tr("Kept {name} anyway: it differs from the catalog and is not verified").format(
                    name=Path(key).name
                )
            )
            self.request_scan()
        elif kind == "delete-rejected":
            self.message.emit(
                self.tr("Deleted the rejected copy of {name} ({freed} freed)").format(
                    name=Path(key).name, freed=units.size(result)
                )
            )
            self.request_scan()

    def _forget_finished_row(self, key: str) -> None:
        """A deleted file's "Downloaded" row in the downloads panel would now be wrong: it goes."""
        item = self._by_key.get(key)
        if item is not None and item.state is ItemState.DONE and self.queue is not None:
            self.queue.cancel(key)

    def _on_task_failed(self, kind: str, key: str, reason: str) -> None:
        if self._closed:
            return
        if kind == "scan":
            self._scan_running = False
            self.message.emit(f"Cannot read the models folder: {reason}")
            if self._scan_again:
                self.request_scan()
            return
        if kind == "verify":
            self.verifying.pop(key, None)
            self._mark_file(key)
        if kind == "move":
            # The folder setting is unchanged: the downloads come back in the old folder, from its saved
            # queue. The reason names any files already moved (choosing the folder again moves the rest).
            self.moving = False
            self.moving_to = None
            if self.claim_folder is not None:
                self.claim_folder(self.library.root)  # this window answers for the old folder again
            if self.tokens is not None:
                self.queue = self._make_queue()
                self.queue.start(resume=self.settings.resume_on_start)
            self.statuses_changed.emit()  # the actions held back during the move are offered again
        if kind == "probe":
            from ofa_manager.core.http import LinkCheck

            # A probe that raised still counts as answered, so the batch's summary is reported.
            self._link_checked(key, LinkCheck(url=key, status=None, error=reason))
        if kind == "size-probe":
            self._size_probe_unanswered(key, reason)
            return
        label = {
            "verify": "Verify",
            "trash": "Moving to the trash",
            "delete": "Delete",
            "delete-partial": "Deleting the partial file",
            "move": "Changing the models folder",
            "probe": "Checking the link",
            "inspect": "Reading what the file holds",
            "inspect-rejected": self.tr("Reading the rejected copy"),
            "accept": self.tr("Keep Anyway"),
            "delete-rejected": self.tr("Deleting the rejected copy"),
        }.get(kind, kind)
        self.message.emit(f"{label} failed for {Path(key).name}: {reason}")
        if kind in ("trash", "delete", "delete-partial", "move", "accept", "delete-rejected"):
            self.request_scan()

    def _size_probe_unanswered(self, url: str, reason: str | None) -> None:
        """Say once per server that the sizes could not be asked for."""
        host = normalise_host(rewrite(url, self.settings.rewrite_rules))
        if host in self._unreachable_hosts:
            return
        self._unreachable_hosts.add(host)
        self.message.emit(f"No answer from {host} ({reason}); sizes stay unknown — Check Links asks again")

    def _link_checked(self, url: str, result) -> None:
        batch = self._link_batch
        if batch is None or url not in batch:
            return
        batch[url] = result
        if any(value is None for value in batch.values()):
            return
        self._link_batch = None
        bad = [(u, r) for u, r in batch.items() if not r.ok]
        if not bad:
            self.message.emit(f"All {len(batch)} link(s) answer")
        else:
            links = {e.url for e in self.catalog}
            details = "; ".join(
                f"{Path(u).name}{'' if u in links else f' (mirror at {normalise_host(u)})'}: {r.error}"
                for u, r in bad
            )
            self.message.emit(f"{len(bad)} of {len(batch)} link(s) failed — {details}")
