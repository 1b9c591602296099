"""Zip archives in the models folder: unpacked safely into a folder next to them, checked again, removed.

An entry whose file name ends in ``.zip`` (OFA publishes one holding a checkpoint with a CLIP and a VQGAN
checkpoint) can be unpacked once its file is downloaded and verified: ``NAME.zip`` becomes the folder
``NAME/`` beside it in the models folder (core.archive_records: where, the record, the plan). Before a
byte is written, every member is checked (core.archive_checks: names, types, collisions, zip bomb
limits), and the archive is refused as a whole when one fails. While unpacking, no member yields more
bytes than it declared (zipfile stops at its size).

Members are written into a hidden temporary folder (``.NAME.unpacking-*``) with files created anew
(never through a link), each one's CRC-32 checked as it is read; the folder takes its final name only
when complete, so nothing half-unpacked is ever at ``NAME/``. The record ``.NAME.zip.unpacked.json``
(written just before that rename) lists each member's size and CRC-32 and the archive's sha256:
``check_unpacked`` re-reads the folder against it, and ``remove_unpacked`` deletes only the files it
lists.

Plain Python: the command line calls ``unpack``, ``check_unpacked``, ``remove_unpacked``.
"""

from __future__ import annotations

import enum
import errno
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ofa_manager.core import units
from ofa_manager.core.archive_checks import (
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    ArchiveError,
    Member,
    check_members,
)
from ofa_manager.core.archive_records import RECORD_FORMAT, folder_for, is_archive, read_record, record_path
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.safe_files import describe_kind, free_space, path_kind

CHUNK = 4 * 1024 * 1024
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class Phase(str, enum.Enum):
    VERIFYING = "verifying"  # the archive's sha256, read again
    UNPACKING = "unpacking"
    CHECKING = "checking"  # an unpacked folder's CRC-32s, read again


Progress = Callable[[Phase, int, int], None]
Stop = Callable[[], bool]


class Outcome(str, enum.Enum):
    UNPACKED = "unpacked"
    ALREADY = "already-unpacked"  # the recorded folder is there, from these very bytes
    REFUSED = "refused"  # a member or the archive failed a check; the message says which
    NOT_READY = "not-ready"  # not downloaded, not verified, or not an archive
    TAKEN = "taken"  # something that is not our unpacked folder is at the folder's name
    STOPPED = "stopped"  # stopped by the user; nothing left behind


@dataclass
class UnpackResult:
    entry_id: str
    outcome: Outcome
    folder: Path
    members: list[Member] = field(default_factory=list)
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.UNPACKED, Outcome.ALREADY)

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)

    def as_json(self) -> dict:
        return {
            "id": self.entry_id,
            "outcome": self.outcome.value,
            "folder": str(self.folder),
            "members": [m.as_json() for m in self.members],
            "reason": self.reason,
        }


@dataclass
class FolderCheck:
    """An unpacked folder read again against its record."""

    entry_id: str
    folder: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # another size or CRC-32, or not a regular file
    extra: list[str] = field(default_factory=list)  # in the folder, not from the archive: left alone
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed and not self.stopped


# -- unpacking ----------------------------------------------------------------------------------------


