"""Switching the window to another models folder, optionally moving the files there first.

The download process of the old folder is stopped, the files move on a disk worker (core/relocate.py
does the moving), and a new process starts in the new folder with the unfinished downloads carried over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ofa_manager.core import settings as settings_file
from ofa_manager.core.library import Library
from ofa_manager.core.states import UNFINISHED, ItemState
from ofa_manager.gui.bridge import Bridge, Task
from ofa_manager.gui.download_process import DownloadProcess, queue_state_file
from ofa_manager.gui.status import display_path
from ofa_manager.gui.store import Store
from ofa_manager.gui.tasks import MoveResult

# How long a folder change waits for the old download process to stop and let go of the files.
STOP_WAIT_S = 10.0


class FolderChange:
    """The folder-change flow; one runs at a time (``store.moving``)."""

    def __init__(
        self,
        store: Store,
        process: DownloadProcess,
        bridge: Bridge,
        *,
        claim_folder: Callable[[Path], bool] | None = None,
    ) -> None:
        self._store = store
        self._process = process
        self._bridge = bridge
        # Takes the single-instance lock of another folder (False: a window has it); None: no lock.
        self._claim_folder = claim_folder

    def claim(self, root: Path) -> bool:
        return self._claim_folder is None or self._claim_folder(root)

    def change(self, root: Path | str, *, move_files: bool) -> None:
        """Switch to another models folder, optionally moving the known files there first (in the background).

        The unfinished downloads follow to the new folder, paused ones stay paused.
        """
        store = self._store
        root = Path(root).expanduser().resolve()
        if root == store.library.root or store.moving:
            return
        carried = [
            (item.entry_ids, item.state is ItemState.PAUSED)
            for item in store.items()
            if item.state in UNFINISHED
        ]
        old_queue, old_library = self._process.stop_running(), store.library
        store.moving = True
        store.moving_to = root if move_files else None
        store.clear_items()
        where = display_path(root)
        store.message.emit(f"Moving the checkpoints to {where}…" if move_files else f"Switching to {where}…")

        def work(task: Task) -> MoveResult:
            if old_queue is not None:
                old_queue.shutdown(timeout=STOP_WAIT_S)
            from ofa_manager.core.relocate import Relocation, relocate

            if move_files:
                relocation = relocate(old_library, root, progress=task.progress, stopped=task.cancelled)
            else:
                relocation = Relocation(root)
            try:
                queue_state_file(old_library.root).unlink()
            except FileNotFoundError:
                pass
            return MoveResult(relocation, carried)

        self._bridge.submit(
            work,
            self._finish,
            lambda reason: self._failed(root, reason),
            on_progress=lambda f: self._progress(root, f),
        )

    def _progress(self, root: Path, fraction: float) -> None:
        if self._store.moving:
            # A move across volumes copies every byte: the status bar follows it.
            self._store.message.emit(
                f"Moving the checkpoints to {display_path(root)}… {int(100 * fraction)} %"
            )

    def _finish(self, result: MoveResult) -> None:
        store, process = self._store, self._process
        relocation, carried = result.relocation, result.carried
        root, moved, skipped = relocation.root, relocation.moved, relocation.skipped
        store.set_library(Library(root, store.catalog, stores=store.settings.store_paths()))
        if not os.environ.get("OFA_MANAGER_DIR"):
            store.settings.models_dir = str(root)
            try:
                settings_file.save(store.settings)
            except OSError as exc:
                store.message.emit(
                    f"Cannot save the settings ({exc}); the new folder applies until ofa-manager closes"
                )
        store.forget_disk()
        if process.started:
            process.run()
            queue = process.queue
            for ids, paused in carried:
                entries = [store.catalog.get(i) for i in ids if i in store.catalog]
                if entries and queue is not None:
                    queue.add(entries, paused=paused)
        store.moving = False
        store.moving_to = None
        store.folder_changed.emit()
        store.statuses_changed.emit()
        store.request_scan()
        text = f"Models folder is now {display_path(root)}"
        if moved:
            text += f"; moved {len(moved)} file(s)"
        if skipped:
            names = ", ".join(s.path.name for s in skipped)
            text += (
                f"; left {len(skipped)} file(s) in the old folder, their names being taken here or a link or "
                f"folder being at one of their names: {names}"
            )
        store.message.emit(text)

    def _failed(self, root: Path, reason: str) -> None:
        # The folder setting is unchanged: the downloads come back in the old folder, from its saved
        # queue. The reason names any files already moved (choosing the folder again moves the rest).
        store = self._store
        store.moving = False
        store.moving_to = None
        if self._claim_folder is not None:
            self._claim_folder(store.library.root)  # this window answers for the old folder again
        if self._process.started:
            self._process.run()
        store.statuses_changed.emit()  # the actions held back during the move are offered again
        store.message.emit(f"Changing the models folder failed for {root.name}: {reason}")
        store.request_scan()
