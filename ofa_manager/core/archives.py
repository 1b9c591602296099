"""Zip archives in the models folder: their members checked, unpacked safely into a folder next to them.

An entry whose file name ends in ``.zip`` (OFA publishes one holding a checkpoint with a CLIP and a VQGAN
checkpoint) can be unpacked once its file is downloaded and verified: ``NAME.zip`` becomes the folder
``NAME/`` beside it in the models folder. Before a byte is written, every member is checked
(``check_members``), and the archive is refused as a whole when one fails:

- its name is a relative path inside the folder: no absolute path (``/x``, ``C:x``, ``\\\\host``), no
  backslash, no ``..``, ``.`` or empty segment, no control characters, each segment a plain file name;
- it is a regular file or a folder: the zip's external attributes mark no symbolic link, device or pipe;
- no two members have one name, also as a case-insensitive (macOS, Windows) file system compares them,
  and no file is also a folder of another member: nothing unpacked overwrites anything unpacked;
- it is not encrypted, its compression is one zipfile reads, and it does not overlap another member;
- against zip bombs: at most ``MAX_MEMBERS`` members, at most ``MAX_TOTAL_BYTES`` in all and no more
  than the free space (less a margin), and no member over ``RATIO_FLOOR`` bytes that expands more
  than ``MAX_RATIO`` times. While unpacking, no member yields more bytes than it declared (zipfile stops
at its size).

Members are written into a hidden temporary folder (``.NAME.unpacking-*``) with files created anew
(never through a link), each one's CRC-32 checked as it is read; the folder takes its final name only
when complete, so nothing half-unpacked is ever at ``NAME/``. The record ``.NAME.zip.unpacked.json``
(written just before that rename) lists each member's size and CRC-32 and the archive's sha256:
``check_unpacked`` re-reads the folder against it, and ``remove_unpacked`` deletes only the files it
lists.

Plain Python: the command line and the window call ``unpack``, ``check_unpacked``, ``remove_unpacked``.
"""

from __future__ import annotations

import enum
import errno
import os
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint, check_filename
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.safe_files import describe_kind, free_space, path_kind, read_json_nofollow

ARCHIVE_SUFFIXES = (".zip",)
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 256 * 1024**3
MAX_RATIO = 100  # checkpoints barely compress (about 1.1 times); a bomb expands a thousand times
RATIO_FLOOR = 1024 * 1024  # smaller members may compress as they like (text, empty files)
SPACE_MARGIN = 64 * 1024 * 1024  # left free on the volume after unpacking
CHUNK = 4 * 1024 * 1024
RECORD_FORMAT = 1
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


class Phase(str, enum.Enum):
    VERIFYING = "verifying"  # the archive's sha256, read again
    UNPACKING = "unpacking"
    CHECKING = "checking"  # an unpacked folder's CRC-32s, read again


Progress = Callable[[Phase, int, int], None]
Stop = Callable[[], bool]


class ArchiveError(ValueError):
    """An archive that is not unpacked, and why (nothing was written at the folder's name)."""


class Outcome(str, enum.Enum):
    UNPACKED = "unpacked"
    ALREADY = "already-unpacked"  # the recorded folder is there, from these very bytes
    REFUSED = "refused"  # a member or the archive failed a check; the message says which
    NOT_READY = "not-ready"  # not downloaded, not verified, or not an archive
    TAKEN = "taken"  # something that is not our unpacked folder is at the folder's name
    STOPPED = "stopped"  # stopped by the user; nothing left behind


@dataclass(frozen=True)
class Member:
    """One file an archive holds (folders are implied by the paths)."""

    name: str  # relative, '/'-separated, checked
    size: int
    crc: int  # CRC-32 as the zip records it

    def as_json(self) -> dict:
        return {"name": self.name, "size": self.size, "crc32": f"{self.crc:08x}"}


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


@dataclass
class UnpackPlan:
    """What unpacking would do, read from the archive's directory alone (for a question before it)."""

    entry_id: str
    folder: Path
    members: list[Member]
    free: int
    unpacked: bool  # our folder is already there
    problem: str = ""  # why it would be refused ("" when it would not)

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)


# -- what is an archive, and where it unpacks --------------------------------------------------------