def unpack(
    library: Library,
    entry: Checkpoint,
    *,
    progress: Progress | None = None,
    stop: Stop | None = None,
    again: bool = False,
    max_total: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
    max_ratio: float = MAX_RATIO,
) -> UnpackResult:
    """Verify the entry's archive, check its members and unpack it into ``folder_for(entry)``.

    ``progress(phase, done, total)`` is called with bytes hashed, then unpacked; ``stop()`` is asked
    between pieces. ``again`` unpacks anew over our own earlier folder (one the record describes and
    that holds nothing else), e.g. after ``check_unpacked`` found it damaged.
    """
    folder = folder_for(library, entry)

    def result(outcome: Outcome, reason: str, found: list[Member] | None = None) -> UnpackResult:
        return UnpackResult(entry.id, outcome, folder, found or [], reason)

    if not is_archive(entry):
        return result(Outcome.NOT_READY, f"{entry.filename} is not a zip archive")
    taken = [e.id for e in library.catalog if library.path(e) == folder]
    if taken:
        return result(Outcome.TAKEN, f"the folder's name {folder.name} is the file of {taken[0]}")
    hashing = (lambda done, total: progress(Phase.VERIFYING, done, total)) if progress else None
    source, why = _verified_source(library, entry, hashing, stop)
    if source is None:
        outcome = Outcome.STOPPED if stop and stop() else Outcome.NOT_READY
        return result(outcome, why)
    digest = why
    with library.lock(entry):  # no download or delete of the archive meanwhile
        if source == library.path(entry) and library.status(entry).sha256 != digest:
            return result(Outcome.NOT_READY, f"{entry.id} changed since it was verified; not unpacked")
        record = read_record(library, entry)
        kind = path_kind(folder)
        if kind is not None:
            if kind != "folder" or record is None:
                why = f"{describe_kind(kind)} is at {folder}, not unpacked by ofa-manager; left alone"
                return result(Outcome.TAKEN, why)
            if not again:
                if record["archive_sha256"] == digest:
                    return result(Outcome.ALREADY, "", record["members"])
                return result(Outcome.TAKEN, f"{folder} was unpacked from other bytes; unpack it again")
            extra = _extra_files(folder, record["members"])
            if extra:
                shown = ", ".join(extra[:5])
                why = f"{folder} holds files not from the archive ({shown}); left alone"
                return result(Outcome.TAKEN, why)
        _drop_leftovers(folder)
        try:
            with zipfile.ZipFile(source) as archive:
                found = check_members(
                    archive.infolist(),
                    free=free_space(library.root) + _replaced_bytes(record, again),
                    max_total=max_total,
                    max_members=max_members,
                    max_ratio=max_ratio,
                )
                temporary = _temporary(folder)
                try:
                    if not _extract(archive, found, temporary, progress, stop):
                        return result(Outcome.STOPPED, "stopped; nothing was unpacked")
                    _write_record(library, entry, digest, found)
                    _put_in_place(temporary, folder, replace_ours=again and kind == "folder")
                finally:
                    if os.path.lexists(temporary):
                        shutil.rmtree(temporary, ignore_errors=True)
        except ArchiveError as exc:
            return result(Outcome.REFUSED, str(exc))
        except (zipfile.BadZipFile, EOFError, NotImplementedError, zlib.error, RuntimeError) as exc:
            return result(Outcome.REFUSED, f"the archive cannot be read: {exc}")
        except FileExistsError:
            return result(Outcome.TAKEN, f"something appeared at {folder} meanwhile; left alone")
    return result(Outcome.UNPACKED, "", found)


def _verified_source(
    library: Library, entry: Checkpoint, progress: Callable[[int, int], None] | None, stop: Stop | None
) -> tuple[Path | None, str]:
    """(the archive's file, its sha256 just computed) or (None, why not): only our verified bytes."""
    status = library.status(entry)
    if status.state is State.IN_STORE:
        path, digest, good = library.verify_store(entry, progress, stop)
        if path is None or digest is None:
            return None, "stopped" if stop and stop() else f"{entry.id}: the shared store's copy changed"
        if good is False:
            return None, f"{entry.id}: the shared store's copy does not match the catalog's sha256"
        return path, digest
    if status.state is not State.DOWNLOADED:
        why = f"; {status.reason}" if status.reason else ""
        return None, f"{entry.id} is not downloaded ({status.state.value}{why})"
    if status.differs:
        return None, f"{entry.id} differs from the catalog (kept anyway): it is not unpacked"
    after = library.verify(entry, progress, stop)
    if stop and stop():
        return None, "stopped"
    if after.state is not State.DOWNLOADED or after.meta.get("state") == "corrupt":
        return None, f"{entry.id} failed its check ({after.state.value}): it is not unpacked"
    if after.sha256 is None:
        return None, f"{entry.id} has no recorded sha256"
    return after.path, after.sha256


def _replaced_bytes(record: dict | None, again: bool) -> int:
    if not again or record is None:
        return 0
    return sum(m.size for m in record["members"])


def _temporary(folder: Path) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.unpacking-", dir=folder.parent))


def _drop_leftovers(folder: Path) -> None:
    """Temporary folders of an unpack that was killed (never a name without our prefix)."""
    prefix = f".{folder.name}.unpacking-"
    try:
        names = os.listdir(folder.parent)
    except OSError:
        return
    for name in names:
        path = folder.parent / name
        if name.startswith(prefix) and path_kind(path) == "folder":
            shutil.rmtree(path, ignore_errors=True)


