"""Moving a models folder: every known file to another folder, across volumes too, with progress and stop."""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ofa_manager.core import sharing, units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.durable import OnError, copy_sparse, disk_bytes, same_volume, sync_folder
from ofa_manager.core.library import Library
from ofa_manager.core.moved import clear_marker, leave_marker
from ofa_manager.core.safe_files import file_size, path_kind

# How long a move waits for another program (or a download) to let go of a file.
LOCK_WAIT_S = 10.0


class SkipReason(enum.Enum):
    """Why a checkpoint's file stayed in the old folder."""

    NAME_TAKEN = "its name is taken in the new folder"
    NOT_A_FILE = "a link, folder or special file is at one of its names"


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: SkipReason


@dataclass
class Relocation:
    """What a finished move did: the data files now in the new folder, and those left behind."""

    root: Path
    moved: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class RelocationError(OSError):
    """A move that ended early (failed or stopped); ``moved`` lists the data files already across."""

    def __init__(self, message: str, moved: list[Path], *, stopped: bool) -> None:
        super().__init__(message)
        self.moved = moved
        self.stopped = stopped


class FolderBusyError(OSError):
    """Another process holds the lock of some file in the folder (a download runs)."""

    def __init__(self, busy: list[Path]) -> None:
        names = ", ".join(p.name for p in busy)
        super().__init__(f"another ofa-manager process is using {names}; stop its downloads first")
        self.busy = busy


@contextlib.contextmanager
def every_file_held(library: Library) -> Iterator[None]:
    """Hold the lock of every file the library knows, or raise FolderBusyError at once, holding none.

    Downloads hold their file's lock for as long as they run, so this refuses while another process
    downloads into the folder, and keeps any from starting until the block ends.
    """
    from filelock import Timeout

    held, busy = [], []
    try:
        for entry in library.one_per_file(library.catalog):
            lock = library.lock(entry)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                busy.append(library.path(entry))
                continue
            held.append(lock)
        if busy:
            raise FolderBusyError(busy)
        yield
    finally:
        for lock in held:
            lock.release()


def relocate(
    library: Library,
    root: Path,
    *,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    stopped: Callable[[], bool] = lambda: False,
    lock_wait: float = LOCK_WAIT_S,
    holding: bool = False,
) -> Relocation:
    """Move every file the library knows (data, partial data, records, metadata) into ``root``.

    A checkpoint whose file name (or partial file name) is already taken in ``root`` stays where it is,
    whole, and so does one with a link, folder or special file at one of its names. One that moves takes
    its records along, replacing stale namesakes (a record or metadata left in ``root`` without its file
    would describe ours). Across volumes the bytes are copied, so the free space there is checked first.
    Stops between checkpoints, and between chunks of a copy, once ``stopped()`` (the file being copied
    stays whole at its old place). Reports ``progress(done, total)`` in bytes (a rename counts at once,
    a copy as it goes). Raises RelocationError when it ends early, naming what was already moved.
    Each checkpoint moves under its file's lock (waiting up to ``lock_wait`` for a download to let go),
    unless ``holding``: the caller holds them all already (``every_file_held``).
    """
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)

    def sources_of(entry: Checkpoint) -> list[Path]:
        return [
            library.path(entry),
            library.part_path(entry),
            library.record_path(entry),
            library.meta_path(entry),
        ]

    def place(source: Path) -> Path:
        """Where a file goes: the same place in ``root`` (a source host's folder included)."""
        return root / source.relative_to(library.root)

    def taken(entry: Checkpoint) -> bool:
        # A link there, even one pointing nowhere, takes the name: it is never replaced.
        return any(os.path.lexists(place(p)) for p in sources_of(entry)[:2])

    def unsafe(entry: Checkpoint) -> bool:
        """A link, folder or special file at one of its names: never followed, so it all stays."""
        sources = sources_of(entry)
        folders = {sources[0].parent, place(sources[0]).parent} - {library.root, root}
        return any(path_kind(p) not in (None, "file") for p in sources) or any(
            path_kind(f) not in (None, "folder") for f in folders
        )

    entries = library.one_per_file(library.catalog)
    # Copies a closed window or a crash left unfinished: never a checkpoint, only space taken.
    for entry in entries:
        for source in sources_of(entry):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                place(source).with_name(f".{source.name}.moving").unlink()
    total = sum(file_size(p) for entry in entries for p in sources_of(entry))
    if total and not same_volume(library.root, root):
        # What the copies will take: the data, not the holes of preallocated partial files.
        need = sum(disk_bytes(p) for e in entries if not taken(e) and not unsafe(e) for p in sources_of(e))
        free = shutil.disk_usage(root).free
        if need > free:
            if created:
                root.rmdir()
            raise OSError(f"the files need {units.size(need)} and {root} has {units.size(free)} free")
    result = Relocation(root)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if total:
            progress(min(done, total), total)

    for entry in entries:
        planned = sum(file_size(p) for p in sources_of(entry))
        before = done
        try:
            if stopped():
                raise OSError(errno.ECANCELED, "stopped before the move was complete")
            with contextlib.nullcontext() if holding else library.lock(entry).acquire(timeout=lock_wait):
                # What is there now (another process may have finished or removed a file meanwhile).
                sources = sources_of(entry)
                present = [p for p in sources if os.path.lexists(p)]
                if not any(p in sources[:2] for p in present):
                    pass  # neither the file nor partial data: records alone stay with the old folder
                elif taken(entry) or unsafe(entry):
                    reason = SkipReason.NAME_TAKEN if taken(entry) else SkipReason.NOT_A_FILE
                    result.skipped.extend(Skipped(p, reason) for p in present if p in sources[:2])
                else:
                    for source in sources:
                        target = place(source)
                        sharing.make_shared_folder(target.parent)
                        if source not in present:
                            target.unlink(missing_ok=True)  # a stale record or metadata of that name
                            continue
                        move_file(source, target, advance, stopped)
                        sharing.share_moved_file(target)
                        if source in sources[:2]:
                            result.moved.append(target)
        except Exception as exc:
            already = ", ".join(p.name for p in result.moved) or "none"
            was_stopped = isinstance(exc, OSError) and exc.errno == errno.ECANCELED
            raise RelocationError(
                f"{exc}; already moved to {root}: {already}", list(result.moved), stopped=was_stopped
            ) from exc
        advance(max(0, planned - (done - before)))  # skipped or vanished bytes count as done
    if total:
        progress(total, total)
    # The old folder says where its checkpoints went (core/moved.py); the new one is a models folder now.
    with contextlib.suppress(OSError):
        clear_marker(root)
        if result.moved:
            leave_marker(library.root, root)
    return result


def move_file(
    source: Path,
    target: Path,
    advance: Callable[[int], None] = lambda _count: None,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Move one file so that ``target`` is never a partial copy, even across volumes or after a crash.

    Across volumes the data is copied to a hidden temporary name beside ``target`` (holes of a sparse
    partial file stay holes), synced, renamed, and the folder synced; only then is the source removed.
    ``advance(bytes)`` follows the copy; ``stopped()`` stops it (the temporary copy goes, the source
    stays).
    """
    size = source.stat().st_size
    try:
        os.replace(source, target)
        advance(size)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    temporary = target.with_name(f".{target.name}.moving")
    try:
        copy_sparse(source, temporary, advance=advance, stopped=stopped)
        os.replace(temporary, target)
        # The source goes next: the copy must be known to be on disk under its name first.
        sync_folder(target.parent, on_error=OnError.RAISE)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    source.unlink()
    advance(0)
