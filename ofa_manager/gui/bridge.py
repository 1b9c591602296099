"""The one adapter from engine events and background work (worker threads) to Qt signals."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from ofa_manager.core.catalog import redact_text

if TYPE_CHECKING:  # the queue and the process module are imported when the queue starts, not before
    from ofa_manager.core.queue import QueueEvent
    from ofa_manager.gui.queue_process import ChildExit

R = TypeVar("R")

# At most this many progress reports a second reach the GUI thread from one background task.
TASK_PROGRESS_PER_SECOND = 5


class Task:
    """What a background function may ask of its runner: report progress, or learn it should stop."""

    __slots__ = ("_bridge", "_on_progress", "_last")

    def __init__(self, bridge: Bridge, on_progress: Callable[[float], None] | None) -> None:
        self._bridge = bridge
        self._on_progress = on_progress
        self._last = 0.0

    def cancelled(self) -> bool:
        return self._bridge.stopping

    def progress(self, done: int, total: int) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if done < total and now - self._last < 1.0 / TASK_PROGRESS_PER_SECOND:
            return
        self._last = now
        self._bridge._emit(self._bridge.task_progress, self._on_progress, done / total if total else 0.0)


class TaskPool:
    """A few daemon threads taking jobs in order; stoppable with a deadline, so closing never hangs."""

    def __init__(self, name: str, workers: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def put(self, job: Callable[[], None]) -> None:
        if not self._stop.is_set():
            self._jobs.put(job)

    def shutdown(self, deadline: float) -> bool:
        """Drop waiting jobs, let running ones end; True when every thread ended before the deadline."""
        self._stop.set()
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._stop.is_set():
                return
            job()


class Bridge(QObject):
    """Re-emits the download queue's events and the outcome of background tasks as Qt signals.

    Everything here may be called from any thread; receivers in the GUI thread get the signals by
    queued connection, in the order they were emitted. A background task carries its own completion
    callbacks (``submit``); the bridge calls them in the GUI thread, and never once it is shut down.

    Signals:
        queue_event(object): a ``QueueEvent`` from the download queue
        queue_exited(object): the download process ended by itself (a ``ChildExit``: code and reason)
        task_progress(object, float): a task's progress callback and the fraction done (internal)
        task_done(object, object): a task's completion callback and its result (internal)
        task_failed(object, str): a task's failure callback and why it failed (internal)
    """

    queue_event = Signal(object)
    queue_exited = Signal(object)
    task_progress = Signal(object, float)
    task_done = Signal(object, object)
    task_failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stopping = threading.Event()
        # Disk work (scans, hashing, deleting, moving) and network probes wait in separate lines, so a
        # slow server never holds up a scan of the models folder.
        self._pools = {"disk": TaskPool("ofa-disk", 2), "network": TaskPool("ofa-network", 4)}
        # Queued even when emitted from the GUI thread itself, so callbacks run in the order of events.
        for signal in (self.task_done, self.task_failed, self.task_progress):
            signal.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def forward(self, event: QueueEvent) -> None:
        """The queue's ``on_event``: called from worker threads."""
        self._emit(self.queue_event, event)

    def exited(self, ended: ChildExit) -> None:
        """The download process's ``on_exit``: called from its reader thread."""
        self._emit(self.queue_exited, ended)

    def submit(
        self,
        work: Callable[[Task], R],
        on_done: Callable[[R], None],
        on_failed: Callable[[str], None] | None = None,
        *,
        on_progress: Callable[[float], None] | None = None,
        lane: str = "disk",
    ) -> None:
        """Run ``work(task)`` off the GUI thread; then ``on_done(result)`` or ``on_failed(reason)`` is
        called in the GUI thread (``on_progress(fraction)`` meanwhile).

        ``work`` captures its inputs when it is made: it never reads state the GUI thread may replace
        while it runs.
        """
        task = Task(self, on_progress)

        def job() -> None:
            if self.stopping:
                return
            try:
                result = work(task)
            except Exception as exc:  # the GUI shows the reason; a worker must never die silently
                if on_failed is not None:
                    self._emit(self.task_failed, on_failed, redact_text(str(exc)) or type(exc).__name__)
                return
            self._emit(self.task_done, on_done, result)

        self._pools[lane].put(job)

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop taking work and wait (up to ``timeout`` in all) for running tasks to end."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        return all([pool.shutdown(deadline) for pool in self._pools.values()])

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        if not self.stopping:
            callback(value)

    def _emit(self, signal: Any, *args: Any) -> None:
        if self.stopping and signal is not self.queue_event:
            return
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the window is already gone while a late worker reports