def is_archive(entry: Checkpoint) -> bool:
    return entry.filename.lower().endswith(ARCHIVE_SUFFIXES)


def folder_for(library: Library, entry: Checkpoint) -> Path:
    """``NAME/`` beside ``NAME.zip`` in the models folder."""
    path = library.path(entry)
    for suffix in ARCHIVE_SUFFIXES:
        if path.name.lower().endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path.with_name(path.name + ".unpacked")


def record_path(library: Library, entry: Checkpoint) -> Path:
    path = library.path(entry)
    return path.with_name(f".{path.name}.unpacked.json")


def read_record(library: Library, entry: Checkpoint) -> dict | None:
    """The unpack record when it is well formed and names this entry's folder; None otherwise."""
    record = read_json_nofollow(record_path(library, entry))
    if record is None or record.get("format") != RECORD_FORMAT:
        return None
    if record.get("folder") != folder_for(library, entry).name:
        return None
    members = record.get("members")
    if not isinstance(members, list) or not isinstance(record.get("archive_sha256"), str):
        return None
    try:
        parsed = [_member_from_json(m) for m in members]
        check_names([m.name for m in parsed])
    except (ArchiveError, TypeError, ValueError, KeyError):
        return None
    record["members"] = parsed
    return record


def _member_from_json(row: dict) -> Member:
    name, size, crc = row["name"], row["size"], int(row["crc32"], 16)
    if not isinstance(name, str) or type(size) is not int or size < 0 or not 0 <= crc <= 0xFFFFFFFF:
        raise ValueError("not a member")
    return Member(name, size, crc)


def unpacked_folder(library: Library, entry: Checkpoint) -> Path | None:
    """The entry's unpacked folder when its record and the folder are there (not read again)."""
    if read_record(library, entry) is None:
        return None
    folder = folder_for(library, entry)
    return folder if path_kind(folder) == "folder" else None


def members(library: Library, entry: Checkpoint) -> list[str] | None:
    """The member file names an archive entry holds, as best known without fetching anything: the
    unpack record, else the downloaded archive's directory, else the catalog's ``members`` list."""
    if not is_archive(entry):
        return None
    record = read_record(library, entry)
    if record is not None:
        return [m.name for m in record["members"]]
    source = library.local_or_store_path(entry)
    if source is not None:
        try:
            with zipfile.ZipFile(source) as archive:
                return [m.name for m in check_members(archive.infolist())]
        except (OSError, zipfile.BadZipFile, ArchiveError, EOFError):
            pass
    listed = entry.extra.get("members")
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
        try:
            check_names(listed)
        except ArchiveError:
            return None
        return list(listed)
    return None


def plan_unpack(library: Library, entry: Checkpoint) -> UnpackPlan:
    """The members, their size against the free space, and any problem, without hashing or writing."""
    folder = folder_for(library, entry)
    free = free_space(library.root)
    plan = UnpackPlan(entry.id, folder, [], free, unpacked_folder(library, entry) is not None)
    source = library.local_or_store_path(entry)
    if not is_archive(entry) or source is None:
        plan.problem = f"{entry.id} is not a downloaded .zip archive"
        return plan
    try:
        with zipfile.ZipFile(source) as archive:
            plan.members = check_members(archive.infolist(), free=None)
    except ArchiveError as exc:
        plan.problem = str(exc)
        return plan
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        plan.problem = f"the archive cannot be read: {exc}"
        return plan
    if not plan.unpacked and plan.size + SPACE_MARGIN > free:
        plan.problem = f"it unpacks to {units.size(plan.size)}, and only {units.size(free)} is free"
    return plan


def unpacked_of(library: Library, entries) -> list[tuple[Checkpoint, Path, int]]:
    """(entry, folder, bytes) of each of these entries that has an unpacked folder: what deleting the
    entries deletes too, unless the user keeps it."""
    found = []
    for entry in library.one_per_file(entries):
        record = read_record(library, entry)
        if record is not None:
            found.append((entry, folder_for(library, entry), sum(m.size for m in record["members"])))
    return found


