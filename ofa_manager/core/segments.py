"""Which bytes of a file are done, which connection fetches what next, and the hashing that follows them."""

from __future__ import annotations

import bisect
import collections
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from ofa_manager.core import fingerprints
from ofa_manager.core.safe_files import open_nofollow
from ofa_manager.core.transfer_options import MiB

SYNC_EVERY = 64 * MiB


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


def _datasync(fd: int) -> None:
    try:
        (getattr(os, "fdatasync", None) or os.fsync)(fd)
    except OSError:
        pass
