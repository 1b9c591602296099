"""Moving a checkpoint's file to the desktop trash, through the trash function the front end passes in.

The window passes Qt's (QFile.moveToTrash), the command line Send2Trash's: the rule (under the file's
lock, only our own file, never through a link, its metadata dropped once it is gone) is the same.
A file in the trash still takes its space until the trash is emptied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.file_status import NotOursError, State
from ofa_manager.core.library import Library

# Moves one file to the trash; returns where it now is (a description where that is not known), or
# None when there is no trash that can take it.
TrashFunction = Callable[[Path], "str | None"]

# How long moving to the trash waits for another program (or a download) to let go of the file.
LOCK_WAIT_S = 10.0


class NoTrashError(OSError):
    """The desktop has no trash that takes this file (nothing was moved)."""


@dataclass(frozen=True)
class Trashed:
    path: Path  # where the file was
    where: str  # where it is in the trash
    size: int  # its size: taken on disk until the trash is emptied


def move_to_trash(
    library: Library, entry: Checkpoint, trash: TrashFunction, *, lock_wait: float = LOCK_WAIT_S
) -> Trashed:
    """Move the entry's downloaded (or corrupt) file to the trash with ``trash``.

    Raises NotOursError when what is at its path now is not our file (a link, a folder, or a file
    ofa-manager cannot show it wrote), NoTrashError when the trash refuses it, and filelock's Timeout
    when another process holds the file for longer than ``lock_wait``.
    """
    path = library.path(entry)
    with library.lock(entry).acquire(timeout=lock_wait):
        # Checked again under the lock: what is there now may not be what the front end saw.
        status = library.status(entry)
        if status.state is State.FOREIGN:  # links and folders at our name included: never followed
            raise NotOursError(f"{path}: {status.reason}; not moved to the trash")
        if status.state not in (State.DOWNLOADED, State.CORRUPT):
            raise FileNotFoundError(f"{path} is not there any more ({status.state.value})")
        size = path.stat().st_size
        where = trash(path)
        if where is None:
            raise NoTrashError(f"the desktop trash cannot take {path}")
        library.forget(entry)
        return Trashed(path, where, size)


def send2trash_function(path: Path) -> str | None:
    """The command line's trash: Send2Trash (the freedesktop.org trash on Linux, the system's elsewhere).

    Send2Trash does not say where the file went; the answer names the trash and the file.
    """
    from send2trash import TrashPermissionError, send2trash

    try:
        send2trash(str(path))
    except TrashPermissionError:
        return None
    return f"the trash ({path.name})"
