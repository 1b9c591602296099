"""Loopback HTTP/1.1 server with ranges, validators and fault knobs: the only peer of tests and benchmarks."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import email.utils
import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

__all__ = [
    "FAULT_KNOBS",
    "HTML_ERROR_PAGE",
    "CannedAnswer",
    "RequestRecord",
    "Route",
    "TestServer",
    "crc64_xz",
    "md5_etag",
    "main",
    "oss_headers",
]

# In-memory bodies go out in 1 MiB memoryview slices: no copies, few syscalls.
MEMORY_SLICE = 1 << 20
# Each sendfile call is bounded so bytes_sent in the request log moves during long transfers.
SENDFILE_CHUNK = 16 << 20
HASH_BLOCK = 1 << 20

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n"
    b"<body><h1>Access denied</h1><p>You do not have permission to access this object.</p></body></html>\n"
)

FAULT_KNOBS = frozenset(
    {
        "drop_after",
        "drop_times",
        "ignore_range",
        "stall_after",
        "stall_seconds",
        "stall_times",
        "stall_close",
        "stall_until",
        "change_after",
        "changed_data",
        "statuses",
        "html_error",
        "no_length",
        "rate",
        "redirect_to",
        "redirect_status",
        "require_token",
        "content_encoding",
        "content_encoding_after",
        "short_ranges",
        "shift_ranges",
        "shift_times",
        "etag_per_request",
        "trickle_after",
        "trickle_rate",
        "trickle_times",
        "corrupt_at",
        "corrupt_times",
    }
)

# A canned answer: a bare status, or (status, headers) / (status, headers, body); a ":reason" among the
# headers is the status line's own phrase instead of the standard one. None among a route's statuses serves
# that request as usual: the canned answers after it are for later requests (a reconnect, a segment).
CannedAnswer = int | tuple[int, Mapping[str, str]] | tuple[int, Mapping[str, str], bytes] | None

_RANGE_RE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)
_UNSATISFIABLE = (-1, -1)
_INVERT = bytes(range(255, -1, -1))


class _Aborted(OSError):
    """The response cannot go on (server stopping, file shrank); handled like a vanished peer."""


@dataclass
class RequestRecord:
    """What the server saw and answered for one request; headers have lowercase names."""

    method: str
    path: str
    headers: dict[str, str]
    range: str | None
    if_range: str | None
    connection: int
    status: int = 0
    # Body bytes handed to the socket; the last slice may be cut short if the peer went away.
    bytes_sent: int = 0
    done: bool = False


@dataclass(frozen=True)
class _Content:
    data: bytes | None
    file: Path | None
    size: int
    etag: str | None
    mtime: int | None


@dataclass
class _Plan:
    kind: str
    content: _Content | None = None
    canned: tuple[int, dict[str, str], bytes] | None = None
    no_length: bool = False
    ignore_range: bool = False
    rate: int | None = None
    content_encoding: str | None = None
    short_ranges: int | None = None


@dataclass
class _Stall:
    at: int
    seconds: float
    close: bool
    until: threading.Event | None = None


def _quote_etag(value: str) -> str:
    if value.startswith('"') or value.startswith('W/"'):
        return value
    return f'"{value}"'


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _canned(item: CannedAnswer) -> tuple[int, dict[str, str], bytes]:
    if isinstance(item, int):
        status, headers, body = item, {}, None
    else:
        status, headers, body = item[0], dict(item[1]), (item[2] if len(item) > 2 else None)  # type: ignore[misc]
    if body is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        body = f"{status} {phrase}".strip().encode() + b"\n"
    return status, dict(headers), body


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) of a single byte range, None to ignore it, or _UNSATISFIABLE."""
    match = _RANGE_RE.fullmatch(header)
    if match is None:
        # Multiple ranges or other syntax: ignoring Range and sending 200 is always allowed.
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return _UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return _UNSATISFIABLE
    return start, min(end, size - 1)


