"""Helpers for core tests: test catalogs pointing at the loopback server, and test payloads."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from ofa_manager.core.transfer_options import TransferOptions

MiB = 1024 * 1024


def fast_options(**overrides) -> TransferOptions:
    """Transfer options for tests: quick retries and short timeouts against the loopback server."""
    values = dict(backoff_base=0.01, retries=3, timeout=2.0, connect_timeout=2.0)
    values.update(overrides)
    return TransferOptions(**values)


def payload(size: int, seed: int = 0) -> bytes:
    """Bytes that differ at every offset (a splice or a shift shows up in the sha256)."""
    block = hashlib.sha256(f"ofa-manager-test-{seed}".encode()).digest()
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(block + counter.to_bytes(8, "little")).digest() * 32
        counter += 1
    return bytes(out[:size])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(entry_id: str, url: str, **fields) -> dict:
    """A catalog entry with the required fields; ``fields`` adds or overrides optional ones."""
    row = {
        "id": entry_id,
        "title": fields.pop("title", entry_id.replace("-", " ").title()),
        "group": fields.pop("group", ["Test"]),
        "url": url,
    }
    row.update(fields)
    return row


def write_catalog(path: Path, entries: list[dict], *, title: str = "Test catalog") -> Path:
    path.write_text(json.dumps({"format": 1, "title": title, "entries": entries}, indent=2), encoding="utf-8")
    return path


def load(path: Path):
    from ofa_manager.core.catalog import load_catalog

    return load_catalog([path])


DOWNLOADED_AT = "2026-11-30T10:00:00Z"


def finished_file(library, entry_id: str, data: bytes, **meta) -> Path:
    """A finished file as ofa-manager leaves it: the file and its metadata. ``meta`` overrides fields; a
    field given as ``...`` is left out."""
    e = library.catalog.get(entry_id)
    path = library.path(e)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fields = {
        "url": e.url,
        "catalog_url": e.url,
        "size": len(data),
        "sha256": sha256(data),
        "state": "ok",
        "downloaded_at": DOWNLOADED_AT,
        "mtime_ns": os.lstat(path).st_mtime_ns,
    }
    fields.update(meta)
    library.write_meta(e, {k: v for k, v in fields.items() if v is not ...})
    return path


def body_requests(server, path: str) -> list:
    """GETs of ``path`` that the server answered with body bytes of the object (200 or 206)."""
    return [r for r in server.requests_for(path, "GET") if r.status in (200, 206)]


def bytes_served(server, path: str) -> int:
    return sum(r.bytes_sent for r in server.requests_for(path, "GET") if r.status in (200, 206))


def leftovers(folder: Path) -> list[str]:
    """Files in the models folder other than finished checkpoints and their metadata and locks."""
    return sorted(name for name in os.listdir(folder) if name.endswith((".part", ".part.json", ".tmp")))


def engine_threads() -> list:
    """Threads the engine starts (segments, hashing, queue workers) that are still alive."""
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("ofa-") and t.is_alive()]


class RequestClock:
    """Notes when each request of the server's log was first seen (the log itself has no times)."""

    def __init__(self, server, interval: float = 0.005) -> None:
        import threading
        import time

        self._server = server
        self._time = time.monotonic
        self.seen: list[tuple[float, object]] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="test-request-clock", daemon=True)

    def _collect(self) -> None:
        for record in self._server.requests[len(self.seen) :]:
            self.seen.append((self._time(), record))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._collect()

    def __enter__(self) -> RequestClock:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._collect()


REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"  # the committed test data (checkpoint fixtures, lists, a small project)


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for an ``ofa-manager`` subprocess: this checkout importable, no real keyring touched."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # No keyring at all, so a developer's own keyring is never used (tests of the real one start a private
    # Secret Service: tests/secret_service.py).
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "ofa_manager", *args]


@contextlib.contextmanager
def held_by_another_process(lock_path: Path):
    """A POSIX lock on ``lock_path`` held by another (plain Python) process, as a download running there
    holds its file's lock: this process sees it busy, which its own lock would not show (POSIX locks
    belong to the whole process). Released when the block ends."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
            "fcntl.lockf(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
            str(lock_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n", "the lock holder did not start"
        yield holder.pid
    finally:
        holder.communicate(timeout=60)  # closing its stdin ends it, and its lock with it


def rot(path: Path, offset: int = 1000, data: bytes = b"\0rot\0") -> None:
    """Damage a file in place as a failing disk does: same size, same modification time.

    A write by a program changes the time, and then the file is no longer the one ofa-manager wrote.
    """
    before = os.stat(path)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def other_volume(near: Path) -> Path:
    """A folder on another file system than ``near`` (a tmpfs), or skip: moves across volumes copy."""
    for candidate in (Path("/dev/shm"), Path("/run/user") / str(os.getuid())):
        try:
            if candidate.is_dir() and os.access(candidate, os.W_OK):
                if candidate.stat().st_dev != near.stat().st_dev:
                    return candidate
        except OSError:
            continue
    pytest.skip("no writable folder on another file system here")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the command line in this process: its exit code, and what it printed to stdout and stderr."""
    from ofa_manager import cli

    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@contextlib.contextmanager
def when_open(paths, then):
    """While the block runs, call ``then(path)`` the moment this process has one of ``paths`` open, once for
    each: read from /proc/self/fd, so a race (a file changed or removed while it is hashed) is staged at the
    right instant without any timing. Linux only."""
    left = {str(path) for path in paths}
    stop = threading.Event()

    def watch() -> None:
        while left and not stop.is_set():
            for fd in os.listdir("/proc/self/fd"):
                with contextlib.suppress(OSError):
                    opened = os.readlink(f"/proc/self/fd/{fd}")
                    if opened in left:
                        left.discard(opened)
                        then(opened)
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, name="test-when-open", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def wait_for(condition, timeout: float = 30, what: str = "the condition") -> None:
    """Poll until ``condition()`` holds; fail when it never does (a hang guard, not a timed assert)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
