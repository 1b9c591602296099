"""What a download is told and what it reports: its options, the shared rate limit, progress, its failures."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass, field

import requests
import urllib3.exceptions

from ofa_manager.core import mirrors
from ofa_manager.core.catalog import redact_text
from ofa_manager.core.states import ErrorKind

MiB = 1024 * 1024
CHUNK = MiB
MIN_SEGMENT = 2 * MiB
PROGRESS_EVERY = 0.1
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
