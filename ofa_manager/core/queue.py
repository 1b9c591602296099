"""The download queue: ordered files, N at a time, pause/resume/cancel/reorder, saved across restarts."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ofa_manager.core.catalog import Checkpoint, redact_text
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.states import ErrorKind, ItemState, QueueEvent, QueueEventKind, QueueItem
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError, Progress, RateLimiter, TransferOptions

log = logging.getLogger(__name__)

MAX_EVENTS_PER_SECOND = 10


@dataclass
class _Job:
    item: QueueItem
    abort: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = ""  # pause, shutdown
    thread: threading.Thread | None = None
    last_event: float = 0.0


class DownloadQueue:
    """Runs downloads in order, ``jobs`` files at a time. Thread-safe.

    Events go to ``on_event`` from worker threads (at most ten progress events a second per item);
    the window's bridge turns them into Qt signals. An ``on_event`` that raises (a progress line written
    to a terminal that went away) never stops a download nor a worker: the first such error is kept in
    ``event_error`` and logged, and the downloads go on.
    """

    def __init__(
        self,
        library: Library,
        options: TransferOptions | None = None,
        *,
        jobs: int = 2,
        limiter: RateLimiter | None = None,
        tokens: TokenCache | None = None,
        state_file: Path | None = None,
        on_event: Callable[[QueueEvent], None] | None = None,
    ) -> None:
        self.library = library
        self.options = options or TransferOptions()
        self.jobs = max(1, jobs)
        self.limiter = limiter or RateLimiter(0)
        self.tokens = tokens if tokens is not None else TokenCache()
        self.state_file = state_file
        self.on_event = on_event
        self.event_error: Exception | None = None
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._jobs: list[_Job] = []
        self._workers: list[threading.Thread] = []  # started workers; shutdown() waits for every one
        self._closed = False

    # -- queries --------------------------------------------------------------------------------

    def items(self) -> list[QueueItem]:
        with self._lock:
            return [job.item for job in self._jobs]

    def get(self, key: str) -> QueueItem | None:
        with self._lock:
            job = self._find(key)
            return job.item if job else None

    def key_for(self, entry: Checkpoint) -> str:
        return str(self.library.path(entry))

    # -- commands -------------------------------------------------------------------------------

    def add(self, entries: Iterable[Checkpoint], *, paused: bool = False) -> list[str]:
        """Queue the files behind these entries (one item per file); returns their keys."""
        keys: list[str] = []
        with self._lock:
            for entry in entries:
                key = self.key_for(entry)
                job = self._find(key)
                if job is not None:
                    ids = tuple(dict.fromkeys(job.item.entry_ids + (entry.id,)))
                    if job.item.state.finished:
                        self._update(
                            job,
                            state=ItemState.PAUSED if paused else ItemState.QUEUED,
                            entry_ids=ids,
                            error=None,
                            error_kind=None,
                            message="",
                            finished_at=None,
                        )
                    elif ids != job.item.entry_ids:
                        self._update(job, entry_ids=ids)
                else:
                    item = QueueItem(
                        key=key,
                        entry_ids=(entry.id,),
                        title=entry.title,
                        state=ItemState.PAUSED if paused else ItemState.QUEUED,
                        total=self.library.expected_size(entry),
                    )
                    self._jobs.append(_Job(item))
                    self._emit(QueueEvent(QueueEventKind.ADDED, key, item, len(self._jobs) - 1))
                if key not in keys:
                    keys.append(key)
            self._save()
            self._schedule()
        return keys

    def pause(self, key: str) -> None:
        self._change([key], self._pause)

    def resume(self, key: str) -> None:
        self._change([key], self._resume)

    def cancel(self, key: str) -> None:
        """Stop and remove from the queue; the partial data stays on disk for a later download."""
        self._change([key], self._cancel)

    # The bulk commands change every item under one hold of the lock and schedule once, at the end:
    # pausing all never starts a queued file on the way (only to pause it), and resuming all starts
    # up to ``jobs`` files in queue order.

    def pause_all(self) -> None:
        self._change(None, self._pause)

    def resume_all(self) -> None:
        """Resume every paused or failed file."""
        self._change(None, self._resume)

    def cancel_all(self) -> None:
        """Take every file that is not done off the list (partial data stays on disk)."""
        self._change(None, lambda job: job.item.state is not ItemState.DONE and self._cancel(job))

    def clear_finished(self) -> None:
        """Take the files that are done off the list."""
        self._change(None, lambda job: job.item.state is ItemState.DONE and self._drop(job))

    def move(self, key: str, delta: int) -> None:
        """Move an item up (negative) or down the queue; order decides which file starts next."""
        with self._lock:
            job = self._find(key)
            if job is None:
                return
            index = self._jobs.index(job)
            target = max(0, min(len(self._jobs) - 1, index + delta))
            if target == index:
                return
            self._jobs.insert(target, self._jobs.pop(index))
            self._emit(QueueEvent(QueueEventKind.MOVED, key, job.item, target))
            self._save()
            self._schedule()

    def set_jobs(self, jobs: int) -> None:
        with self._lock:
            self.jobs = max(1, jobs)
            self._schedule()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while any(j.item.state is ItemState.QUEUED or j.thread is not None for j in self._jobs):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 0.5)
            return True

    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Stop every transfer (partial data kept) and save the queue for the next start."""
        with self._lock:
            self._closed = True
            running = [j for j in self._jobs if j.thread is not None]
            for job in running:
                job.stop_reason = "shutdown"
                job.abort.set()
            # Also the workers of cancelled items, and those that are just returning.
            workers = list(self._workers)
            self._save()
        for worker in workers:
            worker.join(timeout)

    # -- persistence ----------------------------------------------------------------------------

    def restore(self, *, resume: bool) -> int:
        """Bring back the unfinished downloads saved at the last exit; returns how many."""
        if self.state_file is None:
            return 0
        try:
            saved = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        catalog = self.library.catalog
        restored = 0
        for row in saved.get("items", []) if isinstance(saved, dict) else []:
            entries = [catalog.get(i) for i in row.get("entry_ids", []) if i in catalog]
            if not entries:
                continue
            state = row.get("state")
            keys = self.add(entries, paused=state != ItemState.QUEUED.value or not resume)
            if state == ItemState.FAILED.value:
                # A failure stays on its row with its reason, waiting for Retry, as before the restart.
                with self._lock:
                    job = self._find(keys[0])
                    if job is not None and job.thread is None:
                        self._update(
                            job,
                            state=ItemState.FAILED,
                            error=str(row.get("error") or "failed"),
                            error_kind=ErrorKind.parse(row.get("error_kind")),
                        )
            restored += 1
        return restored

    def _save(self) -> None:
        if self.state_file is None:
            return
        rows = []
        for job in self._jobs:
            item = job.item
            if item.state is ItemState.DONE:
                continue
            if item.state is ItemState.FAILED:
                rows.append(
                    {
                        "key": item.key,
                        "entry_ids": list(item.entry_ids),
                        "state": item.state.value,
                        "error": item.error,
                        "error_kind": item.error_kind,
                    }
                )
                continue
            # What was running when the app closed is saved as queued, so it resumes by itself.
            state = ItemState.PAUSED if item.state is ItemState.PAUSED else ItemState.QUEUED
            rows.append({"key": item.key, "entry_ids": list(item.entry_ids), "state": state.value})
        try:
            atomic_write_json(self.state_file, {"version": 1, "items": rows}, durable=False)
        except OSError:
            pass  # the queue still runs; only the restart memory is lost

    # -- internals ------------------------------------------------------------------------------

    def _find(self, key: str) -> _Job | None:
        return next((job for job in self._jobs if job.item.key == key), None)

    def _change(self, keys: Iterable[str] | None, change: Callable[[_Job], bool]) -> None:
        """Apply ``change`` to these items (None: every item) under the lock; if any changed, save the
        queue and start what may start, once."""
        with self._lock:
            if keys is None:
                jobs = list(self._jobs)
            else:
                jobs = [job for job in map(self._find, keys) if job is not None]
            changed = [change(job) for job in jobs]
            if any(changed):
                self._save()
                self._schedule()

    def _pause(self, job: _Job) -> bool:
        if job.item.state.finished or job.item.state is ItemState.PAUSED:
            return False
        if job.thread is not None:
            job.stop_reason = "pause"
            job.abort.set()
        self._update(job, state=ItemState.PAUSED, speed=0.0, eta=None, connections=0, message="")
        return True

    def _resume(self, job: _Job) -> bool:
        if job.item.state not in (ItemState.PAUSED, ItemState.FAILED):
            return False
        self._update(job, state=ItemState.QUEUED, error=None, error_kind=None, message="")
        return True

    def _cancel(self, job: _Job) -> bool:
        if job.thread is not None:
            job.abort.set()  # its worker ends by itself: off the list, nothing it reports reaches a row
        return self._drop(job)

    def _drop(self, job: _Job) -> bool:
        """Take the item off the list (the caller saves and schedules)."""
        self._jobs.remove(job)
        self._emit(QueueEvent(QueueEventKind.REMOVED, job.item.key, job.item))
        return True

    def _update(self, job: _Job, **changes) -> None:
        job.item = replace(job.item, **changes)
        if job in self._jobs:
            self._emit(QueueEvent(QueueEventKind.CHANGED, job.item.key, job.item, self._jobs.index(job)))

    def _emit(self, event: QueueEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception as exc:  # the owner's failure: a worker that died here would hang every wait()
            if self.event_error is None:
                self.event_error = exc
                log.warning("download events are no longer shown: %r", exc)

    def _schedule(self) -> None:
        """Start queued items, in order, while fewer than ``jobs`` run."""
        if self._closed:
            return
        running = sum(1 for j in self._jobs if j.thread is not None and j.stop_reason == "")
        for job in self._jobs:
            if running >= self.jobs:
                break
            if job.item.state is ItemState.QUEUED and job.thread is None:
                job.abort = threading.Event()
                job.stop_reason = ""
                self._update(job, state=ItemState.CONNECTING, message="")
                job.thread = threading.Thread(target=self._run, args=(job,), name="ofa-download", daemon=True)
                self._workers = [w for w in self._workers if w.is_alive()] + [job.thread]
                job.thread.start()
                running += 1
        self._idle.notify_all()

    def _run(self, job: _Job) -> None:
        # Everything the worker does is inside the try: a worker that died before it could say so would leave
        # its row "connecting" and wait() waiting for ever.
        try:
            entry = self.library.catalog.get(job.item.entry_ids[0])
            Transfer(
                self.library,
                entry,
                self.options,
                limiter=self.limiter,
                tokens=self.tokens,
                on_progress=lambda p: self._progress(job, p),
                abort=job.abort,
            ).run()
            status = self.library.status(entry)  # one look at the final path: its size is what is there
            size = status.bytes
            if status.state in (State.DOWNLOADED, State.CORRUPT):
                outcome = dict(state=ItemState.DONE, done=size, total=size, error=None, error_kind=None)
            else:
                # Removed (rm) between the rename and this look: "done" with no file would be a lie.
                gone = f"its file was removed from {self.library.root} as the download finished"
                outcome = dict(state=ItemState.FAILED, error=gone, error_kind=ErrorKind.REMOVED)
        except Aborted:
            outcome = {}
        except DownloadError as exc:
            outcome = dict(state=ItemState.FAILED, error=exc.reason, error_kind=exc.kind)
        except Exception as exc:  # never let a worker die silently: the row shows the reason
            unexpected = redact_text(f"unexpected error: {exc!r}")
            outcome = dict(state=ItemState.FAILED, error=unexpected, error_kind=ErrorKind.ERROR)
        with self._lock:
            job.thread = None
            reason = job.stop_reason
            finished = outcome.get("state") is ItemState.DONE
            # A file that completed just as it was paused is done all the same; a pause or a shutdown
            # otherwise leaves the state that pause() or resume() already set.
            if job in self._jobs and outcome and (finished or reason not in ("pause", "shutdown")):
                self._update(
                    job, speed=0.0, eta=None, connections=0, message="", finished_at=time.time(), **outcome
                )
                self._save()
            # job.stop_reason stays as it is: a job with no thread counts for nothing, and _schedule
            # clears it as it starts the job again.
            self._schedule()
            self._idle.notify_all()

    def _progress(self, job: _Job, progress: Progress) -> None:
        with self._lock:
            if job.stop_reason or job not in self._jobs:
                return
            state = {
                "waiting": ItemState.WAITING,
                "connecting": ItemState.CONNECTING,
                "downloading": ItemState.DOWNLOADING,
                "stalled": ItemState.STALLED,
                "verifying": ItemState.VERIFYING,
            }.get(progress.state)
            if state is None:
                return
            now = time.monotonic()
            changed_state = state is not job.item.state
            if not changed_state and now - job.last_event < 1.0 / MAX_EVENTS_PER_SECOND:
                return
            job.last_event = now
            # While waiting, the progress is that of the other process downloading the same file.
            done = progress.done if progress.state in ("downloading", "stalled", "waiting") else job.item.done
            self._update(
                job,
                state=state,
                done=done,
                total=progress.total or job.item.total,
                speed=progress.speed,
                eta=progress.eta,
                connections=progress.connections,
                message=progress.message,
            )
