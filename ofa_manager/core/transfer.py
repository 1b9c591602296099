"""One file's download: where it comes from, resuming, the first answer, retries; the parts it runs."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from pathlib import Path

import requests

from ofa_manager.core import fingerprints, mirrors, units
from ofa_manager.core.catalog import display_url
from ofa_manager.core.connections import _CONTENT_RANGE, Connections, _close, _shutdown
from ofa_manager.core.file_status import NotOursError, State, UnsafePathError
from ofa_manager.core.finishing import Finishing
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.http import HttpStatusError, is_web_page, raise_for_status, shutdown_connections
from ofa_manager.core.safe_files import free_space, open_nofollow, path_kind
from ofa_manager.core.segments import _Hasher, _Plan
from ofa_manager.core.space import SpaceCheck, held_by_others
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import (
    NETWORK_ERRORS,
    Aborted,
    DownloadError,
    Progress,
    _Restart,
    _Transient,
)


class Transfer(Connections, Finishing):
    """Download the file behind ``entry`` into ``library``; entries sharing the URL share the file.

    Call ``run()`` in a worker thread. ``abort`` stops it (partial data kept, ``Aborted`` raised);
    ``on_progress`` receives ``Progress`` snapshots about ten times a second.
    """

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
        from ofa_manager.core.names import adopt_earlier_name

        # A file (or partial data) kept under the name an earlier version chose is used, not fetched anew.
        adopt_earlier_name(library, entry)
        if library.status(entry).state is State.DOWNLOADED:
            return final
        library.root.mkdir(parents=True, exist_ok=True)
        lock = library.lock(entry)
        # "waiting" means another process holds the file: _try_lock reports it only when that is so.
        while not self._try_lock(lock):
            if self.abort.is_set():
                raise Aborted()
        try:
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
        progress = Progress(
            other.done, other.total, 0.0, None, "waiting", 0, display_url(self._url), other.sentence()
        )
        self._emit(progress)

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
                if library.adopt(entry, cancelled=self.abort.is_set):
                    return True
                if self.abort.is_set():  # paused or cancelled while the file was hashed: not a verdict
                    raise Aborted()
        return False

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

    def _download_from(self, url: str) -> None:
        library, entry = self.library, self.entry
        record = library.read_record(entry)  # {} when it claims more than the partial file holds
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
            first, plan = self._first_response(url, plan, validator)
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
        supervised = False
        try:
            if first is not None:
                workers.append(self._spawn(url, plan, first[0], first[1], failure, stop_workers))
                if first[2]:  # the server accepts ranges and the size is known: add connections
                    for _ in range(max(0, self.options.connections - 1)):
                        slot = plan.take(self.options.min_segment)
                        if slot is None:
                            break
                        workers.append(self._spawn(url, plan, slot, None, failure, stop_workers))
            self._supervise(plan, workers, failure, stop_workers)
            supervised = True
        finally:
            stop_workers.set()
            for slot in list(plan.slots):
                _shutdown(slot.response)
            for worker in workers:
                worker.join()
            if not plan.complete():
                stop_hash.set()
            hasher.join()
            try:
                self._save_record(plan, running=False)
            except OSError:
                # A full disk fails the record too: that must not hide why the download stopped.
                if supervised:
                    raise
        if hasher.error is not None:
            raise DownloadError(
                entry.title, f"cannot read back the partial file: {hasher.error}", kind=ErrorKind.DISK
            )
        self._prints = prints
        self._finish(plan, hasher.digest.hexdigest())

    def _first_response(self, url: str, plan: _Plan, validator: str | None):
        """Open the first connection; it tells the size, the validators and whether ranges work."""
        attempts = 0
        while True:
            if self.abort.is_set():
                raise Aborted()
            # A plan without a size holds no done ranges (a resume record needs the size): it starts at 0.
            start = plan.free[0][0] if plan.free else 0
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
                    # The range asked for no longer exists: the object changed (a complete partial file never
                    # gets here, it is finished offline). Start over from nothing.
                    response.close()
                    self.library.drop_partial(self.entry)
                    plan = _Plan(None, [])
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