def _if_range_matches(value: str, content: _Content) -> bool:
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        # Ranges may only be validated by strong comparison.
        etag = content.etag
        return etag is not None and not etag.startswith("W/") and value == etag
    if content.mtime is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp()) == content.mtime


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64_xz(data: bytes) -> int:
    """CRC-64/XZ (ECMA-182 reflected, init and xorout all ones), as Alibaba OSS sends it.

    A plain table loop, independent of the library the client uses: the reference the tests trust.
    """
    crc = 0xFFFFFFFFFFFFFFFF
    table = _CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def oss_headers(data: bytes, *, crc: int | None = None) -> dict[str, str]:
    """The CRC-64 header Alibaba OSS sends with an object (``crc`` to send a wrong one)."""
    return {"x-oss-hash-crc64ecma": str(crc64_xz(data) if crc is None else crc)}


def md5_etag(data: bytes, parts: int | None = None) -> str:
    """An object store's ETag: the content's MD5 (uppercase, as OSS sends it), or a multipart
    ``<hex>-<parts>`` that is not the content's MD5."""
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest().upper()
    if parts is None:
        return f'"{digest}"'
    return f'"{hashlib.md5(digest.encode(), usedforsecurity=False).hexdigest().upper()}-{parts}"'


def _hash_file(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return f'"{digest.hexdigest()}"'


class Route:
    """One object served at one path; every fault knob is a plain attribute that may change at any time."""

    def __init__(
        self,
        path: str,
        data: bytes | None = None,
        *,
        file: Path | str | None = None,
        etag: str | bool | None = True,
        last_modified: bool = True,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        **faults: Any,
    ) -> None:
        unknown = set(faults) - FAULT_KNOBS
        if unknown:
            raise TypeError(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        if (data is None) == (file is None):
            raise ValueError("give exactly one of data or file")
        self._lock = threading.RLock()
        self.path = path
        self.content_type = content_type
        # Sent with every answer that carries the object (as object storage sends its own fingerprints).
        self.headers: dict[str, str] = dict(headers or {})
        self.send_last_modified = last_modified
        self._data: bytes | None = None
        self._file: Path | None = None
        self._data_etag: str | None = None
        self._file_etag_key: tuple[int, int, int] | None = None
        self._file_etag: str | None = None
        self._mtime = int(time.time())
        self._etag_mode: str | bool | None = True
        self.etag = etag
        if file is not None:
            self.file = Path(file)
        else:
            self._set_data(data, bump=False)  # type: ignore[arg-type]

        # Close the connection after this many body bytes, for the next drop_times responses.
        self.drop_after: int | None = None
        self.drop_times: int = 1
        # Answer ranged requests with 200 and the full body, without Accept-Ranges.
        self.ignore_range: bool = False
        # After stall_after body bytes send nothing for stall_seconds, then go on (or close if stall_close).
        self.stall_after: int | None = None
        self.stall_seconds: float = 1.0
        self.stall_times: int = 1
        self.stall_close: bool = False
        # Or, when this event is given, send nothing after stall_after until the test sets it: a download
        # that stays part-way for as long as a test needs, whatever the machine's speed.
        self.stall_until: threading.Event | None = None
        # After change_after more GETs the content becomes changed_data (default: every byte inverted).
        self._change_after: int | None = None
        self._gets_toward_change = 0
        self.changed_data: bytes | None = None
        # Canned answers consumed one per request before normal serving (None: that request served as usual).
        self._statuses: list[CannedAnswer] = []
        # 200 with a small text/html page instead of the object (how object storage shows a denial).
        self.html_error: bool = False
        # No Content-Length and no ranges: the body ends when the connection closes.
        self.no_length: bool = False
        # Bytes per second per connection.
        self.rate: int | None = None
        # Answer every request with a redirect to this URL.
        self.redirect_to: str | None = None
        self.redirect_status: int = 302
        # Answer 401 unless the request carries "Authorization: Bearer <require_token>" (as a private
        # bucket behind a token does); redirects are answered before this check, like a front door.
        self.require_token: str | None = None
        # Label the body as compressed ("gzip"), whatever the client accepts, as a misbehaving proxy
        # does; the bytes themselves are sent unchanged. Only once content_encoding_after GETs were
        # served (HEAD answers after that are labelled too).
        self.content_encoding: str | None = None
        self.content_encoding_after: int = 0
        # Answer a range with at most this many bytes: a shorter range than asked (RFC 9110 allows it).
        self.short_ranges: int | None = None
        # Answer a range that does not start at 0 with one starting this many bytes earlier, honestly
        # labelled in its Content-Range (a cache or proxy that aligns ranges); for shift_times answers.
        self.shift_ranges: int | None = None
        self.shift_times: int = 1
        # A new ETag on every answer, as behind a balancer whose nodes name the same object differently:
        # an If-Range never matches.
        self.etag_per_request: bool = False
        self._etag_serial = 0
        # After trickle_after body bytes, the rest goes at trickle_rate bytes/s in small pieces, often
        # enough that no read times out; for trickle_times responses.
        self.trickle_after: int | None = None
        self.trickle_rate: int = 200
        self.trickle_times: int = 1
        # Invert the byte at this offset of the object in the next corrupt_times bodies that carry it
        # (a bit flipped in flight: the length and every header stay right).
        self.corrupt_at: int | None = None
        self.corrupt_times: int = 1

        # Counters: every request that reached this route, and the GETs that were served the object.
        self.hits = 0
        self.gets = 0
        for name, value in faults.items():
            setattr(self, name, value)

    # Content -----------------------------------------------------------------------------------------

    @property
    def data(self) -> bytes:
        """The current content (read from disk for a file route)."""
        with self._lock:
            if self._data is not None:
                return self._data
            assert self._file is not None
            return self._file.read_bytes()

    @data.setter
    def data(self, value: bytes) -> None:
        self._set_data(value, bump=True)

    @property
    def file(self) -> Path | None:
        """The file served, or None when the content is in memory."""
        return self._file

    @file.setter
    def file(self, value: Path | str) -> None:
        with self._lock:
            self._file = Path(value)
            self._data = None
            self._data_etag = None
            # Hash now, so the first request (often the timed one) does not pay for it.
            if self._etag_mode is True:
                self._auto_file_etag(os.stat(self._file))

    @property
    def size(self) -> int:
        return self._snapshot().size

    @property
    def etag(self) -> str | None:
        """The ETag currently sent, or None."""
        return self._snapshot().etag

    @etag.setter
    def etag(self, value: str | bool | None) -> None:
        """True: sha1 of the content; a string: sent as is (quoted if bare); None/False: no ETag."""
        with self._lock:
            if value is True:
                self._etag_mode = True
            elif value is None or value is False:
                self._etag_mode = None
            else:
                self._etag_mode = _quote_etag(value)

    @property
    def last_modified(self) -> str | None:
        """The Last-Modified date currently sent, or None."""
        mtime = self._snapshot().mtime
        return None if mtime is None else _http_date(mtime)

    @property
    def mtime(self) -> int:
        """Last-Modified as a Unix time; settable for in-memory content (use os.utime for files)."""
        with self._lock:
            if self._file is not None:
                return int(os.stat(self._file).st_mtime)
            return self._mtime

    @mtime.setter
    def mtime(self, value: float) -> None:
        with self._lock:
            self._mtime = int(value)

    @property
    def change_after(self) -> int | None:
        return self._change_after

    @change_after.setter
    def change_after(self, value: int | None) -> None:
        with self._lock:
            # Counted from now, so arming it mid-test means "after N more GETs".
            self._change_after = value
            self._gets_toward_change = 0

    @property
    def statuses(self) -> list[CannedAnswer]:
        return self._statuses

    @statuses.setter
    def statuses(self, value: list[CannedAnswer]) -> None:
        with self._lock:
            self._statuses = list(value)

    def _set_data(self, value: bytes, bump: bool) -> None:
        value = bytes(value)
        with self._lock:
            self._data = value
            self._file = None
            self._data_etag = f'"{hashlib.sha1(value).hexdigest()}"'
            if bump:
                # Last-Modified has one-second resolution: a change must still move it.
                self._mtime = max(int(time.time()), self._mtime + 1)

    def _auto_file_etag(self, stat: os.stat_result) -> str:
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key != self._file_etag_key or self._file_etag is None:
            assert self._file is not None
            self._file_etag = _hash_file(self._file)
            self._file_etag_key = key
        return self._file_etag

    def _snapshot(self) -> _Content:
        with self._lock:
            if self._file is not None:
                stat = os.stat(self._file)
                size, mtime = stat.st_size, int(stat.st_mtime)
                auto = self._auto_file_etag(stat) if self._etag_mode is True else None
            else:
                assert self._data is not None
                size, mtime, auto = len(self._data), self._mtime, self._data_etag
            etag = auto if self._etag_mode is True else self._etag_mode
            return _Content(
                data=self._data,
                file=self._file,
                size=size,
                etag=etag if isinstance(etag, str) else None,
                mtime=mtime if self.send_last_modified else None,
            )

    # Per-request decisions ---------------------------------------------------------------------------

    def _begin(self, method: str, authorization: str | None = None) -> _Plan:
        with self._lock:
            self.hits += 1
            canned = self._statuses.pop(0) if self._statuses else None
            if canned is not None:
                return _Plan("canned", canned=_canned(canned))
            if self.redirect_to:
                return _Plan("canned", canned=(self.redirect_status, {"Location": self.redirect_to}, b""))
            if self.require_token is not None and authorization != f"Bearer {self.require_token}":
                challenge = {"WWW-Authenticate": 'Bearer realm="test"'}
                return _Plan("canned", canned=(401, challenge, b"a token is required\n"))
            if self.html_error:
                html = {"Content-Type": "text/html; charset=utf-8"}
                return _Plan("canned", canned=(200, html, HTML_ERROR_PAGE))
            if method == "GET":
                self.gets += 1
                if self._change_after is not None:
                    self._gets_toward_change += 1
                    if self._gets_toward_change > self._change_after:
                        self._apply_change()
            content = self._snapshot()
            if self.etag_per_request:
                self._etag_serial += 1
                content = dataclasses.replace(content, etag=f'"answer-{self._etag_serial}"')
            return _Plan(
                "content",
                content=content,
                no_length=self.no_length,
                ignore_range=self.ignore_range,
                rate=self.rate,
                content_encoding=self.content_encoding if self.gets > self.content_encoding_after else None,
                short_ranges=self.short_ranges,
            )

    def _apply_change(self) -> None:
        new = self.changed_data
        if new is None:
            # Inverting every byte changes even uniform content (reversing zeros would not).
            new = self.data.translate(_INVERT) if self.size else b"changed"
        self._set_data(new, bump=True)
        self._change_after = None
        self.changed_data = None

    def _arm(self, body_length: int) -> tuple[int | None, _Stall | None, tuple[int, int] | None]:
        """Consume the drop, stall and trickle faults that fall inside a body of this length."""
        with self._lock:
            drop_at = None
            if self.drop_after is not None and self.drop_times > 0 and self.drop_after < body_length:
                drop_at = self.drop_after
                self.drop_times -= 1
                if self.drop_times <= 0:
                    self.drop_after, self.drop_times = None, 1
            stall = None
            if self.stall_after is not None and self.stall_times > 0 and self.stall_after < body_length:
                stall = _Stall(self.stall_after, self.stall_seconds, self.stall_close, self.stall_until)
                self.stall_times -= 1
                if self.stall_times <= 0:
                    self.stall_after, self.stall_times = None, 1
            trickle = None
            if self.trickle_after is not None and self.trickle_times > 0 and self.trickle_after < body_length:
                trickle = (self.trickle_after, max(1, self.trickle_rate))
                self.trickle_times -= 1
                if self.trickle_times <= 0:
                    self.trickle_after, self.trickle_times = None, 1
            return drop_at, stall, trickle

    def _arm_shift(self, start: int) -> int:
        """How many bytes earlier than asked this ranged answer starts (0: as asked)."""
        with self._lock:
            if not self.shift_ranges or self.shift_times <= 0 or start < self.shift_ranges:
                return 0
            self.shift_times -= 1
            return self.shift_ranges

    def _arm_corruption(self, start: int, length: int) -> int | None:
        """The offset to corrupt in a body of ``length`` bytes from ``start``, consuming one use."""
        with self._lock:
            at = self.corrupt_at
            if at is None or self.corrupt_times <= 0 or not start <= at < start + length:
                return None
            self.corrupt_times -= 1
            if self.corrupt_times <= 0:
                self.corrupt_at, self.corrupt_times = None, 1
            return at

    def __repr__(self) -> str:
        where = f"file={self._file}" if self._file is not None else f"{len(self._data or b'')} bytes"
        return f"<Route {self.path} {where}>"


class _Pacer:
    """Spaces writes so slice k leaves at start + bytes_through_k / rate on the monotonic clock."""

    def __init__(self, rate: int, stopping: threading.Event) -> None:
        self.rate = rate
        self.stopping = stopping
        self.began = time.monotonic()
        self.sent = 0
        # About 100 writes a second: smooth enough for a 4 MB/s benchmark, cheap enough for the CPU.
        self.slice = max(1024, min(64 * 1024, rate // 100))

    def wait_for(self, count: int) -> None:
        delay = self.began + (self.sent + count) / self.rate - time.monotonic()
        if delay > 0 and self.stopping.wait(delay):
            raise _Aborted("server stopping")
        self.sent += count

    def shift(self, seconds: float) -> None:
        self.began += seconds


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ofa-testserver/1.0"

    # Headers and body go out as separate writes; Nagle would hold the body back on keep-alive.
    disable_nagle_algorithm = True
    server: _HTTPD
    _record: RequestRecord

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log is what tests look at."""

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            # The peer went away or stop() shut the socket: not worth a traceback.
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        self._record = owner._open_record(self)
        try:
            route = owner.route(self.path)
            plan = None
            if route is not None:
                try:
                    plan = route._begin(self.command, self.headers.get("Authorization"))
                except FileNotFoundError:
                    plan = None
            if plan is None:
                self._send_canned(*_canned(404), head=head)
            elif plan.kind == "canned":
                assert plan.canned is not None
                self._send_canned(*plan.canned, head=head)
            else:
                assert route is not None
                self._send_content(route, plan, head)
        finally:
            owner._close_record(self._record)

    def _start(self, status: int, reason: str | None = None) -> None:
        self._record.status = status
        self.send_response(status, reason)

    def _finish_headers(self) -> None:
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_canned(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        # A ":reason" entry is the status line's own phrase (a proxy's "503 Upstream timed out").
        headers = dict(headers)
        self._start(status, headers.pop(":reason", None))
        names = {name.lower() for name in headers}
        for name, value in headers.items():
            self.send_header(name, value)
        bodiless = status < 200 or status in (204, 304)
        if body and not bodiless and "content-type" not in names:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        if not bodiless and "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        self._finish_headers()
        if not head and not bodiless and body:
            self._send_span(memoryview(body), 0, len(body), None)

    def _send_content(self, route: Route, plan: _Plan, head: bool) -> None:
        content = plan.content
        assert content is not None
        ranged = not (plan.no_length or plan.ignore_range)
        status, start, length = 200, 0, content.size
        span = None
        range_header = self.headers.get("Range")
        if ranged and range_header is not None:
            span = _parse_range(range_header, content.size)
            if_range = self.headers.get("If-Range")
            if span is not None and if_range is not None and not _if_range_matches(if_range, content):
                span = None
        if span == _UNSATISFIABLE:
            self._start(416)
            self._send_validators(route, content)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Range", f"bytes */{content.size}")
            self.send_header("Content-Length", "0")
            self._finish_headers()
            return
        if span is not None and span != _UNSATISFIABLE and plan.short_ranges:
            span = (span[0], min(span[1], span[0] + plan.short_ranges - 1))
        if span is not None and span != _UNSATISFIABLE:
            span = (span[0] - route._arm_shift(span[0]), span[1])
        if span is not None:
            status, start, length = 206, span[0], span[1] - span[0] + 1

        self._start(status)
        self._send_validators(route, content, plan)
        if ranged:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + length - 1}/{content.size}")
        if plan.no_length:
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self._finish_headers()
        if head:
            return
        drop_at, stall, trickle = route._arm(length)
        flip = route._arm_corruption(start, length)
        if flip is not None:
            data = bytearray(content.data if content.data is not None else Path(content.file).read_bytes())
            data[flip] ^= 0xFF
            content = dataclasses.replace(content, data=bytes(data), file=None)
        self._send_body(content, start, length, plan.rate, drop_at, stall, trickle)

    def _send_validators(self, route: Route, content: _Content, plan: _Plan | None = None) -> None:
        self.send_header("Content-Type", route.content_type)
        if plan is not None and plan.content_encoding:
            self.send_header("Content-Encoding", plan.content_encoding)
        if content.etag is not None:
            self.send_header("ETag", content.etag)
        if content.mtime is not None:
            self.send_header("Last-Modified", _http_date(content.mtime))
        for name, value in route.headers.items():
            self.send_header(name, value)

    def _send_body(
        self,
        content: _Content,
        start: int,
        length: int,
        rate: int | None,
        drop_at: int | None,
        stall: _Stall | None,
        trickle: tuple[int, int] | None = None,
    ) -> None:
        stopping = self.server.owner._stopping
        pacer = _Pacer(rate, stopping) if rate else None
        with _open_source(content) as source:
            done = 0
            if trickle is not None:
                at, trickle_rate = trickle
                self._send_span(source, start, at, pacer)
                self._trickle(source, start + at, length - at, trickle_rate, stopping)
                return
            if stall is not None and (drop_at is None or stall.at < drop_at):
                self._send_span(source, start, stall.at, pacer)
                done = stall.at
                began = time.monotonic()
                if stall.until is not None:
                    while not stall.until.wait(0.05):
                        if stopping.is_set():
                            raise _Aborted("server stopping")
                elif stopping.wait(stall.seconds):
                    raise _Aborted("server stopping")
                if pacer is not None:
                    pacer.shift(time.monotonic() - began)
                if stall.close:
                    self.close_connection = True
                    return
            if drop_at is not None:
                self._send_span(source, start + done, drop_at - done, pacer)
                # The handler returns, and the connection closes with the body cut short.
                self.close_connection = True
                return
            self._send_span(source, start + done, length - done, pacer)

    def _trickle(
        self, source: memoryview | BinaryIO, offset: int, count: int, rate: int, stopping: threading.Event
    ) -> None:
        """Send ``count`` bytes at ``rate`` bytes a second, a piece every 50 ms."""
        piece = max(1, rate // 20)
        end = offset + count
        while offset < end:
            if stopping.wait(0.05):
                raise _Aborted("server stopping")
            self._send_span(source, offset, min(piece, end - offset), None)
            offset += min(piece, end - offset)

    def _send_span(
        self, source: memoryview | BinaryIO, offset: int, count: int, pacer: _Pacer | None
    ) -> None:
        sock = self.connection
        record = self._record
        end = offset + count
        if pacer is not None:
            while offset < end:
                want = min(pacer.slice, end - offset)
                pacer.wait_for(want)
                if isinstance(source, memoryview):
                    piece: bytes | memoryview = source[offset : offset + want]
                else:
                    source.seek(offset)
                    piece = source.read(want)
                if not piece:
                    raise _Aborted("the file shrank while it was being served")
                record.bytes_sent += len(piece)
                sock.sendall(piece)
                offset += len(piece)
        elif isinstance(source, memoryview):
            while offset < end:
                piece = source[offset : min(offset + MEMORY_SLICE, end)]
                record.bytes_sent += len(piece)
                sock.sendall(piece)
                offset += len(piece)
        else:
            while offset < end:
                want = min(SENDFILE_CHUNK, end - offset)
                record.bytes_sent += want
                sent = sock.sendfile(source, offset, want)
                if sent < want:
                    record.bytes_sent -= want - sent
                    raise _Aborted("the file shrank while it was being served")
                offset += sent


@contextlib.contextmanager
def _open_source(content: _Content) -> Iterator[memoryview | BinaryIO]:
    if content.data is not None:
        yield memoryview(content.data)
    else:
        assert content.file is not None
        with open(content.file, "rb") as handle:
            yield handle


class _HTTPD(ThreadingHTTPServer):
    daemon_threads = True
    # Segmented downloads open many connections at once; a short backlog would drop SYNs.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: TestServer) -> None:
        self.owner = owner
        self._conn_lock = threading.Lock()
        self._conns: dict[socket.socket, int] = {}
        self._workers: set[threading.Thread] = set()
        self.accepted = 0
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self.accepted += 1
            self._conns[request] = self.accepted
            worker = threading.Thread(
                target=self._serve_connection,
                args=(request, client_address),
                name=f"testserver-{self.server_port}-conn-{self.accepted}",
                daemon=True,
            )
            self._workers.add(worker)
        worker.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._workers.discard(threading.current_thread())

    def close_request(self, request: Any) -> None:
        # Under the lock so stop() never shuts down a socket object that is being closed.
        with self._conn_lock:
            self._conns.pop(request, None)
            request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def connection_id(self, request: Any) -> int:
        with self._conn_lock:
            return self._conns.get(request, 0)

    def open_connections(self) -> int:
        with self._conn_lock:
            return len(self._conns)

    def abort_connections(self) -> None:
        with self._conn_lock:
            for sock in self._conns:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def join_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))


class TestServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 and a random port; start()/stop() or a with block."""

    __test__ = False

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._routes: dict[str, Route] = {}
        self._routes_lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._log_cond = threading.Condition()
        self._busy = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPD | None = None
        self._thread: threading.Thread | None = None

    # Life cycle --------------------------------------------------------------------------------------

    def start(self) -> TestServer:
        if self._stopping.is_set():
            raise RuntimeError("a stopped TestServer cannot be started again")
        if self._httpd is not None:
            return self
        self._httpd = _HTTPD((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # The poll interval bounds how long stop() waits for the accept loop.
            kwargs={"poll_interval": 0.02},
            name=f"testserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut every open connection, end stalls and throttles, and join all threads."""
        already = self._stopping.is_set()
        self._stopping.set()
        httpd = self._httpd
        if httpd is None or already:
            return
        httpd.shutdown()
        assert self._thread is not None
        self._thread.join()
        httpd.abort_connections()
        httpd.join_workers(timeout=5.0)
        httpd.server_close()

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Addresses ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def netloc(self) -> str:
        """Host and port, like 127.0.0.1:8080."""
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        """The full URL of path; host="localhost" gives a URL that names another host for the same server."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host or self.host}:{self.port}{path}"

    # Routes ------------------------------------------------------------------------------------------

    def add(
        self,
        path: str,
        data: bytes | None = None,
        *,
        file: Path | str | None = None,
        etag: str | bool | None = True,
        last_modified: bool = True,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        **faults: Any,
    ) -> Route:
        """Serve data (bytes) or file at path, with fault knobs from FAULT_KNOBS; replaces any route there."""
        if not path.startswith("/"):
            path = "/" + path
        route = Route(
            path,
            data,
            file=file,
            etag=etag,
            last_modified=last_modified,
            content_type=content_type,
            headers=headers,
            **faults,
        )
        with self._routes_lock:
            self._routes[path] = route
        return route

    def add_dir(self, directory: Path | str, **options: Any) -> list[Route]:
        """Serve every file under directory at its relative path; options go to add()."""
        root = Path(directory)
        routes = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            routes.append(self.add("/" + file.relative_to(root).as_posix(), file=file, **options))
        return routes

    def remove(self, path: str) -> None:
        with self._routes_lock:
            self._routes.pop(path if path.startswith("/") else "/" + path, None)

    def route(self, path: str) -> Route | None:
        """The route for a request target: exact match first, then without the query, then unquoted."""
        with self._routes_lock:
            route = self._routes.get(path)
            if route is None:
                bare = urlsplit(path).path
                route = self._routes.get(bare) or self._routes.get(unquote(bare))
            return route

    # Request log -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first; records stay live (status, bytes_sent, done)."""
        with self._log_cond:
            return list(self._log)

    def requests_for(self, path: str, method: str | None = None) -> list[RequestRecord]:
        """Logged requests whose path (query ignored) is path, optionally only one method."""
        return [
            r
            for r in self.requests
            if urlsplit(r.path).path == path and (method is None or r.method == method)
        ]

    def clear_requests(self) -> None:
        with self._log_cond:
            self._log.clear()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no response is being written; True if that happened within timeout."""
        with self._log_cond:
            return self._log_cond.wait_for(lambda: self._busy == 0, timeout)

    def active_connections(self) -> int:
        """Client connections open right now."""
        return 0 if self._httpd is None else self._httpd.open_connections()

    @property
    def connections_accepted(self) -> int:
        """Client connections accepted since start."""
        return 0 if self._httpd is None else self._httpd.accepted

    def _open_record(self, handler: _Handler) -> RequestRecord:
        headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record = RequestRecord(
            method=handler.command,
            path=handler.path,
            headers=headers,
            range=headers.get("range"),
            if_range=headers.get("if-range"),
            connection=self._httpd.connection_id(handler.request) if self._httpd else 0,
        )
        with self._log_cond:
            self._log.append(record)
            self._busy += 1
        return record

    def _close_record(self, record: RequestRecord) -> None:
        with self._log_cond:
            record.done = True
            self._busy -= 1
            self._log_cond.notify_all()


def main(argv: list[str] | None = None) -> int:
    """Serve every file in --dir until SIGTERM or SIGINT; prints "READY <url>" once listening."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dir", type=Path, required=True, help="directory whose files are served")
    parser.add_argument("--rate", type=int, default=None, help="throttle each connection to BYTES per second")
    parser.add_argument(
        "--headers",
        type=Path,
        default=None,
        help='a JSON file {"/path": {"Header": "value"}}: extra headers per served path (an "ETag" entry '
        "replaces the route's ETag), e.g. an object store's fingerprints",
    )
    args = parser.parse_args(argv)
    extra = json.loads(args.headers.read_text()) if args.headers else {}

    finished = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        finished.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with TestServer(host=args.host, port=args.port) as server:
        for route in server.add_dir(args.dir, rate=args.rate):
            headers = dict(extra.get(route.path, {}))
            if "ETag" in headers:
                route.etag = headers.pop("ETag")
            route.headers.update(headers)
        print(f"READY {server.url('/')}", flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not finished.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
