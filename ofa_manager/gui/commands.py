"""The one way in for actions: every button, menu entry and dialog of the window acts through here.

Commands change the downloads through the download process's owner (gui/download_process.py), start
background work on the bridge with typed completion callbacks (gui/tasks.py), and report through the
store (gui/store.py), which the views read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ofa_manager.core import settings as settings_file
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.library import Library
from ofa_manager.core.mirrors import rewrite, sources
from ofa_manager.core.settings import Settings
from ofa_manager.core.states import CANCELLABLE, GOING, UNFINISHED, ItemState
from ofa_manager.gui.batches import FileBatch, Outcome, VerifyBatch
from ofa_manager.gui.bridge import Bridge, Task
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.download_process import DownloadProcess, QueueHandle
from ofa_manager.gui.folder_change import FolderChange
from ofa_manager.gui.i18n import size_text
from ofa_manager.gui.status import display_path
from ofa_manager.gui.store import Store
from ofa_manager.gui.tasks import DeleteResult, TrashResult

if TYPE_CHECKING:
    from ofa_manager.core.http import LinkCheck
    from ofa_manager.core.queue import QueueItem

# HEAD probes give up after this long, so a dead host never keeps a worker for the stall timeout.
PROBE_TIMEOUT_S = 10.0


def trash_file(path: Path) -> str | None:
    """Move one file to the desktop trash; its place in the trash, or None when there is no trash."""
    from PySide6.QtCore import QFile

    trashed = QFile(str(path))
    return trashed.fileName() if trashed.moveToTrash() else None


class Commands(QObject):
    """Queue, pause, verify, delete, check links, apply settings, change the models folder.

    Signals:
        trash_failed(list, str): moving these checkpoint ids' file to the trash failed, and why
    """

    trash_failed = Signal(list, str)

    def __init__(
        self,
        store: Store,
        process: DownloadProcess,
        bridge: Bridge,
        parent: QObject | None = None,
        *,
        claim_folder: Callable[[Path], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._process = process
        self._bridge = bridge
        self._probed_once = False
        self._unreachable_hosts: set[str] = set()  # servers the size probes could not reach
        self._link_batch: dict[str, LinkCheck | None] | None = None
        self.verify_batch: VerifyBatch | None = None  # the files of the last Verify, for one summary
        # The files of the last Move to Trash and Delete over several files, for one line each.
        self.file_batches: dict[str, FileBatch] = {}
        self._folder = FolderChange(store, process, bridge, claim_folder=claim_folder)
        store.scanned.connect(self._probe_unknown_sizes)

    @property
    def _queue(self) -> QueueHandle | None:
        return self._process.queue

    @property
    def ready(self) -> bool:
        """Downloads may be queued, paused or cancelled."""
        return self._process.queue is not None and not self.store.moving

    @property
    def may_touch_files(self) -> bool:
        """Local files may be verified or deleted: the downloads are known and no folder move runs."""
        return self._process.started and not self.store.moving

    # -- downloads --------------------------------------------------------------------------------

    def download(self, entries: Iterable[Checkpoint]) -> list[str]:
        """Queue these checkpoints' files (resuming paused and failed ones); returns the file keys."""
        if not self.ready or self._queue is None:
            return []
        return self._queue.download(list(entries))

    def pause(self, entries: Iterable[Checkpoint]) -> None:
        for key in self._keys(entries, lambda i: i is not None and i.state in GOING):
            self.pause_key(key)

    def resume(self, entries: Iterable[Checkpoint]) -> None:
        """Resume paused or failed downloads; partial files that are not queued are queued again."""
        again = []
        for entry in entries:
            item = self.store.item_for(entry)
            status = self.store.status_of(entry)
            if item is not None and item.state in (ItemState.PAUSED, ItemState.FAILED):
                self.resume_key(item.key)
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
            self.cancel_key(key)

    def retry(self, entries: Iterable[Checkpoint]) -> None:
        """Try failed downloads again, and say so: a retry that fails as fast as the first try still shows
        that it tried (the store counts the tries and says which one failed, and when)."""
        store = self.store
        keys = self._keys(entries, lambda i: i is not None and i.state is ItemState.FAILED)
        for key in keys:
            store.retries[key] = store.retries.get(key, 1) + 1
            self.resume_key(key)
        if keys:
            names = ", ".join(store.title_of(key) for key in keys)
            store.message.emit(self.tr("Trying {names} again…").format(names=names))

    def _keys(self, entries: Iterable[Checkpoint], wanted: Callable[[QueueItem | None], bool]) -> list[str]:
        if not self.ready:
            return []
        keys = dict.fromkeys(self.store.key_of(e) for e in entries)
        return [key for key in keys if wanted(self.store.item_by_key(key))]

    # One queued file by its key (the downloads panel's rows), and the whole queue.

    def pause_key(self, key: str) -> None:
        if self._queue is not None:
            self._queue.pause(key)

    def resume_key(self, key: str) -> None:
        if self._queue is not None:
            self._queue.resume(key)

    def cancel_key(self, key: str) -> None:
        if self._queue is not None:
            self._queue.cancel(key)

    def move_key(self, key: str, delta: int) -> None:
        if self._queue is not None:
            self._queue.move(key, delta)

    def pause_all(self) -> None:
        if self._queue is not None:
            self._queue.pause_all()

    def resume_all(self) -> None:
        if self._queue is not None:
            self._queue.resume_all()

    def cancel_all(self) -> None:
        if self._queue is not None:
            self._queue.cancel_all()

    def clear_finished(self) -> None:
        if self._queue is not None:
            self._queue.clear_finished()

    def refresh(self) -> None:
        """Read the models folder again."""
        self.store.request_scan()

    # -- verifying --------------------------------------------------------------------------------

    def verify(self, entries: Iterable[Checkpoint]) -> int:
        """Re-hash the local files of these checkpoints in the background; returns how many started."""
        store = self.store
        started = 0
        if not self.may_touch_files:
            return 0
        library = store.library
        batch = self.verify_batch
        if batch is None or batch.done:
            batch = self.verify_batch = VerifyBatch()
        for entry in store.one_per_file(entries):
            key = store.key_of(entry)
            # Not while a new copy is on its way: it would replace the file being hashed.
            if key in store.verifying or not store.entry_state(entry).verifiable:
                continue
            store.verifying_started(key)
            batch.add(key)
            self._bridge.submit(
                partial(_verify, library, entry),
                partial(self._verified, key),
                partial(self._verify_failed, key),
                on_progress=partial(store.verifying_progressed, key),
            )
            started += 1
        return started

    def _verified(self, key: str, result: FileStatus) -> None:
        store = self.store
        store.verifying_ended(key)
        names = ", ".join(catalog_text(e.title) for e in store.entries_of(key))
        outcome = {State.CORRUPT: Outcome.DIFFERS, State.FOREIGN: Outcome.NOT_OURS}
        if self._verified_in_batch(key, outcome.get(result.state, Outcome.VERIFIED)):
            pass  # one line for the whole batch, once its last file is in
        elif result.state is State.CORRUPT:
            store.message.emit(
                self.tr(
                    "{names}: CORRUPT — the file does not match its hash; delete it and download it again"
                ).format(names=names)
            )
        elif result.state is State.FOREIGN:
            store.message.emit(
                self.tr("{names}: not ours — {reason}").format(names=names, reason=result.reason)
            )
        else:
            store.message.emit(
                self.tr("{names}: verified, sha256 {sha}").format(names=names, sha=result.sha256)
            )
        store.verified.emit(key)
        store.request_scan()

    def _verify_failed(self, key: str, reason: str) -> None:
        self.store.verifying_ended(key)
        if not self._verified_in_batch(key, Outcome.FAILED):
            self._failed(self.tr("Verify"), key, reason, rescan=False)

    def _verified_in_batch(self, key: str, outcome: Outcome) -> bool:
        """Note one file of a Verify over several; True when the batch speaks for it (its summary line is
        sent once the last file is in, so the results do not overwrite each other in the status bar)."""
        batch = self.verify_batch
        if batch is None or not batch.record(key, outcome):
            return False
        if len(batch.outcomes) + len(batch.pending) < 2:
            return False  # a single file: its own detailed line
        if batch.done:
            self.store.message.emit(batch.summary())
        return True

    def _failed(self, label: str, key: str, reason: str, *, rescan: bool = True) -> None:
        self.store.message.emit(
            self.tr("{action} failed for {name}: {reason}").format(
                action=label, name=Path(key).name, reason=reason
            )
        )
        if rescan:
            self.store.request_scan()

    # -- links ------------------------------------------------------------------------------------

    def check_links(self, entries: Iterable[Checkpoint]) -> int:
        """HEAD each distinct URL and mirror; the results go to the size and status columns and the
        status bar."""
        urls = list(dict.fromkeys(s.url for e in entries for s in sources(e, self.store.catalog)))
        self._link_batch = {url: None for url in urls}
        for url in urls:
            self._probe(url, self._link_answered, self._link_failed)
        if urls:
            self.store.message.emit(self.tr("Checking %n link(s)…", "", len(urls)))
        return len(urls)

    def _probe(
        self, url: str, on_done: Callable[[str, LinkCheck], None], on_failed: Callable[[str, str], None]
    ) -> None:
        """HEAD one URL in the background."""
        target = rewrite(url, self.store.settings.rewrite_rules)
        tokens = self._process.tokens

        def work(task: Task) -> LinkCheck:
            from ofa_manager.core.http import check_link

            return check_link(target, tokens=tokens, timeout=PROBE_TIMEOUT_S)

        self._bridge.submit(
            work, lambda r: on_done(url, r), lambda reason: on_failed(url, reason), lane="network"
        )

    def _link_answered(self, url: str, result: LinkCheck) -> None:
        self.store.set_link(url, result)
        self._link_checked(url, result)

    def _link_failed(self, url: str, reason: str) -> None:
        from ofa_manager.core.http import LinkCheck

        # A probe that raised still counts as answered, so the batch's summary is reported.
        self._link_checked(url, LinkCheck(url=url, status=None, error=reason))
        self._failed(self.tr("Checking the link"), url, reason, rescan=False)

    def _probe_unknown_sizes(self) -> None:
        """Ask the servers for sizes the catalog does not give, once per start (after the first scan)."""
        store = self.store
        if self._probed_once or self._process.queue is None:
            return
        self._probed_once = True
        urls = [e.url for e in store.catalog if store.size_of(e) is None and e.url not in store.links]
        for url in dict.fromkeys(urls):
            self._probe(url, self._size_answered, self._size_probe_unanswered)

    def _size_answered(self, url: str, result: LinkCheck) -> None:
        if result.status is None:
            # No answer at all (offline, a proxy, DNS): the sizes stay unknown; the links are not blamed.
            self._size_probe_unanswered(url, result.error)
        else:
            self.store.set_link(url, result)

    def _size_probe_unanswered(self, url: str, reason: str | None) -> None:
        """Say once per server that the sizes could not be asked for."""
        host = normalise_host(rewrite(url, self.store.settings.rewrite_rules))
        if host in self._unreachable_hosts:
            return
        self._unreachable_hosts.add(host)
        self.store.message.emit(
            self.tr("No answer from {host} ({reason}); sizes stay unknown — Check Links asks again").format(
                host=host, reason=reason
            )
        )

    def _link_checked(self, url: str, result: LinkCheck) -> None:
        batch = self._link_batch
        if batch is None or url not in batch:
            return
        batch[url] = result
        answers = {u: r for u, r in batch.items() if r is not None}
        if len(answers) < len(batch):
            return
        self._link_batch = None
        bad = [(u, r) for u, r in answers.items() if not r.ok]
        if not bad:
            self.store.message.emit(self.tr("All %n link(s) answer", "", len(batch)))
        else:
            links = {e.url for e in self.store.catalog}
            details = "; ".join(
                self.tr("{name}: {reason}").format(
                    name=Path(u).name
                    if u in links
                    else self.tr("{name} (mirror at {host})").format(
                        name=Path(u).name, host=normalise_host(u)
                    ),
                    reason=r.error,
                )
                for u, r in bad
            )
            self.store.message.emit(
                self.tr("{failed} of %n link(s) failed — {details}", "", len(batch)).format(
                    failed=len(bad), details=details
                )
            )

    # -- deleting ---------------------------------------------------------------------------------

    def trash(self, entries: Iterable[Checkpoint]) -> None:
        """Move the local files of these checkpoints to the desktop trash, in the background."""
        if not self.may_touch_files:
            return
        store, library = self.store, self.store.library
        targets = [
            entry
            for entry in store.one_per_file(entries)
            if (status := store.status_of(entry)) is not None
            and status.state in (State.DOWNLOADED, State.CORRUPT)
        ]
        self._start_batch("trash", [store.key_of(entry) for entry in targets])
        for entry in targets:
            key = store.key_of(entry)
            ids = [e.id for e in store.entries_of(key)]
            self._bridge.submit(
                partial(_move_to_trash, library, entry, ids),
                partial(self._trashed, key),
                partial(self._batch_failed, "trash", self.tr("Moving to the trash"), key),
            )

    def _start_batch(self, kind: str, keys: list[str]) -> None:
        """Several files: their results are told in one line once the last is in (see _batch_line)."""
        if len(keys) > 1:
            self.file_batches[kind] = FileBatch(keys)
        else:
            self.file_batches.pop(kind, None)

    def _in_batch(self, kind: str, key: str, size: int | None) -> bool:
        """Note one file's result; True when a batch speaks for it (its line comes with the last file)."""
        batch = self.file_batches.get(kind)
        if batch is None or not batch.record(key, size):
            return False
        if batch.done:
            del self.file_batches[kind]
            self.store.message.emit(self._batch_line(kind, batch))
        return True

    def _batch_line(self, kind: str, batch: FileBatch) -> str:
        size = size_text(batch.bytes)
        if kind == "trash":
            line = self.tr(
                "Moved %n file(s) to the trash ({size}, still taken until the trash is emptied; "
                "restore them from the trash to get them back)",
                "",
                batch.files,
            ).format(size=size)
        elif kind == "partial":
            line = self.tr(
                "Deleted the partial data of %n file(s) permanently ({size} freed)", "", batch.files
            )
            line = line.format(size=size)
        else:
            line = self.tr("Deleted %n file(s) permanently ({size} freed)", "", batch.files).format(size=size)
        if batch.failed:
            line += " — " + self.tr("%n failed, the rows and messages say why", "", batch.failed)
        return line

    def _batch_failed(self, kind: str, label: str, key: str, reason: str) -> None:
        self._failed(label, key, reason)
        self._in_batch(kind, key, None)

    def _trashed(self, key: str, result: TrashResult) -> None:
        if result.trashed:
            if not self._in_batch("trash", key, result.freed):
                self.store.message.emit(
                    self.tr(
                        "Moved {name} to the trash: {where} ({size}, still taken until the trash is emptied; "
                        "restore it from the trash to get it back)"
                    ).format(
                        name=Path(key).name, where=display_path(result.where), size=size_text(result.freed)
                    )
                )
            self._forget_finished_row(key)
        else:
            self._in_batch("trash", key, None)
            self.trash_failed.emit(result.ids, result.reason)
        self.store.request_scan()

    def delete_permanently(self, entries: Iterable[Checkpoint]) -> None:
        if not self.may_touch_files:
            return
        targets = self.store.one_per_file(entries)
        self._start_batch("delete", [self.store.key_of(entry) for entry in targets])
        for entry in targets:
            self._delete(entry, partial_only=False)

    def delete_partial(self, entries: Iterable[Checkpoint]) -> None:
        """Drop partial data; a download of the same file is cancelled first (the lock waits for it)."""
        if not self.may_touch_files:
            return
        targets = self.store.one_per_file(entries)
        self._start_batch("partial", [self.store.key_of(entry) for entry in targets])
        for entry in targets:
            item = self.store.item_for(entry)
            if item is not None and item.state in CANCELLABLE:
                self.cancel_key(item.key)
            self._delete(entry, partial_only=True)

    def _delete(self, entry: Checkpoint, *, partial_only: bool) -> None:
        store, library = self.store, self.store.library
        key = store.key_of(entry)
        ids = [e.id for e in store.entries_of(key)]
        label = self.tr("Deleting the partial file") if partial_only else self.tr("Delete")
        self._bridge.submit(
            partial(_delete, library, entry, ids, partial_only),
            partial(self._deleted, key, partial_only),
            partial(self._batch_failed, "partial" if partial_only else "delete", label, key),
        )

    def _deleted(self, key: str, partial_only: bool, result: DeleteResult) -> None:
        if not partial_only:
            self._forget_finished_row(key)
        if not self._in_batch("partial" if partial_only else "delete", key, result.freed):
            if partial_only:
                text = self.tr("Deleted the partial file of {name} permanently ({freed} freed)")
            else:
                text = self.tr("Deleted the {name} permanently ({freed} freed)")
            self.store.message.emit(text.format(name=Path(key).name, freed=size_text(result.freed)))
        self.store.request_scan()

    def _forget_finished_row(self, key: str) -> None:
        """A deleted file's "Downloaded" row in the downloads panel would now be wrong: it goes."""
        item = self.store.item_by_key(key)
        if item is not None and item.state is ItemState.DONE:
            self.cancel_key(key)

    # -- the kept copy of a download that failed its check (NAME.rejected) -------------------------

    def accept_rejected(self, entries: Iterable[Checkpoint]) -> None:
        """Keep anyway: the rejected copy becomes the file, marked as differing from the catalog."""
        if not self.may_touch_files:
            return
        store, library = self.store, self.store.library
        for entry in store.rejected_entries(entries):
            key = store.key_of(entry)
            self._bridge.submit(
                partial(_accept_rejected, library, entry),
                partial(self._accepted, key),
                partial(self._failed, self.tr("Keep Anyway"), key),
            )

    def _accepted(self, key: str, result: object) -> None:
        item = self.store.item_by_key(key)
        if item is not None and item.state is ItemState.FAILED:
            self.cancel_key(key)  # the failed row would hide the file that is there now
        self.store.message.emit(
            self.tr("Kept {name} anyway: it differs from the catalog and is not verified").format(
                name=Path(key).name
            )
        )
        self.store.request_scan()

    def delete_rejected(self, entries: Iterable[Checkpoint]) -> None:
        if not self.may_touch_files:
            return
        store, library = self.store, self.store.library
        for entry in store.rejected_entries(entries):
            key = store.key_of(entry)
            self._bridge.submit(
                partial(_delete_rejected, library, entry),
                partial(self._rejected_deleted, key),
                partial(self._failed, self.tr("Deleting the rejected copy"), key),
            )

    def _rejected_deleted(self, key: str, freed: int) -> None:
        self.store.message.emit(
            self.tr("Deleted the rejected copy of {name} ({freed} freed)").format(
                name=Path(key).name, freed=size_text(freed)
            )
        )
        self.store.request_scan()

    # -- settings and the models folder -----------------------------------------------------------

    def apply_settings(self, new: Settings, tokens: dict[str, str | None] | None = None) -> None:
        """Save the settings and give the running downloads the new limits, rules and tokens.

        ``tokens`` are the hosts whose token was stored (or removed, None) in the keyring just now.
        """
        from ofa_manager.gui.queue_process import engine_settings

        store = self.store
        new = new.validated()
        for name in ("window_geometry", "window_state", "splitter_state"):
            setattr(new, name, getattr(store.settings, name))
        stores_changed = new.stores != store.settings.stores
        store.settings = new
        if stores_changed:
            # A new library, so that a scan of the old list still running is not taken for this one.
            store.set_library(Library(store.library.root, store.catalog, stores=new.store_paths()))
            store.request_scan()
        try:
            settings_file.save(new)
        except OSError as exc:
            store.message.emit(
                self.tr("Cannot save the settings ({reason}); they apply until ofa-manager closes").format(
                    reason=exc
                )
            )
        if self._queue is not None:
            self._queue.configure(engine_settings(new))
        self.give_tokens(tokens)
        store.statuses_changed.emit()

    def give_tokens(self, tokens: dict[str, str | None] | None) -> None:
        """Hand tokens just stored in (or removed from, None) the keyring to the running downloads."""
        if not tokens:
            return
        if self._queue is not None:
            self._queue.give_tokens(tokens)
        if self._process.tokens is not None:  # also during a folder move: for this window's probes
            self._process.tokens.give(tokens)

    def save_window(self, geometry: str, state: str, splitter: str) -> None:
        settings = self.store.settings
        settings.window_geometry = geometry
        settings.window_state = state
        settings.splitter_state = splitter
        try:
            settings_file.save(settings)
        except OSError as exc:
            self.store.message.emit(self.tr("Cannot save the settings: {reason}").format(reason=exc))

    def claim_folder(self, root: Path) -> bool:
        """Take the single-instance lock of another folder; False when a window already has it."""
        return self._folder.claim(root)

    def change_folder(self, root: Path | str, *, move_files: bool) -> None:
        """Switch to another models folder, optionally moving the known files there first (see
        gui/folder_change.py)."""
        self._folder.change(root, move_files=move_files)


# What runs on the disk workers: everything each needs is passed in when the task is made.


def _verify(library: Library, entry: Checkpoint, task: Task) -> FileStatus:
    return library.verify(entry, progress=task.progress, cancelled=task.cancelled)


def _delete(
    library: Library, entry: Checkpoint, ids: list[str], partial_only: bool, task: Task
) -> DeleteResult:
    return DeleteResult(ids, library.delete(entry, partial_only=partial_only))


def _accept_rejected(library: Library, entry: Checkpoint, task: Task) -> FileStatus:
    return library.accept_rejected(entry)


def _delete_rejected(library: Library, entry: Checkpoint, task: Task) -> int:
    return library.delete_rejected(entry)


def _move_to_trash(library: Library, entry: Checkpoint, ids: list[str], task: Task) -> TrashResult:
    from ofa_manager.core.trash import NoTrashError, move_to_trash

    try:
        trashed = move_to_trash(library, entry, trash_file)
    except NoTrashError as exc:
        return TrashResult(ids, False, reason=str(exc))
    return TrashResult(ids, True, where=trashed.where, freed=trashed.size)