def _extract(
    archive: zipfile.ZipFile, found: list[Member], into: Path, progress: Progress | None, stop: Stop | None
) -> bool:
    total, done = sum(m.size for m in found), 0
    if progress:
        progress(Phase.UNPACKING, 0, total)
    for member in found:
        target = into.joinpath(*member.name.split("/"))
        _make_folders(into, target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
        # zipfile yields no more than the member's declared size and raises at its end when the bytes
        # do not match its CRC-32 (BadZipFile), or when they are fewer (EOFError).
        with os.fdopen(fd, "wb") as out, archive.open(member.name) as stream:
            while True:
                if stop and stop():
                    return False
                piece = stream.read(CHUNK)
                if not piece:
                    break
                out.write(piece)
                done += len(piece)
                if progress:
                    progress(Phase.UNPACKING, done, total)
            out.flush()
            os.fsync(out.fileno())
    return True


def _make_folders(root: Path, folder: Path) -> None:
    """Make ``folder`` under ``root`` one level at a time; a link met on the way is refused."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            if path_kind(current) != "folder":
                where = current.relative_to(root)
                raise ArchiveError(f"{where} is not a folder in the unpacked tree") from None


def _write_record(library: Library, entry: Checkpoint, digest: str, found: list[Member]) -> None:
    record = {
        "format": RECORD_FORMAT,
        "id": entry.id,
        "folder": folder_for(library, entry).name,
        "archive_sha256": digest,
        "unpacked_at": units.timestamp(),
        "members": [m.as_json() for m in found],
    }
    atomic_write_json(record_path(library, entry), record)


def _put_in_place(temporary: Path, folder: Path, *, replace_ours: bool) -> None:
    if replace_ours:
        old = Path(temporary.as_posix() + "-old")
        os.rename(folder, old)
        os.rename(temporary, folder)
        shutil.rmtree(old, ignore_errors=True)
        return
    if os.path.lexists(folder):  # os.rename would replace an empty folder there
        raise FileExistsError(errno.EEXIST, "exists", str(folder))
    os.rename(temporary, folder)


def _extra_files(folder: Path, recorded: list[Member]) -> list[str]:
    names = {m.name for m in recorded}
    parents = {str(p) for m in recorded for p in PurePosixPath(m.name).parents if str(p) != "."}
    extra = []
    for dirpath, dirs, files in os.walk(folder):
        relative = Path(dirpath).relative_to(folder).as_posix()
        prefix = "" if relative == "." else relative + "/"
        for name in sorted(files):
            if prefix + name not in names:
                extra.append(prefix + name)
        for name in sorted(dirs):
            if prefix + name not in parents:
                extra.append(prefix + name + "/")
                dirs.remove(name)
    return extra


# -- checking and removing an unpacked folder ----------------------------------------------------------


def check_unpacked(
    library: Library, entry: Checkpoint, *, progress: Progress | None = None, stop: Stop | None = None
) -> FolderCheck | None:
    """Read the unpacked folder again: each recorded member a regular file of its size and CRC-32.
    None when the entry has no unpack record."""
    record = read_record(library, entry)
    if record is None:
        return None
    folder = folder_for(library, entry)
    check = FolderCheck(entry.id, folder)
    if path_kind(folder) != "folder":
        check.missing = [m.name for m in record["members"]]
        return check
    total, done = sum(m.size for m in record["members"]), 0
    for member in record["members"]:
        path = _member_path(folder, member.name)
        if path is None:
            check.changed.append(member.name)
            continue
        try:
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        except FileNotFoundError:
            check.missing.append(member.name)
            continue
        except OSError:
            check.changed.append(member.name)
            continue
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder opens too, but is no file to read
            os.close(fd)
            check.changed.append(member.name)
            continue
        crc = 0
        with os.fdopen(fd, "rb") as stream:
            while piece := stream.read(CHUNK):
                if stop and stop():
                    check.stopped = True
                    return check
                crc = zlib.crc32(piece, crc)
                done += len(piece)
                if progress:
                    progress(Phase.CHECKING, done, total)
            size = stream.tell()
        check.checked += 1
        if size != member.size or crc != member.crc:
            check.changed.append(member.name)
    check.extra = _extra_files(folder, record["members"])
    return check


def _member_path(folder: Path, name: str) -> Path | None:
    """Where a member is, when every folder on the way is a real folder (or missing); None when a link
    or a file stands in for one: nothing is read or deleted through it."""
    parts = name.split("/")
    current = folder
    for part in parts[:-1]:
        current = current / part
        kind = path_kind(current)
        if kind is None:
            break
        if kind != "folder":
            return None
    return folder.joinpath(*parts)


def remove_unpacked(library: Library, entry: Checkpoint) -> tuple[int, list[str]]:
    """Delete the files the record lists (regular files only), then the folders left empty, then the
    record; (bytes freed, what was left: files not from the archive, with the folders holding them)."""
    record = read_record(library, entry)
    if record is None:
        return 0, []
    folder = folder_for(library, entry)
    freed = 0
    if path_kind(folder) == "folder":
        for member in record["members"]:
            path = _member_path(folder, member.name)
            if path is None:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                os.unlink(path)
                freed += st.st_size
        for dirpath, _dirs, _files in sorted(os.walk(folder), key=lambda w: -len(w[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
    left = _extra_files(folder, []) if path_kind(folder) == "folder" else []
    try:
        os.unlink(record_path(library, entry))
    except FileNotFoundError:
        pass
    return freed, left
