"""One models folder as the window sees it: the parts of the window layer, built and wired once.

    child process ──events──▶ Bridge ──▶ Store ──signals──▶ item models ──▶ views
    views / actions ──▶ Commands ──▶ DownloadProcess (queue handle) ──▶ child process
                          └──▶ Bridge.submit(work, on_done, on_failed) ──▶ disk / network workers

- gui/store.py: what the views read (queue rows, file states, sizes, disk usage); no actions
- gui/download_process.py: the download process's owner (start, restart, close)
- gui/commands.py: the only way in for actions; gui/folder_change.py: the folder-change flow
- gui/bridge.py and gui/tasks.py: background work and its typed results
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ofa_manager.core.catalog import Catalog
from ofa_manager.core.settings import Settings
from ofa_manager.gui.bridge import Bridge
from ofa_manager.gui.commands import Commands
from ofa_manager.gui.download_process import DownloadProcess
from ofa_manager.gui.store import Store

if TYPE_CHECKING:
    from ofa_manager.gui.queue_process import RestartBudget


class Workspace(QObject):
    """Builds the store, the download process's owner, the commands and the contents watcher over
    one bridge, starts the downloads after the first paint and closes everything on exit.

    ``queue_in_window`` is a test mode (see DownloadProcess); ``process_options`` and
    ``restart_budget`` go to the download process's owner; ``claim_folder`` takes the single-instance
    lock of another folder before a folder change (False: a window has it).
    """

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        root: Path | str,
        parent: QObject | None = None,
        *,
        claim_folder: Callable[[Path], bool] | None = None,
        queue_in_window: bool = False,
        process_options: dict | None = None,
        restart_budget: RestartBudget | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.bridge = Bridge(self)
        self.store = Store(catalog, settings, root, self.bridge, self)
        self.process = DownloadProcess(
            self.store,
            self.bridge,
            self,
            queue_in_window=queue_in_window,
            options=process_options,
            restart_budget=restart_budget,
        )
        self.commands = Commands(self.store, self.process, self.bridge, self, claim_folder=claim_folder)
        from ofa_manager.gui.contents import ContentsWatcher

        # What each present file holds (read on the disk workers): the tree's mismatch marks, the details.
        self.contents = ContentsWatcher(self.store, self.bridge)
        self._closed = False

    def start(self) -> None:
        """Create the download queue and bring back unfinished downloads; call after the first paint."""
        if self._closed or not self.process.start():
            return
        self.store.request_scan()
        self.store.started.emit()

    def close(self, timeout: float = 2.0) -> bool:
        """Stop the downloads (partial data and the queue are kept for next time) and every worker.

        Returns True when every thread ended within ``timeout``; closing never waits longer.
        """
        if self._closed:
            return True
        self._closed = True
        self.store.close()
        deadline = time.monotonic() + timeout
        stopped = self.process.close(timeout)
        return self.bridge.shutdown(max(0.1, deadline - time.monotonic())) and stopped
