"""Durable file operations: atomic JSON, syncing a file or a folder, and a chunked copy that keeps holes."""

from __future__ import annotations

import enum
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

# Copies go in pieces of this size, so a stop is heard between two of them.
COPY_CHUNK = 4 * 1024 * 1024


class OnError(enum.Enum):
    """What a failed sync means to the caller.

    RAISE: the caller depends on it (a move removes its source only once the copy is known to be on
    disk). IGNORE: a best effort (a finished download is already whole; a lost rename shows as a partial
    file that the next run resumes).
    """

    RAISE = "raise"
    IGNORE = "ignore"


def atomic_write_json(path: Path, data: object, *, durable: bool = True, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` as JSON so that readers see the old or the new file, never half.

    ``mode`` is the new file's mode (the temp file gets it before it takes the name); without it the
    file is readable by its owner only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def sync_file(fd: int, *, on_error: OnError = OnError.RAISE) -> None:
    """Flush an open file's data and metadata to the disk."""
    try:
        os.fsync(fd)
    except OSError:
        if on_error is OnError.RAISE:
            raise


def sync_folder(folder: Path, *, on_error: OnError) -> None:
    """Make a rename or a new name in ``folder`` durable (POSIX; elsewhere the file system does it).

    Some file systems cannot sync a folder at all (EINVAL, ENOTSUP, EBADF): the rename stands there
    anyway, so that is never an error. Any other failure raises with ``OnError.RAISE``.
    """
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        if on_error is OnError.RAISE:
            raise
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if on_error is OnError.RAISE and exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def disk_bytes(path: Path) -> int:
    """The bytes a file takes on disk (less than its size when it has holes); 0 when it is not there."""
    try:
        info = path.stat()
    except OSError:
        return 0
    blocks = getattr(info, "st_blocks", None)
    return info.st_size if blocks is None else min(info.st_size, blocks * 512)


def same_volume(a: Path, b: Path) -> bool:
    """True when both paths exist on one file system (a rename between them is possible)."""
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def data_spans(fd: int, size: int) -> list[tuple[int, int]]:
    """The byte ranges of a file that hold data; the whole file where holes cannot be asked for."""
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        return [(0, size)]
    spans: list[tuple[int, int]] = []
    position = 0
    try:
        while position < size:
            try:
                start = os.lseek(fd, position, seek_data)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # only a hole from here on
                    break
                raise
            end = min(os.lseek(fd, start, seek_hole), size)
            if end <= start:  # a file system that answers nonsense: copy everything
                return [(0, size)]
            spans.append((start, end))
            position = end
    except OSError:
        return [(0, size)]
    return spans


def copy_sparse(
    source: Path,
    target: Path,
    *,
    advance: Callable[[int], None] = lambda _count: None,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Copy ``source`` to ``target`` in chunks, holes staying holes, time stamps kept, synced to disk.

    ``advance(bytes)`` follows the copy; once ``stopped()`` is true the copy ends between two chunks
    with OSError(ECANCELED). ``target`` is written in place: callers give a temporary name and rename.
    """
    size = source.stat().st_size
    with open(source, "rb") as reader, open(target, "wb") as writer:
        for start, end in data_spans(reader.fileno(), size):
            reader.seek(start)
            writer.seek(start)
            position = start
            while position < end:
                if stopped():
                    raise OSError(errno.ECANCELED, f"stopped while copying {source.name}")
                chunk = reader.read(min(COPY_CHUNK, end - position))
                if not chunk:
                    raise OSError(errno.EIO, f"{source.name} got shorter while it was copied")
                writer.write(chunk)
                position += len(chunk)
                advance(len(chunk))
        writer.truncate(size)  # a hole at the end, if any
        writer.flush()
        shutil.copystat(source, target)
        if stopped():
            raise OSError(errno.ECANCELED, f"stopped while copying {source.name}")
        sync_file(writer.fileno(), on_error=OnError.RAISE)
