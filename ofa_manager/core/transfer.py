"""One file's download: resumable, segmented, rate-limited, retried, hashed as it arrives."""

from __future__ import annotations

import bisect
import collections
import contextlib
import hashlib
import http.client
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3.exceptions

from ofa_manager.core import fingerprints, mirrors, units
from ofa_manager.core.catalog import Checkpoint, display_url, redact_text
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.durable import OnError, sync_folder
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.http import (
    HttpStatusError,
    compression_of,
    describe_network_error,
    is_web_page,
    make_session,
    open_url,
    raise_for_status,
    shutdown_connections,
)
from ofa_manager.core.library import (
    Library,
    NotOursError,
    State,
    UnsafePathError,
    free_space,
    open_nofollow,
    path_kind,
    place_file,
)
from ofa_manager.core.space import SpaceCheck, held_by_others
from ofa_manager.core.states import ErrorKind

MiB = 1024 * 1024
CHUNK = MiB
MIN_SEGMENT = 2 * MiB
RECORD_EVERY = 1.0
SYNC_EVERY = 64 * MiB
PROGRESS_EVERY = 0.1
MIN_READ = 64 * 1024
READ_SECONDS = 0.25
# How often the supervisor looks at each connection's speed and at the partial file on disk.
WATCH_EVERY = 0.1
# The speed floor under a bandwidth limit: the limit may be shared by up to 8 downloads of 16 connections.
LIMIT_SHARES = 128
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
NETWORK_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
)


class DownloadError(Exception):
    """A download that failed for good; ``str()`` names the checkpoint and the reason."""

    def __init__(self, title: str, reason: str, *, kind: ErrorKind | str = ErrorKind.ERROR) -> None:
        # Every failure reaches a row, a terminal or the queue's state file: never with a URL's password.
        reason = redact_text(reason)
        super().__init__(f"{title}: {reason}")
        self.title = title
        self.reason = reason
        self.kind = ErrorKind(kind)


class Aborted(Exception):
    """The download was stopped on request (pause or cancel); the partial data is kept."""


class _Restart(Exception):
    """The object changed on the server: throw away the partial data and start over."""


class _Transient(Exception):
    """A server answer worth another try; the message is shown as it is."""


class _Stopped(Exception):
    """Another connection of the same transfer failed: this one ends quietly."""


class _DiskError(Exception):
    """Writing to the models folder failed (disk full, permissions)."""


@dataclass
class TransferOptions:
    """How a transfer behaves; the command line flags and the settings dialog fill this in."""

    connections: int = 4
    retries: int = 5
    timeout: float = 30.0
    connect_timeout: float = 15.0
    rewrite_rules: list[tuple[str, str]] = field(default_factory=list)
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0
    chunk: int = CHUNK
    min_segment: int = MIN_SEGMENT
    # A connection bringing fewer bytes a second than this, over ``timeout`` seconds, is stalled as
    # much as one bringing none (curl's --speed-limit with --speed-time); 0 turns the floor off.
    min_speed: int = 1024

    def rewrite(self, url: str) -> str:
        """Apply the first matching URL-prefix rule (e.g. the Beijing bucket → a lab mirror)."""
        return mirrors.rewrite(url, self.rewrite_rules)


@dataclass
class Progress:
    """A snapshot of a running transfer."""

    done: int
    total: int | None
    speed: float
    eta: float | None
    state: str  # waiting, connecting, downloading, stalled, verifying
    connections: int
    url: str = ""
    message: str = ""


