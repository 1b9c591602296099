"""How the bytes a file takes are counted: one rule for `du`, `list`, `rm`, the disk bar and the dialogs.

A segmented download preallocates its partial file to the full length (a sparse file: the length is set,
the data arrives at its offsets), so the length of a partial file says nothing about the space it takes.
What counts is the data on disk: the blocks the file system allocated (``st_blocks`` × 512), never more
than the file's length. A partial file also never counts more than its resume record says arrived, so a
file system that allocates the whole length at once (no holes) does not show a partial file at its full
size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def data_on_disk(path: Path | str) -> int:
    """The bytes of data a regular file holds on disk; 0 when there is none (a link is not followed)."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if not stat.S_ISREG(st.st_mode):
        return 0
    blocks = getattr(st, "st_blocks", None)
    return st.st_size if blocks is None else min(st.st_size, blocks * 512)


def received(record: dict) -> int | None:
    """The bytes a resume record says arrived, or None when it cannot say (no known size, no ranges)."""
    size, ranges = record.get("size"), record.get("ranges")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or not isinstance(ranges, list):
        return None
    done = 0
    for item in ranges:
        if not (isinstance(item, list) and len(item) == 2):
            return None
        start, end = item
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in item):
            return None
        done += max(0, min(end, size) - max(start, 0))
    return min(done, size)


def partial_data(part: Path | str, record: dict) -> int:
    """What a partial file counts for: its data on disk, at most what its (checked) record says arrived."""
    on_disk = data_on_disk(part)
    arrived = received(record)
    return on_disk if arrived is None else min(on_disk, arrived)
