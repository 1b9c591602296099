"""The owner of the download process: starts it, restarts it when it ends by itself, closes it.

The queue handle it holds (``queue``) is the only way to the downloads; the window reaches it through
the commands (gui/commands.py), never directly. The process itself is gui/queue_process.py.
"""

from __future__ import annotations

import getpass
import hashlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt

from ofa_manager.core import settings as settings_file
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.gui.bridge import Bridge
from ofa_manager.gui.store import Store

if TYPE_CHECKING:
    from ofa_manager.gui.queue_process import ChildExit, RestartBudget, SessionTokens


class QueueHandle(Protocol):
    """What the window may ask of the download queue (a QueueProcess, or in the test mode a LocalQueue)."""

    def start(self, *, resume: bool) -> None: ...
    def download(self, entries: Iterable[Checkpoint]) -> list[str]: ...
    def add(self, entries: Iterable[Checkpoint], *, paused: bool = False) -> list[str]: ...
    def pause(self, key: str) -> None: ...
    def resume(self, key: str) -> None: ...
    def cancel(self, key: str) -> None: ...
    def move(self, key: str, delta: int) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def cancel_all(self) -> None: ...
    def clear_finished(self) -> None: ...
    def configure(self, values: dict) -> None: ...
    def give_tokens(self, tokens: dict[str, str | None]) -> None: ...
    def shutdown(self, timeout: float = 10.0) -> Any: ...


def folder_key(root: Path | str) -> str:
    """A short stable name for a models folder (and the user), for per-folder state and the instance lock."""
    text = f"{getpass.getuser()}\0{Path(root).expanduser().resolve()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def queue_state_file(root: Path | str) -> Path:
    """Where the download queue of this models folder is saved between runs."""
    return settings_file.state_dir() / f"queue-{folder_key(root)}.json"


class DownloadProcess(QObject):
    """Starts the download process after the first paint, restarts it within a budget when it ends by
    itself, and stops it on close.

    ``queue_in_window`` is a test mode: the child's queue (a LocalQueue) runs in the window's own
    process, without a child. No build uses it. ``options`` go to each QueueProcess (heartbeat and
    not-responding times; tests shorten them); ``restart_budget`` limits the restarts.
    """

    def __init__(
        self,
        store: Store,
        bridge: Bridge,
        parent: QObject | None = None,
        *,
        queue_in_window: bool = False,
        options: dict | None = None,
        restart_budget: RestartBudget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._bridge = bridge
        self._queue_in_window = queue_in_window
        self._options = dict(options or {})
        self._restart_budget = restart_budget
        self.queue: QueueHandle | None = None
        self.tokens: SessionTokens | None = None  # for the HEAD probes made from this process
        self._closed = False
        bridge.queue_exited.connect(self._on_exited, Qt.ConnectionType.QueuedConnection)

    @property
    def started(self) -> bool:
        """The downloads are known: the process was started once (even if it has given up since)."""
        return self.tokens is not None

    def start(self) -> bool:
        """Create the download queue and bring back unfinished downloads; False when it already runs."""
        if self.queue is not None or self._closed:
            return False
        # Imported here: requests and keyring are the slowest imports, and the window draws without them.
        from ofa_manager.gui.queue_process import RestartBudget, SessionTokens

        self.tokens = SessionTokens()
        if self._restart_budget is None:
            self._restart_budget = RestartBudget()
        self.run()
        return True

    def run(self) -> None:
        """Start a download process for the store's current folder (at start, after a restart or a move)."""
        self.queue = self._make_queue()
        self.queue.start(resume=self._store.settings.resume_on_start)

    def stop_running(self) -> QueueHandle | None:
        """Forget the running queue (a folder change shuts it down off the GUI thread); returns it."""
        queue, self.queue = self.queue, None
        return queue

    def _make_queue(self) -> QueueHandle:
        from ofa_manager.gui.queue_process import LocalQueue, QueueProcess

        store = self._store
        state_file = queue_state_file(store.library.root)
        if not self._queue_in_window:
            return QueueProcess(
                store.library,
                store.catalog.sources,
                state_file,
                store.settings,
                on_event=self._bridge.forward,
                on_exit=self._bridge.exited,
                **self._options,
            )
        return LocalQueue(store.library, state_file, store.settings, on_event=self._bridge.forward)

    def _on_exited(self, ended: ChildExit) -> None:
        """The download process ended without being asked to: start another, which restores the queue,
        unless it speaks another protocol version or the restart budget is spent for now."""
        from ofa_manager.gui.queue_process import PROTOCOL_VERSION, ExitReason

        store = self._store
        if self._closed or store.moving:
            return
        store.clear_items()
        if ended.reason is ExitReason.INCOMPATIBLE:
            self.queue = None
            store.message.emit(
                self.tr(
                    "The download process is from another version of ofa-manager (protocol {theirs}, this "
                    "window {ours}); reinstall ofa-manager"
                ).format(theirs=ended.version, ours=PROTOCOL_VERSION)
            )
            return
        if self._restart_budget is None or not self._restart_budget.take():
            self.queue = None
            text = self.tr(
                "The download process keeps stopping ({reason}, exit code {code}); restart ofa-manager"
            )
            store.message.emit(text.format(reason=ended.reason.value, code=ended.code))
            return
        if ended.reason is ExitReason.NOT_RESPONDING:
            text = self.tr("The download process was not responding for {seconds:.0f} s; restarted it")
        elif ended.reason is ExitReason.EXITED:
            text = self.tr("The download process stopped (exit code {code}); restarted it")
        else:
            text = self.tr("The download process stopped ({reason}); restarted it")
        store.message.emit(text.format(seconds=ended.silent, code=ended.code, reason=ended.reason.value))
        self.run()
        store.request_scan()

    def close(self, timeout: float) -> bool:
        """Stop the downloads (partial data and the queue are kept for next time); True when the process
        ended within ``timeout`` (closing never waits longer)."""
        self._closed = True
        if self.queue is None:
            return True
        stopper = threading.Thread(
            target=self.queue.shutdown, kwargs={"timeout": timeout}, name="ofa-shutdown", daemon=True
        )
        stopper.start()
        stopper.join(timeout)
        return not stopper.is_alive()