class RateLimiter:
    """A token bucket shared by every connection (and every transfer) that uses it."""

    def __init__(self, rate: int = 0) -> None:
        self._lock = threading.Lock()
        self._rate = max(0, int(rate))
        self._next = time.monotonic()

    @property
    def rate(self) -> int:
        return self._rate

    def set_rate(self, rate: int) -> None:
        with self._lock:
            self._rate = max(0, int(rate))
            self._next = time.monotonic()

    def chunk_size(self, default: int) -> int:
        rate = self._rate
        return default if not rate else max(4096, min(default, rate // 20))

    def consume(self, amount: int, abort: threading.Event) -> None:
        with self._lock:
            if not self._rate:
                return
            now = time.monotonic()
            # Allow a small burst so short pauses in one connection are not lost for good.
            start = max(self._next, now - 0.2)
            self._next = start + amount / self._rate
            delay = self._next - now
        if delay > 0:
            abort.wait(delay)


class _Slot:
    """One connection's share of the file: it writes from ``pos`` up to ``end`` (which may shrink)."""

    __slots__ = ("pos", "end", "response", "too_slow", "samples")

    def __init__(self, pos: int, end: int | None) -> None:
        self.pos = pos
        self.end = end
        self.response: requests.Response | None = None
        # Set by the supervisor when it cut this connection for being below the speed floor.
        self.too_slow = False
        # (time, pos, response) a few times a second while a body streams: the speed floor's window.
        self.samples: collections.deque[tuple[float, int, object]] = collections.deque()


class _Plan:
    """Which byte ranges are done, which are being fetched and which are still free."""

    def __init__(self, size: int | None, done: list[list[int]]) -> None:
        self.size = size
        self.cond = threading.Condition()
        self.done: list[list[int]] = sorted([list(r) for r in done if r[1] > r[0]])
        self._merge()
        self.free: list[list[int]] = self._missing() if size is not None else []
        self.slots: list[_Slot] = []
        self.eof = False  # a stream of unknown length reached its end

    def _merge(self) -> None:
        merged: list[list[int]] = []
        for start, end in self.done:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.done = merged

    def _missing(self) -> list[list[int]]:
        gaps, pos = [], 0
        for start, end in self.done:
            if start > pos:
                gaps.append([pos, start])
            pos = max(pos, end)
        if self.size is not None and pos < self.size:
            gaps.append([pos, self.size])
        return gaps

    def done_bytes(self) -> int:
        return sum(end - start for start, end in self.done)

    def prefix(self) -> int:
        return self.done[0][1] if self.done and self.done[0][0] == 0 else 0

    def complete(self) -> bool:
        if self.size is None:
            return self.eof
        return self.prefix() >= self.size

    def snapshot(self) -> list[list[int]]:
        with self.cond:
            return [list(r) for r in self.done]

    def first_slot(self) -> _Slot:
        """The slot of the first request: the first missing range, open-ended when the size is unknown."""
        with self.cond:
            if self.size is None:
                slot = _Slot(0, None)
            else:
                start, end = self.free.pop(0) if self.free else (self.size, self.size)
                slot = _Slot(start, end)
            self.slots.append(slot)
            return slot

    def take(self, min_segment: int) -> _Slot | None:
        """Free work, or half of the largest running slot; None when nothing is left to split."""
        with self.cond:
            if self.free:
                start, end = self.free.pop(0)
                slot = _Slot(start, end)
                self.slots.append(slot)
                return slot
            left, victim = max(
                ((s.end - s.pos, s) for s in self.slots if s.end is not None),
                key=lambda pair: pair[0],
                default=(0, None),
            )
            if victim is None or left < 2 * min_segment:
                return None
            middle = victim.pos + left // 2
            slot = _Slot(middle, victim.end)
            victim.end = middle
            self.slots.append(slot)
            return slot

    def claim(self, slot: _Slot, wanted: int) -> int:
        """How many bytes this slot may read next (0 when its range is finished)."""
        with self.cond:
            if slot.end is None:
                return wanted
            return max(0, min(wanted, slot.end - slot.pos))

    def advance(self, slot: _Slot, n: int) -> None:
        with self.cond:
            start, end = slot.pos, slot.pos + n
            slot.pos = end
            starts = [r[0] for r in self.done]
            i = bisect.bisect_right(starts, start)
            if i and self.done[i - 1][1] >= start:
                self.done[i - 1][1] = max(self.done[i - 1][1], end)
                i -= 1
            else:
                self.done.insert(i, [start, end])
            while i + 1 < len(self.done) and self.done[i + 1][0] <= self.done[i][1]:
                self.done[i][1] = max(self.done[i][1], self.done[i + 1][1])
                del self.done[i + 1]
            if i == 0:
                self.cond.notify_all()

    def release(self, slot: _Slot) -> None:
        """Give back what a slot did not finish (after an error) and forget the slot."""
        with self.cond:
            if slot in self.slots:
                self.slots.remove(slot)
            if slot.end is not None and slot.pos < slot.end:
                bisect.insort(self.free, [slot.pos, slot.end])
            self.cond.notify_all()


class _Hasher(threading.Thread):
    """Hashes the contiguous prefix of the partial file as it grows, so the check ends with the download."""

    def __init__(
        self,
        path: Path,
        plan: _Plan,
        stop: threading.Event,
        prints: fingerprints.RunningFingerprints | None = None,
    ) -> None:
        super().__init__(name="ofa-hash", daemon=True)
        self.path = path
        self.plan = plan
        self.stop = stop
        self.digest = hashlib.sha256()
        # The server's fingerprints ride the same in-order pass (no CRC combine needed for segments).
        self.prints = prints or fingerprints.RunningFingerprints(crc=False, md5=False)
        self.pos = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        buf = bytearray(4 * MiB)
        view = memoryview(buf)
        synced = 0
        prints = self.prints
        # MD5 is the slowest of the three: it runs on a second thread (hashlib releases the GIL) while
        # this one does the sha256 and the CRC over the same buffer.
        helper = ThreadPoolExecutor(1, thread_name_prefix="ofa-md5") if prints.wants_md5 else None
        try:
            with open_nofollow(self.path, "rb") as fh:
                while not self.stop.is_set():
                    with self.plan.cond:
                        while self.plan.prefix() <= self.pos and not self.stop.is_set():
                            if self.plan.complete() and self.plan.prefix() <= self.pos:
                                return
                            self.plan.cond.wait(0.25)
                        target = self.plan.prefix()
                    fh.seek(self.pos)
                    while self.pos < target:
                        n = fh.readinto(view[: min(len(buf), target - self.pos)])
                        if not n:
                            raise OSError(f"partial file shorter than expected at byte {self.pos}")
                        piece = view[:n]
                        pending = helper.submit(prints.update_md5, piece) if helper is not None else None
                        self.digest.update(piece)
                        prints.update_crc(piece)
                        if pending is not None:
                            pending.result()
                        self.pos += n
                        if self.pos - synced >= SYNC_EVERY:
                            # Writing back as we go leaves little for the fsync before the rename.
                            _datasync(fh.fileno())
                            synced = self.pos
        except BaseException as exc:  # reported to the transfer, which fails cleanly
            self.error = exc
        finally:
            if helper is not None:
                helper.shutdown()


class Transfer:
    """Download the file behind ``entry`` into ``library``; entries sharing the URL share the file.

    Call ``run()`` in a worker thread. ``abort`` stops it (partial data kept, ``Aborted`` raised);
    ``on_progress`` receives ``Progress`` snapshots about ten times a second.
    """

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
        self._state = "connecting"
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

    # -- public ---------------------------------------------------------------------------------

    def run(self) -> Path:
        """Download (or find, or adopt) the file; returns its final path."""
        finished = threading.Event()
        watchdog = threading.Thread(target=self._watch_abort, args=(finished,), name="ofa-abort", daemon=True)
        watchdog.start()
        try:
            return self._run()
        except (UnsafePathError, NotOursError) as exc:
            raise DownloadError(self.entry.title, str(exc), kind=ErrorKind.NOT_OURS) from None
        except OSError as exc:
            # Network errors are handled inside; what reaches here is the models folder itself.
            where = exc.filename or self.library.root
            raise DownloadError(
                self.entry.title, f"cannot use {where}: {exc.strerror or exc}", kind=ErrorKind.DISK
            ) from None
        finally:
            finished.set()
            watchdog.join()
            if self._own_session:
                self.session.close()

    def _watch_abort(self, finished: threading.Event) -> None:
        """Pause and cancel take effect at once, even while a request still waits for its answer."""
        while not finished.is_set():
            if self.abort.wait(0.1):
                shutdown_connections(self.session)
                return

    def urls(self) -> list[str]:
        """The main URL then the mirrors of this entry and of entries sharing its file, rewritten."""
        return [
            s.fetch for s in mirrors.sources(self.entry, self.library.catalog, self.options.rewrite_rules)
        ]

    # -- top level ------------------------------------------------------------------------------

    def _run(self) -> Path:
        entry, library = self.entry, self.library
        final = library.path(entry)
        obstacles = library.obstacles(entry)
        if obstacles:
            raise DownloadError(
                entry.title,
                "; ".join(obstacles) + ": ofa-manager neither follows nor replaces links or folders in "
                "the models folder; move it away, then download again",
                kind=ErrorKind.NOT_OURS,
            )
        if library.status(entry).state is State.DOWNLOADED:
            return final
        library.root.mkdir(parents=True, exist_ok=True)
        lock = library.lock(entry)
        # "waiting" means another process holds the file: _try_lock reports it only when that is so.
        while not self._try_lock(lock):
            if self.abort.is_set():
                raise Aborted()
        try:
            from ofa_manager.core.names import adopt_earlier_name

            # Data kept under the name an earlier version chose is resumed, not fetched anew.
            adopt_earlier_name(library, entry)
            if self._finished():
                return final
            status = library.status(entry)
            if status.state is State.FOREIGN:
                # Never overwritten: only a file this library downloaded and later found corrupt is.
                raise DownloadError(entry.title, self._not_ours(status), kind=ErrorKind.NOT_OURS)
            self._preflight(
                self.expected_size,
                library.status(entry).bytes if library.status(entry).state is State.PARTIAL else 0,
            )
            errors: list[tuple[str, DownloadError]] = []
            sources = self.urls()
            for url in sources:
                if url != sources[0]:
                    different = self._mirror_differs(sources[0], url)
                    if different:
                        errors.append((url, DownloadError(entry.title, different, kind=ErrorKind.INTEGRITY)))
                        continue
                self._url = url
                try:
                    self._download_from(url)
                    return final
                except DownloadError as exc:
                    if exc.kind.stops_mirrors:
                        raise
                    errors.append((url, exc))
            if len(errors) == 1:
                raise errors[0][1]
            reasons = "; ".join(f"{normalise_host(url)}: {e.reason}" for url, e in errors)
            raise DownloadError(entry.title, f"every source failed: {reasons}", kind=errors[-1][1].kind)
        finally:
            lock.release()

    def _mirror_differs(self, main: str, mirror: str) -> str:
        """Why a mirror must not be used for this entry ("" when it may): its HEAD fingerprints (size,
        CRC-64, content MD5) differ from the main URL's. Only what both servers tell is compared."""
        from ofa_manager.core.http import check_link

        if self.abort.is_set():
            raise Aborted()
        if self._main_prints is None:
            answer = check_link(main, session=self.session, tokens=self.tokens, timeout=self.options.timeout)
            self._main_prints = answer.fingerprints() if answer.ok else fingerprints.ServerFingerprints()
        answer = check_link(mirror, session=self.session, tokens=self.tokens, timeout=self.options.timeout)
        if not answer.ok:
            return ""  # the download itself reports what is wrong with it
        found = self._main_prints.differences(answer.fingerprints())
        if found:
            return (
                f"the mirror holds different bytes than {normalise_host(main)} ({'; '.join(found)}); not used"
            )
        return ""

    def _try_lock(self, lock) -> bool:
        from filelock import Timeout

        try:
            lock.acquire(timeout=0.25)
        except Timeout:
            self._report_waiting()
            return False
        return True

    def _report_waiting(self) -> None:
        """Another process downloads this file: say which, and show its progress while this one waits."""
        from ofa_manager.core.elsewhere import other_download

        other = other_download(self.library, self.entry)
        self._state = "waiting"
        progress = Progress(
            other.done, other.total, 0.0, None, "waiting", 0, display_url(self._url), other.sentence()
        )
        self._emit(progress)

    def _open(
        self, url: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> requests.Response:
        """A request with this transfer's session, tokens and timeouts (connect; stall while reading)."""
        return open_url(
            self.session,
            url,
            self.tokens,
            method=method,
            headers=headers,
            timeout=(self.options.connect_timeout, self.options.timeout),
        )

    def _finished(self) -> bool:
        """True when the file is already complete here, or was adopted after a check against the
        catalog's size and sha256 (known before the file was found)."""
        library, entry = self.library, self.entry
        status = library.status(entry)
        if status.state is State.DOWNLOADED:
            return True
        if status.state is State.FOREIGN and path_kind(library.path(entry)) == "file":
            if self.expected_sha256 and self.expected_size is not None:
                self._emit_state("verifying", force=True)
                return library.adopt(entry, cancelled=self.abort.is_set)
        return False

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

    def _preflight(
        self,
        size: int | None,
        have: int,
        response: requests.Response | None = None,
        plan: _Plan | None = None,
    ) -> None:
        """Fail when the rest of the file cannot fit beside what other running downloads still need.

        ``response`` (headers read, body not) is closed then. With ``plan`` the space is also claimed:
        the resume record is written at once, under the lock that other downloads check under too.
        """
        if size is None:
            return
        root = self.library.root
        with SpaceCheck(root) if plan is not None else contextlib.nullcontext():
            need = max(0, size - have)
            free = free_space(root)
            held = held_by_others(root, self.library.record_path(self.entry))
            if need > free - held:
                _close(response)
                if held:
                    where = (
                        f"only {units.size(max(0, free - held))} free in {root} once the other downloads "
                        f"in progress have the {units.size(held)} they still need"
                    )
                else:
                    where = f"only {units.size(free)} free in {root}"
                reason = f"not enough disk space: needs {units.size(need)}, {where}"
                raise DownloadError(self.entry.title, reason, kind=ErrorKind.SPACE)
            if plan is not None:
                record = {**self._fresh_record(self._url, plan), "updated": time.time(), "running": True}
                self.library.write_record(self.entry, record)

    def _fresh_record(self, url: str, plan: _Plan) -> dict:
        """The resume record of a download whose first answer just arrived."""
        return {
            "url": display_url(url),
            "size": plan.size,
            "etag": self._etag,
            "last_modified": self._last_modified,
            "ranges": plan.snapshot(),
            "sha256": self.expected_sha256,
            "started": time.time(),
            **{f"server_{name}": value for name, value in self._server.items()},
        }

    def _server_fingerprints(self, response: requests.Response) -> dict:
        """The server's CRC-64 and content MD5 of the object, when the catalog has no sha256."""
        if self.expected_sha256:
            return {}
        found = fingerprints.ServerFingerprints.from_headers(response.headers)
        server = {}
        if found.crc64 is not None:
            server["crc64"] = f"{found.crc64:016x}"
        if found.md5 is not None:
            server["md5"] = found.md5
        return server

    # -- one source -----------------------------------------------------------------------------

    def _download_from(self, url: str) -> None:
        library, entry = self.library, self.entry
        record = library.read_record(entry)
        part = library.part_path(entry)
        recorded_url = record.get("url")
        if not isinstance(recorded_url, str):
            recorded_url = ""
        if record and (display_url(recorded_url) != display_url(url) or not part.exists()):
            same_object = (
                record.get("size") and self.expected_sha256 and record.get("size") == self.expected_size
            )
            if not part.exists() or not same_object:
                library.drop_partial(entry)
                record = {}
        if (
            record
            and part.exists()
            and max((end for _, end in record.get("ranges", [])), default=0) > (part.stat().st_size)
        ):
            # The record claims more than the partial file holds (it was truncated or replaced).
            record = {}
        if record and not (record.get("etag") or record.get("last_modified") or self.expected_sha256):
            # Nothing could tell whether the object changed since: resuming might splice two versions.
            record = {}
        if not record and part.exists():
            library.drop_partial(entry)
        changes = attempts = 0
        self._one_stream = False
        while True:
            try:
                self._fetch(url, record)
                return
            except DownloadError as exc:
                if exc.kind is ErrorKind.INTEGRITY:
                    library.drop_partial(entry)  # bad data never waits around to be resumed
                raise
            except _Restart as restart:
                if restart.__cause__ is not None:
                    # A stream without ranges broke: it can only be fetched again from byte 0. When the
                    # retries are used up, the partial data stays (a later run may be able to resume).
                    attempts = self._retry_or_fail(restart.__cause__, attempts)
                    library.drop_partial(entry)
                    record = {}
                    continue
                library.drop_partial(entry)
                record = {}
                changes += 1
                if changes == 2:
                    # Changed again at once: more likely a server that names every answer anew (an ETag
                    # per request, as behind some balancers) than a file rewritten twice. One connection
                    # with one answer from byte 0 needs no validator and cannot splice two versions.
                    self._one_stream = True
                elif changes >= 3:
                    raise DownloadError(
                        entry.title,
                        "the file keeps changing on the server; try again later",
                        kind=ErrorKind.NETWORK,
                    ) from None

    def _fetch(self, url: str, record: dict) -> None:
        """Fetch into the partial file, then verify and move it into place."""
        entry = self.entry
        part = self.library.part_path(entry)
        self._part_id = None
        validator = record.get("etag") or record.get("last_modified")
        plan = _Plan(record.get("size"), record.get("ranges", []) if record.get("size") else [])
        if plan.size is not None and plan.complete() and part.exists():
            first = None
        else:
            first, plan = self._first_response(url, plan, validator, record)
        if first is None:
            # Complete already: the server's fingerprints are those recorded with the first answer.
            self._server = {
                name: record[f"server_{name}"]
                for name in ("crc64", "md5")
                if isinstance(record.get(f"server_{name}"), str)
            }
        self._record = self._fresh_record(url, plan) if first is not None else dict(record)
        with open_nofollow(part, "r+b", create=True) as fh:
            if plan.size is not None and os.fstat(fh.fileno()).st_size != plan.size and not plan.done:
                os.ftruncate(fh.fileno(), plan.size)
            st = os.fstat(fh.fileno())
        self._part_id = (st.st_dev, st.st_ino)
        stop_hash = threading.Event()
        # The MD5 only where the server sends no CRC-64: it costs more than the download itself on a fast
        # link (bench/bench_fingerprints.py), and the CRC already catches what changes in flight.
        prints = fingerprints.RunningFingerprints(
            crc="crc64" in self._server, md5="md5" in self._server and "crc64" not in self._server
        )
        hasher = _Hasher(part, plan, stop_hash, prints)
        hasher.start()
        failure: list[BaseException] = []
        workers: list[threading.Thread] = []
        stop_workers = threading.Event()
        self._ranged = bool(first and first[2])
        try:
            if first is not None:
                workers.append(self._spawn(url, plan, first[0], first[1], failure, stop_workers))
                if first[2]:  # the server accepts ranges and the size is known: add connections
                    for _ in range(max(0, self.options.connections - 1)):
                        slot = plan.take(self.options.min_segment)
                        if slot is None:
                            break
                        workers.append(self._spawn(url, plan, slot, None, failure, stop_workers))
            self._supervise(plan, workers, failure, stop_workers, url, ranged=bool(first and first[2]))
        finally:
            stop_workers.set()
            for slot in list(plan.slots):
                _shutdown(slot.response)
            for worker in workers:
                worker.join()
            if not plan.complete():
                stop_hash.set()
            hasher.join()
            self._save_record(plan, running=False)
        if hasher.error is not None:
            raise DownloadError(
                entry.title, f"cannot read back the partial file: {hasher.error}", kind=ErrorKind.DISK
            )
        self._prints = prints
        self._finish(plan, hasher.digest.hexdigest())

    def _first_response(self, url: str, plan: _Plan, validator: str | None, record: dict):
        """Open the first connection; it tells the size, the validators and whether ranges work."""
        attempts = 0
        while True:
            if self.abort.is_set():
                raise Aborted()
            start = plan.free[0][0] if plan.free else (plan.prefix() if plan.size is None else 0)
            if plan.size is None and plan.done:
                # Without a known size there is nothing to resume against.
                plan = _Plan(None, [])
                start = 0
            headers = {"Range": f"bytes={start}-"} if not self._one_stream else {}
            if validator and plan.done and not self._one_stream:
                headers["If-Range"] = validator
            self._emit_state("connecting")
            try:
                response = self._open(url, headers)
                if response.status_code == 416:
                    if plan.size is None and not plan.done and start == 0:
                        total = _unsatisfied_total(response)
                        if total == 0:  # an empty object: nothing to fetch, the (empty) file is complete
                            return None, _Plan(0, [])
                        # A 416 for byte 0 of a non-empty object is the server's hiccup: try again.
                        attempts = self._retry_or_fail(_Transient("416 Range Not Satisfiable"), attempts)
                        continue
                    plan = self._after_416(response, plan)
                    if plan.complete():
                        return None, plan
                    continue
                raise_for_status(response)
            except HttpStatusError as exc:
                attempts = self._retry_or_fail(exc, attempts)
                continue
            except NETWORK_ERRORS as exc:
                attempts = self._retry_or_fail(exc, attempts)
                continue
            if is_web_page(response):
                response.close()
                raise DownloadError(
                    self.entry.title,
                    "the server returned a web page, not a file "
                    f"({response.headers.get('content-type', '').split(';')[0]})",
                    kind=ErrorKind.HTTP,
                )
            self._refuse_compressed(response)
            self._etag = _strong_etag(response.headers.get("etag"))
            self._last_modified = response.headers.get("last-modified")
            self._server = self._server_fingerprints(response)
            if response.status_code == 206:
                match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
                if not match or match.group(3) == "*":
                    response.close()
                    raise DownloadError(self.entry.title, "the server sent an unusable Content-Range")
                got_start, total = int(match.group(1)), int(match.group(3))
                if plan.size is not None and total != plan.size or got_start != start:
                    response.close()
                    raise _Restart()
                if self.expected_size is not None and total != self.expected_size:
                    response.close()
                    raise DownloadError(
                        self.entry.title,
                        f"the server's file is {units.size(total)}, the "
                        f"catalog says {units.size(self.expected_size)}",
                        kind=ErrorKind.INTEGRITY,
                    )
                if plan.size is None:
                    plan = _Plan(total, [])
                self._preflight(total, plan.done_bytes(), response, plan)
                slot = plan.first_slot()
                return (slot, response, True), plan
            # 200: the whole object from byte 0; ranges unsupported, or the object changed.
            length = response.headers.get("content-length", "")
            size = int(length) if length.isdigit() else None
            if self.expected_size is not None and size is not None and size != self.expected_size:
                response.close()
                raise DownloadError(
                    self.entry.title,
                    f"the server's file is {units.size(size)}, the "
                    f"catalog says {units.size(self.expected_size)}",
                    kind=ErrorKind.INTEGRITY,
                )
            part = self.library.part_path(self.entry)
            if part.exists():
                with open_nofollow(part, "r+b") as fh:
                    os.ftruncate(fh.fileno(), 0)
            # Without a Content-Length the stream runs to its end; _finish compares that with the catalog.
            plan = _Plan(size, [])
            self._preflight(size if size is not None else self.expected_size, 0, response, plan)
            slot = plan.first_slot()
            # A 200 to a plain ranged request means the server ignores ranges: one stream only. A 200
            # after If-Range means the object changed; then more connections may still help.
            ranged = (
                "If-Range" in headers
                and size is not None
                and response.headers.get("accept-ranges", "").lower() == "bytes"
            )
            return (slot, response, ranged), plan

    def _after_416(self, response: requests.Response, plan: _Plan) -> _Plan:
        total = _unsatisfied_total(response)
        if total is not None and plan.size == total and plan.complete():
            return plan
        # Our idea of the file no longer fits the server's: start over from nothing.
        self.library.drop_partial(self.entry)
        return _Plan(None, [])

    def _retry_or_fail(self, exc: BaseException, attempts: int, stop: threading.Event | None = None) -> int:
        """Wait before the next attempt, or raise DownloadError when this error is final.

        ``stop`` (a worker's) ends the wait too, so one connection's failure is not held back by
        another connection sitting out a long Retry-After.
        """
        if isinstance(exc, HttpStatusError) and not exc.retryable:
            raise DownloadError(self.entry.title, str(exc), kind=ErrorKind.HTTP)
        reason = str(exc) if isinstance(exc, (HttpStatusError, _Transient)) else describe_network_error(exc)
        if attempts >= self.options.retries:
            raise DownloadError(
                self.entry.title, f"{reason} (gave up after {attempts + 1} attempts)", kind=ErrorKind.NETWORK
            )
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

    # -- workers --------------------------------------------------------------------------------

    def _spawn(self, url, plan, slot, response, failure, stop) -> threading.Thread:
        worker = threading.Thread(
            target=self._worker,
            args=(url, plan, slot, response, failure, stop),
            name="ofa-segment",
            daemon=True,
        )
        worker.start()
        return worker

    def _worker(
        self, url: str, plan: _Plan, slot: _Slot | None, response, failure: list, stop: threading.Event
    ):
        part = self.library.part_path(self.entry)
        attempts = 0
        try:
            with open_nofollow(part, "r+b") as fh:
                while slot is not None and not stop.is_set():
                    before = slot.pos
                    try:
                        if response is None:
                            response = self._open_segment(url, slot, plan.size)
                        slot.response = response
                        self._stream(response, fh, plan, slot, stop)
                        response = slot.response = None
                        slot.too_slow = False  # cut too late: the body had arrived (the kernel held it)
                        if slot.end is None:
                            with plan.cond:
                                plan.eof = True
                                plan.size = slot.pos
                                plan.cond.notify_all()
                            return
                    except NETWORK_ERRORS + (HttpStatusError,) as exc:
                        _close(response)
                        response = slot.response = None
                        if stop.is_set():
                            return
                        error: BaseException = exc
                        if slot.too_slow:
                            # A trickle is a stall: what it brought does not count as data flowing again.
                            slot.too_slow = False
                            error = _Transient(self._too_slow_reason())
                        elif slot.pos > before:
                            attempts = 0
                        if slot.end is None or not self._ranged:
                            # A stream without ranges cannot resume: start over from zero.
                            raise _Restart() from error
                        with self._lock:
                            self._reconnecting += 1
                        try:
                            attempts = self._retry_or_fail(error, attempts, stop)
                        finally:
                            with self._lock:
                                self._reconnecting -= 1
                    else:
                        # This share is done: on to free work, or half of the largest running share.
                        plan.release(slot)
                        slot = plan.take(self.options.min_segment)
                        attempts = 0
        except _Stopped:
            pass
        except (DownloadError, Aborted, _Restart, _DiskError) as exc:
            failure.append(exc)
            stop.set()
        except BaseException as exc:  # an unexpected failure must still end the transfer cleanly
            failure.append(DownloadError(self.entry.title, f"unexpected error: {exc!r}"))
            stop.set()
        finally:
            _close(response)
            if slot is not None:
                plan.release(slot)

    def _refuse_compressed(self, response: requests.Response) -> None:
        """Fail (another source may still serve it as is) when the body is compressed, not the file."""
        compression = compression_of(response, self.entry.filename)
        if compression is not None:
            response.close()
            raise DownloadError(
                self.entry.title,
                f"the server sent the file compressed (Content-Encoding: {compression}) although asked "
                "for it as is; those bytes are not the checkpoint",
                kind=ErrorKind.HTTP,
            )

    def _open_segment(self, url: str, slot: _Slot, size: int | None) -> requests.Response:
        if slot.end is None:  # an open-ended stream is never asked for by range: it starts over
            raise _Restart()
        headers = {"Range": f"bytes={slot.pos}-{slot.end - 1}"}
        validator = self._etag or self._last_modified
        if validator:
            headers["If-Range"] = validator
        response = self._open(url, headers)
        if response.status_code in (200, 416):
            # If-Range did not match, or the range no longer exists: the object changed.
            response.close()
            raise _Restart()
        raise_for_status(response)
        if response.status_code != 206 or is_web_page(response):
            response.close()
            raise DownloadError(self.entry.title, "the server stopped honouring byte ranges")
        self._refuse_compressed(response)
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if not match or int(match.group(1)) != slot.pos or (size is not None and match.group(3) != str(size)):
            response.close()
            raise _Restart()
        return response

    def _stream(self, response, fh, plan: _Plan, slot: _Slot, stop: threading.Event) -> None:
        """Copy the body into the file at the slot's offset until the slot is finished."""
        raw = response.raw
        # http.client's readinto fills one reusable buffer: no fresh 1 MiB object (and its page faults)
        # per chunk, which is what keeps one connection at the speed of curl.
        body = getattr(raw, "_fp", None)
        readinto = getattr(body, "readinto", None)
        view = memoryview(bytearray(self.options.chunk))
        limiter = self.limiter
        # A read returns only when its whole chunk has arrived; on a slow link a 1 MiB read would hold
        # back progress and the resume record (what a kill -9 keeps) for many seconds. Reads are sized
        # to about READ_SECONDS of this connection's speed, so a fast link soon reads whole chunks.
        # At the speed floor a read must still end well within the stall timeout: the floor sees progress
        # only when a read returns, and a good but slow link must not look like a trickle.
        floor = self._speed_floor()
        least = min(MIN_READ, max(1024, int(floor * self.options.timeout / 4))) if floor else MIN_READ
        step = min(least, self.options.chunk)
        # Where this answer's body ends, when it is a range: it may end before the slot does.
        served = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        served_end = int(served.group(2)) + 1 if response.status_code == 206 and served else None
        fh.seek(slot.pos)
        while not stop.is_set():
            if self.abort.is_set():
                raise Aborted()
            want = plan.claim(slot, min(step, limiter.chunk_size(self.options.chunk)))
            if want == 0:
                break
            began = time.monotonic()
            if readinto is not None:
                chunk = view[: readinto(view[:want])]
            else:
                chunk = memoryview(raw.read(want, decode_content=False))
            took = max(time.monotonic() - began, 1e-3)
            step = max(least, min(self.options.chunk, int(len(chunk) / took * READ_SECONDS)))
            expected = self.expected_size
            if not chunk:
                if served_end is not None and slot.pos >= served_end:
                    # A shorter range than asked, complete (a server may send less): the rest goes back
                    # to the plan and is asked for at once, with no backoff pause, as curl and aria2 do.
                    break
                if slot.end is not None or (expected is not None and slot.pos < expected):
                    raise urllib3.exceptions.ProtocolError("connection dropped mid-transfer")
                break
            if slot.end is None and expected is not None and slot.pos + len(chunk) > expected:
                raise DownloadError(
                    self.entry.title,
                    f"the server sent more than the catalog's size "
                    f"({units.size(expected)}); the data was not kept",
                    kind=ErrorKind.INTEGRITY,
                )
            try:
                pending = chunk
                while pending:
                    pending = pending[fh.write(pending) :]
            except OSError as exc:
                raise _DiskError(exc) from exc
            plan.advance(slot, len(chunk))
            limiter.consume(len(chunk), self.abort)
        fully_read = (
            body.isclosed() if body is not None and readinto is not None else raw.length_remaining == 0
        )
        if fully_read:
            raw.release_conn()  # the connection goes back to the pool for the next range
        else:
            # The slot was shortened by a helper connection: the rest of this body is not ours.
            _close(response)

    # -- supervision and finishing --------------------------------------------------------------

    def _supervise(self, plan: _Plan, workers, failure, stop, url: str, ranged: bool) -> None:
        """Report progress, save the resume record, and lend idle capacity while workers run."""
        last_record = last_watch = time.monotonic()
        while True:
            alive = [w for w in workers if w.is_alive()]
            if not alive:
                break
            if failure or self.abort.is_set():
                # Wake every connection now: a failure must not wait for the others' timeouts.
                stop.set()
                for slot in list(plan.slots):
                    _shutdown(slot.response)
                shutdown_connections(self.session)
                break
            now = time.monotonic()
            if now - last_watch >= WATCH_EVERY:
                last_watch = now
                if self._part_removed():
                    failure.append(self._removed_error())
                    continue
                self._cut_slow_connections(plan, now)
            if now - last_record >= RECORD_EVERY:
                self._save_record(plan)
                last_record = now
            with self._lock:
                state = "stalled" if self._reconnecting else "downloading"
            self._emit_progress(plan, state, len(alive))
            with plan.cond:
                plan.cond.wait(PROGRESS_EVERY)
        for worker in workers:
            worker.join()
        if self.abort.is_set():
            raise Aborted()
        for exc in failure:
            if isinstance(exc, _Restart):
                raise exc
        for exc in failure:
            if isinstance(exc, _DiskError):
                raise DownloadError(
                    self.entry.title, f"cannot write to the models folder: {exc}", kind=ErrorKind.DISK
                )
            if isinstance(exc, (DownloadError, Aborted)):
                raise exc
        if not plan.complete():
            raise DownloadError(
                self.entry.title, "the download ended before the file was complete", kind=ErrorKind.NETWORK
            )

    def _cut_slow_connections(self, plan: _Plan, now: float) -> None:
        """Cut a connection whose body trickles below the speed floor for the stall timeout."""
        floor, window = self._speed_floor(), self.options.timeout
        if not floor:
            return
        for slot in list(plan.slots):
            response, samples = slot.response, slot.samples
            if response is None or (samples and samples[-1][2] is not response):
                samples.clear()  # a new answer starts a new window
                if response is None:
                    continue
            samples.append((now, slot.pos, response))
            while len(samples) > 2 and now - samples[1][0] >= window:
                samples.popleft()
            began, pos, _ = samples[0]
            if now - began >= window and slot.pos - pos < floor * (now - began):
                slot.too_slow = True
                samples.clear()
                _shutdown(response)  # the worker's read fails; it reconnects as after any stall

    def _speed_floor(self) -> int:
        floor = max(0, self.options.min_speed)
        rate = self.limiter.rate
        # Under a bandwidth limit a connection is slow on purpose: never below its smallest share.
        return min(floor, rate // LIMIT_SHARES) if rate else floor

    def _too_slow_reason(self) -> str:
        return (
            f"stalled: under {units.rate(self._speed_floor())} for {self.options.timeout:g} s "
            "(no byte counts below that speed)"
        )

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

    def _finish(self, plan: _Plan, digest: str) -> None:
        entry, library = self.entry, self.library
        if self._part_removed():
            raise self._removed_error()
        self._emit_state("verifying", force=True)
        part = library.part_path(entry)
        size = plan.size if plan.size is not None else part.stat().st_size
        if part.stat().st_size != size:
            with open_nofollow(part, "r+b") as fh:
                os.ftruncate(fh.fileno(), size)
        if self.expected_sha256 and digest != self.expected_sha256:
            reason = f"sha256 mismatch: expected {self.expected_sha256[:12]}…, got {digest[:12]}…"
            self._reject(reason, check="sha256", expected=self.expected_sha256, found=digest, digest=digest)
        if self.expected_size is not None and size != self.expected_size:
            library.drop_partial(entry)
            raise DownloadError(
                entry.title,
                f"size mismatch: expected {self.expected_size} bytes, got {size}; the bad data was discarded",
                kind=ErrorKind.INTEGRITY,
            )
        server = {} if self.expected_sha256 else self._server
        prints = self._prints  # what the hasher computed besides the sha256 (see _fetch)
        computed_crc = prints.crc if prints is not None else None
        computed_md5 = prints.md5() if prints is not None else None
        verified_by, mismatch = fingerprints.check(server, computed_crc, computed_md5)
        if mismatch:
            check = "crc64" if mismatch.startswith("CRC") else "md5"
            found = f"{computed_crc:016x}" if check == "crc64" else computed_md5
            self._reject(mismatch, check=check, expected=server.get(check), found=found, digest=digest)
        if self.expected_sha256:
            verified_by = "sha256"
        final = library.path(entry)
        # Only our own file, found corrupt, is replaced; anything else that appeared there meanwhile stays.
        current = library.status(entry)
        if current.state is State.FOREIGN:
            raise DownloadError(entry.title, self._not_ours(current), kind=ErrorKind.NOT_OURS)
        with open_nofollow(part, "r+b") as fh:
            os.fsync(fh.fileno())
            written = os.fstat(fh.fileno())
        record = self._record
        # Metadata first: a crash before the rename leaves a complete partial file that the next run
        # hashes and moves; a crash after it leaves a final file that is known to be ours.
        library.write_meta(
            entry,
            {
                "url": display_url(self._url),
                "catalog_url": display_url(entry.url),
                "etag": record.get("etag"),
                "last_modified": record.get("last_modified"),
                "size": size,
                "sha256": digest,
                "verified": bool(self.expected_sha256),
                # What the bytes were checked against, known before they arrived (see fingerprints).
                "verified_by": verified_by,
                "server_crc64": server.get("crc64"),
                "server_md5": server.get("md5"),
                "crc64": f"{computed_crc:016x}" if computed_crc is not None else None,
                "md5": computed_md5,
                "state": "ok",
                "downloaded_at": units.timestamp(),
                # With the size, what tells later that the file at the final path is still this one.
                "mtime_ns": written.st_mtime_ns,
            },
        )
        try:
            place_file(part, final, replace=current.state is State.CORRUPT)
        except FileNotFoundError:
            # Removed (rm) between the check above and here: the metadata must not outlive it.
            library.forget(entry)
            raise self._removed_error() from None
        except NotOursError:
            library.forget(entry)  # the metadata describes our data, which stays in the partial file
            raise
        # Best effort: a rename lost in a crash leaves the complete partial file, which the next run moves.
        sync_folder(final.parent, on_error=OnError.IGNORE)
        library.drop_rejected(entry)  # an earlier rejected copy is superseded by the good one
        try:
            library.record_path(entry).unlink()
        except FileNotFoundError:
            pass
        self._emit(Progress(size, size, 0.0, 0.0, "done", 0, display_url(self._url)), force=True)

    def _reject(self, reason: str, *, check: str, expected, found, digest: str):
        """Keep the finished data that failed its check as NAME.rejected (not thrown away: a wrong
        catalog hash must not cost a second download), then fail as an integrity error."""
        entry = self.entry
        kept = self.library.quarantine(
            entry,
            {
                "check": check,
                "reason": reason,
                "expected": expected,
                "found": found,
                "sha256": digest,
                "url": display_url(self._url),
                "etag": self._record.get("etag"),
                "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        if kept is None:
            raise DownloadError(
                entry.title, f"{reason}; the bad data was discarded", kind=ErrorKind.INTEGRITY
            )
        raise DownloadError(
            entry.title,
            f"{reason}; kept as {kept.name} (`ofa-manager accept {entry.id}` keeps it anyway, "
            f"`ofa-manager rm --rejected {entry.id}` deletes it)",
            kind=ErrorKind.INTEGRITY,
        )

    # -- progress -------------------------------------------------------------------------------

    def _emit_state(self, state: str, *, force: bool = False, message: str = "") -> None:
        self._state = state
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


def _unsatisfied_total(response: requests.Response) -> int | None:
    """The object's size from a 416 answer's ``Content-Range: bytes */SIZE``."""
    match = re.match(r"bytes\s+\*/(\d+)", response.headers.get("content-range", ""))
    response.close()
    return int(match.group(1)) if match else None


def _strong_etag(value: str | None) -> str | None:
    """A weak ETag cannot be used in If-Range; the Last-Modified date is used instead."""
    if not value or value.startswith("W/"):
        return None
    return value


def _close(response) -> None:
    if response is not None:
        try:
            response.close()
        except Exception:
            pass


def _shutdown(response) -> None:
    """Wake a worker blocked in recv() so pause and cancel take effect at once."""
    if response is None:
        return
    try:
        sock = response.raw.connection.sock
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:
        pass


def _datasync(fd: int) -> None:
    try:
        (getattr(os, "fdatasync", None) or os.fsync)(fd)
    except OSError:
        pass