# -- the checks --------------------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why a member name cannot be unpacked inside the folder (None when it can)."""
    if not name:
        return "has an empty name"
    if _CONTROL.search(name):
        return "has a control character in its name"
    if "\\" in name:
        return "has a backslash in its name (a Windows path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "has an absolute path"
    parts = name.rstrip("/").split("/") if name != "/" else [""]
    if any(part == ".." for part in parts):
        return "has '..' in its path (it would land outside the folder)"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' segment in its path"
    for part in parts:
        problem = check_filename(part)
        if problem and not part.startswith("."):  # hidden files inside an archive are allowed
            return f"has a path segment that {problem}"
    return None


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_names(names: list[str], dirs: frozenset[str] = frozenset()) -> None:
    """Every name safe, none twice (also case-insensitively), no file where another needs a folder."""
    seen: dict[str, str] = {}
    for name in names:
        problem = name_problem(name)
        if problem:
            raise ArchiveError(f"member {name!r} {problem}")
        key = _folded(name)
        if key in seen:
            how = "twice" if seen[key] == name else f"twice (as {seen[key]!r}: one name, case ignored)"
            raise ArchiveError(f"member {name!r} is in the archive {how}: one would overwrite the other")
        seen[key] = name
    for name in names:
        parent = PurePosixPath(name).parent
        while str(parent) != ".":
            other = seen.get(_folded(str(parent)))
            if other is not None:
                raise ArchiveError(f"member {other!r} is a file, and member {name!r} needs it as a folder")
            parent = parent.parent
    for folder in dirs:
        if _folded(folder) in seen:
            raise ArchiveError(f"member {folder!r} is both a file and a folder in the archive")


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/")


def _file_type(info: zipfile.ZipInfo) -> int | None:
    """The Unix file type in the external attributes, when the zip was made on a system that sets it."""
    return stat.S_IFMT(info.external_attr >> 16) or None  # permissions alone say nothing of the type


def check_members(
    infos: list[zipfile.ZipInfo],
    *,
    free: int | None = None,
    max_total: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
    max_ratio: float = MAX_RATIO,
) -> list[Member]:
    """The archive's files, after every check of the module; raises ArchiveError naming the first
    member (or the total) that fails."""
    if len(infos) > max_members:
        raise ArchiveError(f"the archive has {len(infos)} members, more than the {max_members} allowed")
    files, dirs = [], set()
    for info in infos:
        name = info.filename
        kind = _file_type(info)
        if kind == stat.S_IFLNK:
            raise ArchiveError(f"member {name!r} is a symbolic link; links are not unpacked")
        if kind not in (None, stat.S_IFREG, stat.S_IFDIR):
            raise ArchiveError(f"member {name!r} is a special file (a device, pipe or socket)")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {name!r} is encrypted")
        if _is_dir(info) or kind == stat.S_IFDIR:
            problem = name_problem(name)
            if problem:
                raise ArchiveError(f"member {name!r} {problem}")
            dirs.add(name.rstrip("/"))
            continue
        if info.compress_type not in _SUPPORTED:
            raise ArchiveError(f"member {name!r} uses compression method {info.compress_type}, not read here")
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ArchiveError(
                f"member {name!r} expands {ratio:.0f} times ({units.size(info.compress_size)} to "
                f"{units.size(info.file_size)}), more than the {max_ratio:g} allowed: a zip bomb?"
            )
        files.append(info)
    check_names([i.filename for i in files], frozenset(dirs))
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.header_offset + before.compress_size > after.header_offset:
            raise ArchiveError(f"members {before.filename!r} and {after.filename!r} overlap in the archive")
    total = sum(i.file_size for i in files)
    if total > max_total:
        raise ArchiveError(
            f"the archive unpacks to {units.size(total)}, more than the {units.size(max_total)} allowed"
        )
    if free is not None and total + SPACE_MARGIN > free:
        raise ArchiveError(
            f"the archive unpacks to {units.size(total)}, and only {units.size(free)} is free "
            f"(less a margin of {units.size(SPACE_MARGIN)})"
        )
    return [Member(i.filename, i.file_size, i.CRC) for i in files]


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

    def result(outcome: Outcome, reason: str = "", found: list[Member] | None = None) -> UnpackResult:
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
                    free=free_space(library.root) + _replaced_bytes(folder, record, again),
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


def _replaced_bytes(folder: Path, record: dict | None, again: bool) -> int:
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
        crc = 0
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                check.changed.append(member.name)
                continue
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
