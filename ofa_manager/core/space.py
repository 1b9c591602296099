"""Disk space for downloads running at the same time: what the others in the models folder still need.

A segmented download's partial file is sparse: the volume's free space shrinks only as its bytes
arrive, so two downloads that start together would each see the whole free space as theirs. Every
running download keeps its resume record up to date (``running``, ``updated``, ``size``, ``ranges``);
those records, in this process or another (the window and the command line), are the reservations.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from ofa_manager.core.file_status import RECORD_SUFFIX

# A record not rewritten for this long belongs to a download that no longer runs (killed, crashed).
# Running downloads rewrite theirs every second.
ACTIVE_FOR = 30.0
# How long a download waits for another one's space check; a stuck lock must not stop downloads.
LOCK_WAIT = 10.0


def held_by_others(root: Path, own_record: Path, now: float | None = None) -> int:
    """Bytes that the other downloads running into ``root`` have still to write."""
    now = time.time() if now is None else now
    held = 0
    try:
        # Records sit in the folder and in its folders per source host (core/names.py).
        found = [*Path(root).glob("*" + RECORD_SUFFIX), *Path(root).glob("*/*" + RECORD_SUFFIX)]
        records = [p for p in found if p != own_record]
    except OSError:
        return 0
    for path in records:
        remaining = _remaining(path, now)
        if remaining:
            held += remaining
    return held


def _remaining(path: Path, now: float) -> int:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    if not isinstance(record, dict) or record.get("running") is not True:
        return 0
    updated, size, ranges = record.get("updated"), record.get("size"), record.get("ranges")
    if not isinstance(updated, (int, float)) or not 0 <= now - updated <= ACTIVE_FOR:
        return 0
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or not isinstance(ranges, list):
        return 0
    done = 0
    for item in ranges:
        if (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            done += max(0, min(item[1], size) - max(item[0], 0))
    return max(0, size - done)


class SpaceCheck:
    """Held while one download checks the free space and records what it will use (across processes).

    The lock is the models folder itself (flock on the directory), so no lock file is added to it.
    Where directories cannot be locked (Windows), the check is made under a lock of this process only.
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._fd: int | None = None
        self._thread_locked = False

    def __enter__(self) -> SpaceCheck:
        try:
            import fcntl
        except ImportError:
            self._thread_locked = _PROCESS_LOCK.acquire(timeout=LOCK_WAIT)
            return self
        try:
            fd = os.open(self._root, os.O_RDONLY)
        except OSError:
            return self  # no folder to lock: the check goes on alone
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            except OSError:
                break
        os.close(fd)  # checked alone, as before there was a lock: a stuck lock must not stop downloads
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
        if self._thread_locked:
            _PROCESS_LOCK.release()
            self._thread_locked = False


_PROCESS_LOCK = threading.Lock()
