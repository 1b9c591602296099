"""The note a folder move leaves behind: "the checkpoints of this folder were moved to X on DATE".

After ofa-manager moves a models folder's checkpoints elsewhere (core/relocate.py), the old folder keeps a
small marker, ``.ofa-manager-moved.json``, so that opening it again (an old ``--dir``, a script, the
window started on it) says where they went instead of showing every checkpoint as not downloaded. Moving
checkpoints into a folder removes its marker: it is a models folder again.

The marker is read as any file found on disk is: a regular file only (never through a link), at most
4 KiB, a JSON object of the expected format and types, an absolute path without control characters and
a valid time; anything else is no marker at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ofa_manager.core import sharing
from ofa_manager.core.durable import atomic_write_json

MARKER_NAME = ".ofa-manager-moved.json"
MARKER_FORMAT = 1
MAX_MARKER_BYTES = 4096
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class FolderMoved:
    """Where the checkpoints of a folder went, and when."""

    folder: Path  # the old folder, holding the marker
    moved_to: Path
    moved_at: dt.datetime  # timezone-aware

    @property
    def date(self) -> str:
        """The day of the move in local time, as people write it (2026-11-30)."""
        return self.moved_at.astimezone().date().isoformat()

    def sentence(self) -> str:
        return f"The checkpoints of this folder were moved to {self.moved_to} on {self.date}"


def marker_path(folder: Path) -> Path:
    return Path(folder) / MARKER_NAME


def leave_marker(folder: Path, moved_to: Path, when: dt.datetime | None = None) -> None:
    """Write the marker into ``folder`` (replacing an older one); a link at its name is left alone."""
    path = marker_path(folder)
    try:
        kind = os.lstat(path).st_mode
    except FileNotFoundError:
        kind = None
    if kind is not None and not stat.S_ISREG(kind):
        return  # never written through a link, never replacing a folder
    when = when or dt.datetime.now(dt.timezone.utc)
    data = {"format": MARKER_FORMAT, "moved_to": str(Path(moved_to)), "moved_at": when.isoformat()}
    atomic_write_json(path, data, mode=sharing.file_mode(Path(folder)))


def clear_marker(folder: Path) -> None:
    """Remove a marker from ``folder`` (checkpoints were moved into it); a link or folder stays."""
    path = marker_path(folder)
    try:
        if stat.S_ISREG(os.lstat(path).st_mode):
            path.unlink()
    except FileNotFoundError:
        pass


def read_marker(folder: Path) -> FolderMoved | None:
    """The folder's marker when there is a valid one; None otherwise (never raises for what is on disk)."""
    folder = Path(folder)
    path = marker_path(folder)
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK)
    except OSError:
        return None  # none, a link (ELOOP), unreadable
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, MAX_MARKER_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_MARKER_BYTES:
        return None
    try:
        value = json.loads(data.decode())  # NaN or Infinity can stand for no field: _checked refuses them
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return _checked(folder, value)


def _checked(folder: Path, value: object) -> FolderMoved | None:
    if not isinstance(value, dict) or set(value) != {"format", "moved_to", "moved_at"}:
        return None
    if value["format"] != MARKER_FORMAT or isinstance(value["format"], bool):
        return None
    moved_to, moved_at = value["moved_to"], value["moved_at"]
    if not isinstance(moved_to, str) or not isinstance(moved_at, str):
        return None
    if not moved_to or len(moved_to) > 1024 or any(ord(c) < 32 or ord(c) == 127 for c in moved_to):
        return None
    target = Path(moved_to)
    if not target.is_absolute() or target == folder:
        return None
    try:
        when = dt.datetime.fromisoformat(moved_at)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return FolderMoved(folder, target, when)
