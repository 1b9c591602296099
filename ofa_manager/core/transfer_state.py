"""What one file's download holds, and what its parts share: its record on disk, retries, progress events."""

from __future__ import annotations

import collections
import contextlib
import os
import random
import threading
import time
from collections.abc import Callable

import requests

from ofa_manager.core import fingerprints, units
from ofa_manager.core.catalog import Checkpoint, display_url
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.http import HttpStatusError, describe_network_error, make_session, open_url
from ofa_manager.core.library import Library
from ofa_manager.core.segments import _Plan
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import (
    PROGRESS_EVERY,
    Aborted,
    DownloadError,
    Progress,
    RateLimiter,
    TransferOptions,
    _Stopped,
    _Transient,
)


class TransferState:
    """The state of one file's download and the services its parts (connections, finishing, the
    orchestration in ``Transfer``) share: the record on disk, the retry policy, progress events."""

    def __init__(
        self,
        library: Library,
        entry: Checkpoint,
        options: TransferOptions | None = None,
        *,
        limiter: RateLimiter | None = None,
        tokens: TokenCache | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        abort: threading.Event | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.library = library
        self.entry = entry
        self.options = options or TransferOptions()
        self.limiter = limiter or RateLimiter(0)
        self.tokens = tokens if tokens is not None else TokenCache()
        self.on_progress = on_progress
        self.abort = abort or threading.Event()
        self._own_session = session is None
        self.session = session or make_session(max(4, self.options.connections + 2))
        self.expected_sha256 = library.expected_sha256(entry)
        self.expected_size = library.expected_size(entry)
        self._reconnecting = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._last_emit = 0.0
        self._url = entry.url
        self._ranged = False
        self._done = 0
        self._etag: str | None = None
        self._last_modified: str | None = None
        self._record: dict = {}
        # The server's CRC-64 (16 hex digits) and MD5 of the object, from the first answer's headers;
        # only gathered when the catalog has no sha256.
        self._server: dict = {}
        self._main_prints: fingerprints.ServerFingerprints | None = None
        self._prints: fingerprints.RunningFingerprints | None = None
        self._lock = threading.Lock()
        self._part_id: tuple[int, int] | None = None  # (device, inode) of the partial file being written
        self._removed = False
        self._one_stream = False

    def _open(self, url: str, headers: dict[str, str]) -> requests.Response:
        """A GET with this transfer's session, tokens and timeouts (connect; stall while reading)."""
        return open_url(
            self.session,
            url,
            self.tokens,
            headers=headers,
            timeout=(self.options.connect_timeout, self.options.timeout),
        )

    def _not_ours(self, status) -> str:
        """Why the download stops at a file it did not put there, and what the user can do."""
        final = status.path
        checked = (
            "; it does not match the catalog's size and sha256"
            if self.expected_sha256 and self.expected_size is not None
            else ""
        )
        return (
            f"a different file is already at {final} ({units.size(status.bytes)}): {status.reason}"
            f"{checked}. ofa-manager leaves it as it is: move it away or delete it (ofa-manager rm "
            f"--force {self.entry.id}), then download again"
        )

    def _retry_or_fail(self, exc: BaseException, attempts: int, stop: threading.Event | None = None) -> int:
        """Wait before the next attempt, or raise DownloadError when this error is final.

        ``stop`` (a worker's) ends the wait too, so one connection's failure is not held back by
        another connection sitting out a long Retry-After.
        """
        if isinstance(exc, HttpStatusError) and not exc.retryable:
            raise DownloadError(self.entry.title, str(exc), kind=ErrorKind.HTTP)
        reason = str(exc) if isinstance(exc, (HttpStatusError, _Transient)) else describe_network_error(exc)
        if attempts >= self.options.retries:
            tries = "1 attempt" if attempts == 0 else f"{attempts + 1} attempts"
            raise DownloadError(self.entry.title, f"{reason} (gave up after {tries})", kind=ErrorKind.NETWORK)
        delay = self._backoff(attempts, getattr(exc, "retry_after", None))
        self._emit_state("stalled", force=True, message=f"{reason}; retrying in {delay:.0f} s")
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if self.abort.wait(min(left, 0.1)):
                raise Aborted()
            if stop is not None and stop.is_set():
                raise _Stopped()
        return attempts + 1

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        delay = min(self.options.backoff_max, self.options.backoff_base * (2**attempts))
        delay = random.uniform(delay / 2, delay)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.options.max_retry_after))
        return delay

    def _part_removed(self) -> bool:
        """True once the partial file being written is gone from its place (deleted or replaced)."""
        if self._part_id is None:
            return False
        if not self._removed:
            try:
                st = os.stat(self.library.part_path(self.entry))
            except FileNotFoundError:
                self._removed = True
            except OSError:
                return False
            else:
                self._removed = (st.st_dev, st.st_ino) != self._part_id
        return self._removed

    def _removed_error(self) -> DownloadError:
        self._removed = True
        return DownloadError(
            self.entry.title,
            f"its file was removed from {self.library.root} during the download; the download stopped "
            "and nothing was kept",
            kind=ErrorKind.REMOVED,
        )

    def _save_record(self, plan: _Plan, *, running: bool = True) -> None:
        record = dict(self._record)
        if self._part_removed():
            # A record without its partial file is of no use: a removed download leaves nothing behind.
            with contextlib.suppress(FileNotFoundError):
                self.library.record_path(self.entry).unlink()
            return
        if not record:
            return
        record["ranges"] = plan.snapshot()
        record["size"] = plan.size
        record["updated"] = time.time()
        # Other downloads count what a running one still needs against the free space (core.space).
        record["running"] = running
        if plan.size is None:
            # Progress in a stream of unknown length cannot be resumed.
            record["ranges"] = []
        self.library.write_record(self.entry, record)

    def _emit_state(self, state: str, *, force: bool = False, message: str = "") -> None:
        self._emit(
            Progress(self._done, self.expected_size, 0.0, None, state, 0, display_url(self._url), message),
            force=force,
        )

    def _emit_progress(self, plan: _Plan, state: str, connections: int) -> None:
        done = self._done = plan.done_bytes()
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 5.0:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        speed = (done - d0) / (now - t0) if now > t0 else 0.0
        eta = (plan.size - done) / speed if plan.size is not None and speed > 0 else None
        self._emit(Progress(done, plan.size, speed, eta, state, connections, display_url(self._url)))

    def _emit(self, progress: Progress, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_emit < PROGRESS_EVERY:
            return
        self._last_emit = now
        self.on_progress(progress)
