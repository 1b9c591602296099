"""A file another process is downloading: which process holds its lock, and how far its download got.

A download holds its file's lock (``.NAME.lock``, a POSIX record lock, see sharing.FolderLock) for as
long as it runs, and rewrites its resume record every second. A second download of the same file (the
command line while the window downloads it, or two command lines) waits for that lock; meanwhile it reads
the holder's process id from the lock (``F_GETLK``: the kernel's answer, not a file anyone wrote) and
the progress from the partial file and its record, both checked as any file found on disk is.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ofa_manager.core import units

if TYPE_CHECKING:
    from ofa_manager.core.catalog import Checkpoint
    from ofa_manager.core.library import Library

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# struct flock on Linux (every architecture Python runs on there): l_type, l_whence, l_start, l_len, l_pid.
_FLOCK = "hhqqi"


@dataclass(frozen=True)
class OtherDownload:
    """What can be told about a download of this file running in another process."""

    name: str  # the file's name
    pid: int | None  # the process holding the lock, where the system can tell
    done: int  # bytes it has on disk so far (core.footprint's count)
    total: int | None  # the file's size, when known

    def sentence(self) -> str:
        """ "ofa_large.pt is being downloaded by another process (pid 4242)"."""
        who = f"another process (pid {self.pid})" if self.pid else "another process"
        return f"{self.name} is being downloaded by {who}"

    def progress(self) -> str:
        """ "37 %, 1.2 GiB of 3.1 GiB" (or just the bytes when the size is unknown)."""
        if self.total:
            percent = 100 * min(self.done, self.total) // self.total
            return f"{percent} %, {units.size(self.done)} of {units.size(self.total)}"
        return units.size(self.done)


def lock_holder(lock_path: Path) -> int | None:
    """The id of the process holding a POSIX lock on ``lock_path``; None when none does or it cannot
    be told (not Linux, no such file, a link at its name)."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl

    try:
        fd = os.open(lock_path, os.O_RDONLY | _O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query + bytes(8))
    except OSError:
        return None
    finally:
        os.close(fd)
    l_type, _whence, _start, _length, pid = struct.unpack_from(_FLOCK, answer)
    if l_type == fcntl.F_UNLCK or not 0 < pid <= 2**22:  # Linux pids are at most 2**22
        return None
    return pid


def other_download(library: Library, entry: Checkpoint) -> OtherDownload:
    """The download of ``entry``'s file that another process is running, as far as it can be seen."""
    record = library.read_record(entry)  # checked: its size is a number of bytes, or None
    return OtherDownload(
        name=library.path(entry).name,
        pid=lock_holder(library.lock_path(entry)),
        done=library.partial_bytes(entry),
        total=record.get("size") or library.expected_size(entry),
    )
