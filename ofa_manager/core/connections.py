"""One connection's GET loop and the supervisor of a file's connections: segments, stalls, slow links."""

from __future__ import annotations

import re
import socket
import threading
import time

import requests
import urllib3.exceptions

from ofa_manager.core import units
from ofa_manager.core.http import (
    HttpStatusError,
    compression_of,
    is_web_page,
    raise_for_status,
    shutdown_connections,
)
from ofa_manager.core.safe_files import open_nofollow
from ofa_manager.core.segments import _Plan, _Slot
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import (
    NETWORK_ERRORS,
    PROGRESS_EVERY,
    Aborted,
    DownloadError,
    _DiskError,
    _Restart,
    _Stopped,
    _Transient,
)
from ofa_manager.core.transfer_state import TransferState

RECORD_EVERY = 1.0
MIN_READ = 64 * 1024
READ_SECONDS = 0.25
# How often the supervisor looks at each connection's speed and at the partial file on disk.
WATCH_EVERY = 0.1
# The speed floor under a bandwidth limit: the limit may be shared by up to 8 downloads of 16 connections.
LIMIT_SHARES = 128
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class Connections(TransferState):
    """The part of a download that moves bytes: a worker thread a connection, each streaming its
    segment into the partial file, and the supervisor that watches their speed and the file."""

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
                        if slot.end is None and not stop.is_set():
                            # The stream's own end (not a pause or another connection's failure): its
                            # length is the file's size.
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
        # per chunk, which is what keeps one connection at the speed of curl. urllib3's response wraps an
        # http.client response (`_fp`), which undoes the chunked coding and never decodes the content.
        body = raw._fp
        readinto = body.readinto
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
            chunk = view[: readinto(view[:want])]
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
        if body.isclosed():
            raw.release_conn()  # the connection goes back to the pool for the next range
        else:
            # The slot was shortened by a helper connection: the rest of this body is not ours.
            _close(response)

    def _supervise(self, plan: _Plan, workers, failure, stop) -> None:
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
            _watch_speed(slot, now, floor, window)

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


def _watch_speed(slot: _Slot, now: float, floor: int, window: float) -> None:
    """One connection's window of (time, position) samples: cut it when, over the whole window, it brought
    less than the floor asks for. A connection with no answer (waiting to reconnect) is no trickle."""
    response, samples = slot.response, slot.samples
    if response is None or (samples and samples[-1][2] is not response):
        samples.clear()  # a new answer starts a new window
    if response is None:
        return
    samples.append((now, slot.pos, response))
    while len(samples) > 2 and now - samples[1][0] >= window:
        samples.popleft()
    began, pos, _ = samples[0]
    if now - began >= window and slot.pos - pos < floor * (now - began):
        slot.too_slow = True
        samples.clear()
        _shutdown(response)  # the worker's read fails; it reconnects as after any stall


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
