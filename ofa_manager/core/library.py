"""The models folder: where each checkpoint's file lives, its state, its metadata and its lock."""

from __future__ import annotations

import contextlib
import enum
import errno
import hashlib
import json
import math
import os
import shutil
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ofa_manager.core import footprint, names, sharing, units
from ofa_manager.core.catalog import Catalog, Checkpoint, display_url, no_cycle_collection
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.settings import state_dir

if TYPE_CHECKING:
    from filelock import FileLock

PART_SUFFIX = ".part"
# A download that failed its sha256 or fingerprint check, kept (not thrown away): NAME.rejected, with what
# failed in .NAME.rejected.json. Accepting it adopts it as "differs from the catalog", never verified.
REJECTED_SUFFIX = ".rejected"
RECORD_SUFFIX = ".part.json"
HASH_CHUNK = 4 * 1024 * 1024
# How long a delete waits for a download of the same file to stop (after a cancel) before it goes ahead.
DELETE_WAIT = 2.0
# Records and metadata are a few hundred bytes; anything far larger is not one of ours.
MAX_RECORD_BYTES = 1024 * 1024
MAX_FILE_SIZE = 2**62
NOT_OURS = "a file ofa-manager did not download is at this path"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_HEX = frozenset("0123456789abcdef")
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


class State(str, enum.Enum):
    """Where a checkpoint stands on this disk."""

    REMOTE = "remote"
    PARTIAL = "partial"
    DOWNLOADED = "downloaded"
    CORRUPT = "corrupt"
    # Something at our path that ofa-manager cannot show it wrote (a user's file, a link, a folder): it is
    # never overwritten, adopted, reported as downloaded or deleted without being named (see reason).
    FOREIGN = "not-ours"
    # Not in the models folder but in a shared store (read-only, see Library.stores): present all the
    # same, used from there, never written, adopted or deleted.
    IN_STORE = "in-store"


class UnsafePathError(OSError):
    """A link, a folder or a special file is where ofa-manager keeps one of its own files."""


class NotOursError(OSError):
    """A file ofa-manager cannot show it wrote is where it was asked to delete or replace one."""


@dataclass
class FileStatus:
    """What the library knows about one file (shared by every entry with the same URL)."""

    state: State
    path: Path
    bytes: int  # on disk: the final file, or the partial file
    size: int | None  # expected size, from the catalog, the metadata or the resume record
    verified: bool = False  # the sha256 was computed and matched a known value
    sha256: str | None = None  # as computed over the file on disk, when known
    meta: dict = field(default_factory=dict)
    reason: str = ""  # why a file is not ours, or why its record was not trusted
    store_path: Path | None = None  # the shared store's file, for State.IN_STORE
    # What the file was checked against, known before it arrived: "sha256" (the catalog's), "crc64" or
    # "md5" (the server's own fingerprints, when the catalog has no sha256); None when nothing was.
    verified_by: str | None = None
    # The kept copy of a download that failed its check (see Library.quarantine), when there is one.
    rejected: dict | None = None

    @property
    def differs(self) -> bool:
        """Our file, kept although it does not match the catalog's sha256 or the server's fingerprint."""
        return self.state is State.DOWNLOADED and self.meta.get("state") == "differs"


@dataclass
class DiskUsage:
    """Bytes in the models folder and on its volume."""

    downloaded: int
    partial: int
    other: int
    free: int
    total: int
    per_entry: dict[str, int]
    per_file: dict[str, int]
    in_stores: int = 0  # bytes used from shared stores: not in the models folder, not on its volume
    rejected: int = 0  # kept copies of downloads that failed their check (NAME.rejected)


class Library:
    """The models folder for one catalog.

    Invariant: a file at its final path is complete, and verified where a sha256 is known. Data in
    progress lives in ``NAME.part`` with its resume record ``NAME.part.json``; metadata of a finished
    file in ``.NAME.meta.json``; the lock that keeps two processes off one file in ``.NAME.lock``.
    """

    def __init__(
        self,
        root: Path | str,
        catalog: Catalog,
        stores: Iterable[Path | str] = (),
        state_folder: Path | None = None,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.catalog = catalog
        with no_cycle_collection():
            self._paths = self._assign_paths(catalog)
        # Read-only folders (an administrator's copy, often on NFS) whose files count as present.
        resolved = (Path(s).expanduser().resolve() for s in stores)
        self.stores = [s for s in dict.fromkeys(resolved) if s != self.root]
        self._state_folder = state_folder

    # -- naming ---------------------------------------------------------------------------------

    def _assign_paths(self, catalog: Catalog) -> dict[str, Path]:
        """One path per URL; different URLs never share a path, even with the same file name (see
        core/names.py: the published name, in a folder per source host where names collide)."""
        wanted: dict[str, str] = {}
        for entry in catalog:
            wanted.setdefault(entry.url, entry.filename)
        paths, self._earlier = names.assign(self.root, wanted)
        return paths

    def earlier_paths(self, entry: Checkpoint) -> list[Path]:
        """Where earlier versions kept this entry's file, when that differs from its path now."""
        return self._earlier.get(entry.url, [])

    def path(self, entry: Checkpoint) -> Path:
        return self._paths[entry.url]

    def part_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + PART_SUFFIX)

    def record_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + RECORD_SUFFIX)

    def meta_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}.meta.json")

    def rejected_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + REJECTED_SUFFIX)

    def rejected_meta_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}{REJECTED_SUFFIX}.json")

    def lock_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}.lock")

    def lock(self, entry: Checkpoint) -> FileLock | sharing.FolderLock:
        """A lock on this file across processes, threads and (on NFS) hosts.

        A POSIX record lock where the system has them (see sharing.FolderLock), filelock elsewhere.
        Raises UnsafePathError when a link or a folder is at the lock's name: opening it would write
        through the link.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.lock_path(entry)
        if lock_path.parent != self.root:  # a source host's folder (core/names.py): never a link
            refuse_unsafe_folder(lock_path.parent)
            lock_path.parent.mkdir(exist_ok=True)
        refuse_unsafe(lock_path)
        if os.name == "posix":
            return sharing.FolderLock(lock_path)
        # Imported here: only downloads, deletes and moves lock, and the window draws before any of them.
        from filelock import FileLock

        return FileLock(str(lock_path))

    def sharing(self, entry: Checkpoint) -> list[Checkpoint]:
        return self.catalog.sharing(entry)

    def one_per_file(self, entries: Iterable[Checkpoint]) -> list[Checkpoint]:
        """The first of these entries for each distinct file, in their order."""
        first: dict[str, Checkpoint] = {}
        for entry in entries:
            first.setdefault(entry.url, entry)  # one path per URL, and one URL per path
        return list(first.values())

    def files(self) -> dict[Path, list[Checkpoint]]:
        """Every distinct file and the entries that use it, in catalog order."""
        result: dict[Path, list[Checkpoint]] = {}
        for entry in self.catalog:
            result.setdefault(self.path(entry), []).append(entry)
        return result

    # -- metadata and resume records ------------------------------------------------------------

    def read_meta(self, entry: Checkpoint) -> dict:
        """The finished file's metadata, or {} when there is none or it is damaged (never followed
        through a link)."""
        meta = read_json_nofollow(self.meta_path(entry))
        return meta if meta is not None and meta_problem(meta) is None else {}

    def write_meta(self, entry: Checkpoint, meta: dict) -> None:
        path = self.meta_path(entry)
        refuse_unsafe(path)
        atomic_write_json(path, meta, mode=sharing.file_mode(path.parent))

    def read_record(self, entry: Checkpoint) -> dict:
        """The resume record, or {} when it is missing, damaged or does not fit the partial file."""
        record, _reason = self.checked_record(entry)
        return record

    def checked_record(self, entry: Checkpoint) -> tuple[dict, str]:
        """The resume record after validation, and why it was discarded ("" when it was not)."""
        path = self.record_path(entry)
        kind = path_kind(path)
        if kind is None:
            return {}, ""
        if kind != "file":
            return {}, f"{describe_kind(kind)} is at {path.name}"
        record = read_json_nofollow(path)
        if record is None:
            return {}, f"its resume record {path.name} was discarded: it is not a readable record"
        part = self.part_path(entry)
        part_length = file_size(part) if path_kind(part) == "file" else None
        problem = record_problem(record, self.expected_size(entry), self.expected_sha256(entry), part_length)
        if problem:
            return {}, f"its resume record {path.name} was discarded: {problem}"
        return record, ""

    def write_record(self, entry: Checkpoint, record: dict) -> None:
        path = self.record_path(entry)
        refuse_unsafe(path)
        # Not fsynced: it is rewritten every second, and a kill -9 keeps the page cache anyway.
        atomic_write_json(path, record, durable=False, mode=sharing.file_mode(path.parent))

    def obstacles(self, entry: Checkpoint) -> list[str]:
        """Links, folders and special files at the names ofa-manager uses for this file, described.

        Nothing is followed or written through them, and they are left where they are.
        """
        found = []
        folder = self.path(entry).parent
        if folder != self.root and path_kind(folder) not in (None, "folder"):
            found.append(f"{describe_kind(path_kind(folder))} is at {folder}")
        own = (self.path(entry), self.part_path(entry), self.record_path(entry))
        for path in (*own, self.meta_path(entry), self.lock_path(entry)):
            kind = path_kind(path)
            if kind not in (None, "file"):
                found.append(f"{describe_kind(kind)} is at {path}")
        return found

    def drop_partial(self, entry: Checkpoint) -> int:
        """Remove the partial file and its record; returns the bytes freed, counted as the dialogs and
        `du` count them (``partial_bytes``). Links and folders at those names are left alone."""
        freed = self.partial_bytes(entry)
        for path in (self.part_path(entry), self.record_path(entry)):
            _unlink_file(path)
        return freed

    def partial_bytes(self, entry: Checkpoint) -> int:
        """What the partial file counts for everywhere: its data on disk (see core.footprint)."""
        part = self.part_path(entry)
        if path_kind(part) != "file":
            return 0
        return footprint.partial_data(part, self.read_record(entry))

    # -- state ----------------------------------------------------------------------------------

    def expected_size(self, entry: Checkpoint) -> int | None:
        if entry.size is not None:
            return entry.size
        for candidate in self.sharing(entry):
            if candidate.size is not None:
                return candidate.size
        return None

    def expected_sha256(self, entry: Checkpoint) -> str | None:
        if entry.sha256:
            return entry.sha256
        for candidate in self.sharing(entry):
            if candidate.sha256:
                return candidate.sha256
        return None

    def ownership(self, entry: Checkpoint, st: os.stat_result, meta: dict) -> str:
        """Why the regular file at the final path is not ours ("" when it is).

        Ours means: metadata written when ofa-manager downloaded the file (or adopted it against a
        size and sha256 known beforehand) for this entry's URL, and the file still has the size and
        modification time recorded then.
        """
        if not meta:
            kind = path_kind(self.meta_path(entry))
            if kind not in (None, "file"):
                return f"{NOT_OURS} ({describe_kind(kind)} is where its metadata belongs)"
            return f"{NOT_OURS} (its metadata is damaged)" if kind else NOT_OURS
        other = meta.get("catalog_url")
        # Compared without credentials: files never hold them (see catalog.display_url).
        if not isinstance(other, str) or display_url(other) != display_url(entry.url):
            return f"{NOT_OURS} (downloaded for another link: {display_url(other)})" if other else NOT_OURS
        if not self._proof(entry, meta):
            return NOT_OURS
        if meta.get("size") != st.st_size:
            return (
                f"the file at this path is not the one ofa-manager wrote: its size is {st.st_size} "
                f"bytes, {meta.get('size')} were recorded"
            )
        # Metadata written before the time was recorded (older versions) is taken on the size alone.
        if "mtime_ns" in meta and meta["mtime_ns"] != st.st_mtime_ns:
            return "the file at this path was modified after ofa-manager wrote it"
        return ""

    def _proof(self, entry: Checkpoint, meta: dict) -> bool:
        """Metadata that says ofa-manager itself put the file there after checking it."""
        if isinstance(meta.get("downloaded_at"), str) and meta.get("sha256"):
            return True
        expected = self.expected_sha256(entry)
        return bool(isinstance(meta.get("adopted_at"), str) and expected and meta.get("sha256") == expected)

    def status(self, entry: Checkpoint) -> FileStatus:
        """Where the file stands: the models folder's copy, else a shared store's, else remote."""
        local = self._local_status(entry)
        if not self.stores or local.state not in (State.REMOTE, State.PARTIAL):
            return local
        found, why = self.store_file(entry)
        if found is None:
            if why and local.state is State.REMOTE:
                local.reason = why
            return local
        store_path, st, recorded = found
        return FileStatus(
            State.IN_STORE,
            self.path(entry),
            st.st_size,
            self.expected_size(entry),
            verified=bool(recorded and recorded == self.expected_sha256(entry)),
            sha256=recorded,
            store_path=store_path,
        )

    def _local_status(self, entry: Checkpoint) -> FileStatus:
        path = self.path(entry)
        expected = self.expected_sha256(entry)
        expected_size = self.expected_size(entry)
        if path.parent != self.root and path_kind(path.parent) not in (None, "folder"):
            kind = describe_kind(path_kind(path.parent))
            reason = f"{kind} is at {path.parent.name}; ofa-manager leaves it alone"
            return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None:
            kind = _kind_of(st)
            if kind != "file":
                reason = f"{describe_kind(kind)} is at this path; ofa-manager leaves it alone"
                return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
            meta = self.read_meta(entry)
            reason = self.ownership(entry, st, meta)
            if reason:
                return FileStatus(State.FOREIGN, path, st.st_size, expected_size, reason=reason)
            size = meta["size"]
            corrupt = meta.get("state") == "corrupt"
            # Kept anyway by the user against this very catalog hash: it differs, it is not corrupt.
            accepted = meta.get("state") == "differs" and meta.get("catalog_sha256") == expected
            if expected and meta["sha256"] != expected and not accepted:
                corrupt = True
            if expected_size is not None and st.st_size != expected_size:
                corrupt = True
            verified = bool(expected and meta["sha256"] == expected and not corrupt)
            verified_by: str | None = None
            if verified:
                verified_by = "sha256"
            elif not expected and not corrupt and meta.get("verified_by") in ("crc64", "md5"):
                verified_by = meta["verified_by"]
            return FileStatus(
                State.CORRUPT if corrupt else State.DOWNLOADED,
                path,
                st.st_size,
                size,
                verified,
                meta.get("sha256"),
                meta,
                verified_by=verified_by,
            )
        part = self.part_path(entry)
        part_kind = path_kind(part)
        rejected = self.read_rejected(entry)
        if part_kind is None:
            return FileStatus(State.REMOTE, path, 0, expected_size, rejected=rejected)
        if part_kind != "file":
            reason = f"{describe_kind(part_kind)} is at {part.name}; ofa-manager leaves it alone"
            return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
        record, reason = self.checked_record(entry)
        size = record.get("size") or expected_size
        return FileStatus(
            State.PARTIAL,
            path,
            footprint.partial_data(part, record),
            size,
            meta=record,
            reason=reason,
            rejected=rejected,
        )

    def statuses(self) -> dict[str, FileStatus]:
        """Status per entry id: the folder is listed once, and only files found in it are looked at."""
        listed: dict[Path, set[str] | None] = {}
        by_url: dict[str, FileStatus] = {}
        result = {}
        with no_cycle_collection():  # thousands of small objects, no cycles among them
            for entry in self.catalog:
                status = by_url.get(entry.url)
                if status is None:
                    path = self._paths[entry.url]
                    if path.parent not in listed:  # the folder, or a source host's folder in it
                        listed[path.parent] = (
                            _names_in(path.parent) if path_kind(path.parent) != "link" else None
                        )
                    present = listed[path.parent]
                    # (A shared store may still have it: with stores, every state is asked.)
                    if present is not None and not self.stores and _folded(path.name) not in present:
                        # Neither the file nor its partial file (which starts with the same name) is there.
                        status = FileStatus(State.REMOTE, path, 0, self.expected_size(entry))
                    else:
                        status = self.status(entry)
                    by_url[entry.url] = status
                result[entry.id] = status
        return result

    # -- shared stores -------------------------------------------------------------------------

    def store_file(
        self, entry: Checkpoint, *, trust_recorded: bool = True
    ) -> tuple[tuple[Path, os.stat_result, str | None] | None, str]:
        """The shared store's copy of this file: (path, its stat, the sha256 recorded at the last
        verify or None), and why a copy found by name was not taken ("" when none was found).

        A file is recognised by its name (the name in the models folder, then the catalog's) and taken
        when it is a regular file (links are not followed) of the catalog's size, and not recorded as
        having another sha256 than the catalog's. Without a known size nothing is taken: the name
        alone proves nothing.
        """
        expected_size, expected = self.expected_size(entry), self.expected_sha256(entry)
        relative = str(self.path(entry).relative_to(self.root))  # with a source host's folder, if any
        names = dict.fromkeys((relative, self.path(entry).name, entry.filename))
        why = ""
        hashes = self._store_hashes() if trust_recorded else {}
        for store in self.stores:
            for name in names:
                candidate = store / name
                try:
                    st = os.lstat(candidate)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    why = why or f"{describe_kind(_kind_of(st))} is at {candidate} in the shared store"
                    continue
                if expected_size is None:
                    why = why or f"{candidate} in the shared store was not used: no size is known to check it"
                    continue
                if st.st_size != expected_size:
                    why = why or (
                        f"{candidate} in the shared store was not used: it has {st.st_size} bytes, "
                        f"the catalog says {expected_size}"
                    )
                    continue
                recorded = hashes.get(_store_key(candidate, st))
                if recorded and expected and recorded != expected:
                    why = why or (
                        f"{candidate} in the shared store was not used: its sha256 {recorded} does not "
                        f"match the catalog's {expected}"
                    )
                    continue
                return (candidate, st, recorded), ""
        return None, why

    def local_or_store_path(self, entry: Checkpoint) -> Path | None:
        """The file to open, link or copy the path of: ours in the models folder, else the shared
        store's; None when neither is present (a file that is not ours is not offered)."""
        status = self.status(entry)
        if status.state is State.DOWNLOADED:
            return status.path
        if status.state is State.IN_STORE:
            return status.store_path
        return None

    def verify_store(
        self,
        entry: Checkpoint,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[Path | None, str | None, bool | None]:
        """Hash the shared store's copy and record the result in the user's state folder (the store
        is never written): (its path, its sha256, whether it matches the catalog's; None when the
        catalog has no sha256 or nothing was hashed)."""
        found, _why = self.store_file(entry, trust_recorded=False)
        if found is None:
            return None, None, None
        path, st, _ = found
        digest = self.hash_file(path, progress, cancelled)
        if digest is None:
            return path, None, None
        after = os.lstat(path)
        if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
            return path, None, None
        hashes = self._store_hashes()
        hashes[_store_key(path, st)] = digest
        atomic_write_json(self._store_hashes_path(), {"version": 1, "sha256": hashes}, durable=False)
        expected = self.expected_sha256(entry)
        return path, digest, (digest == expected) if expected else None

    def _store_hashes_path(self) -> Path:
        return (self._state_folder or state_dir()) / "store-hashes.json"

    def _store_hashes(self) -> dict[str, str]:
        data = read_json_nofollow(self._store_hashes_path()) or {}
        hashes = data.get("sha256")
        if not isinstance(hashes, dict):
            return {}
        return {k: v for k, v in hashes.items() if isinstance(k, str) and _sha256_text(v)}

    # -- hashing, verification, adoption --------------------------------------------------------

    def hash_file(
        self,
        path: Path,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        crc_out: list[int] | None = None,
    ) -> str | None:
        """sha256 of a file (never read through a link); None when cancelled. With ``crc_out`` its
        CRC-64 (the server's fingerprint, see core.fingerprints) is appended there too."""
        digest = hashlib.sha256()
        crc = 0
        if crc_out is not None:
            from ofa_manager.core.fingerprints import crc64
        done = 0
        buf = bytearray(HASH_CHUNK)
        view = memoryview(buf)
        with open_nofollow(path, "rb") as fh:
            total = os.fstat(fh.fileno()).st_size
            while True:
                if cancelled and cancelled():
                    return None
                n = fh.readinto(buf)
                if not n:
                    break
                digest.update(view[:n])
                if crc_out is not None:
                    crc = crc64(view[:n], crc)
                done += n
                if progress:
                    progress(done, total)
        if crc_out is not None:
            crc_out.append(crc)
        return digest.hexdigest()

    def verify(
        self,
        entry: Checkpoint,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> FileStatus:
        """Re-hash the local file against what was known before it was found.

        Our file is compared with the catalog's sha256, else with the sha256 computed when it was
        downloaded, and the outcome (ok or corrupt) is recorded. A file that is not ours is taken as
        ours only when it matches a size and sha256 known beforehand (the catalog's, or those recorded
        when ofa-manager downloaded the file at this path); otherwise it stays "not ours", reported
        unverified or not matching, and nothing is written that a later run could take as proof.
        """
        path = self.path(entry)
        if path_kind(path) != "file":
            return self.status(entry)
        with self.lock(entry):
            before = self.status(entry)
            if before.state not in (State.DOWNLOADED, State.CORRUPT, State.FOREIGN):
                return before
            st = os.lstat(path)
            crc: list[int] = []
            digest = self.hash_file(path, progress, cancelled, crc_out=crc)
            if digest is None:
                return self.status(entry)
            after = os.lstat(path)
            if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
                now = self.status(entry)
                now.reason = "the file changed while it was being hashed; nothing was recorded"
                return now
            meta = self.read_meta(entry)
            if before.state is State.FOREIGN:
                return self._verify_not_ours(entry, st, digest, meta, before.reason)
            expected = self.expected_sha256(entry)
            expected_size = self.expected_size(entry)
            accepted = before.differs
            if accepted:
                # Kept anyway: held to the bytes that arrived, which the catalog does not vouch for.
                good = digest == meta["sha256"] and st.st_size == meta["size"]
            else:
                good = digest == (expected or meta["sha256"]) and expected_size in (None, st.st_size)
            server_crc = meta.get("server_crc64")
            if not expected and server_crc and crc and not accepted:
                # The server's own fingerprint, known before the file arrived: checked again.
                good = good and f"{crc[0]:016x}" == server_crc
            # A corrupt verdict keeps the hash recorded on arrival, so a second verify cannot bless it.
            if good:
                meta["sha256"] = digest
            state = ("differs" if accepted else "ok") if good else "corrupt"
            meta.update({"state": state, "verified_at": units.timestamp(), "sha256_found": digest})
            self.write_meta(entry, meta)
        return self.status(entry)

    def _verify_not_ours(
        self, entry: Checkpoint, st: os.stat_result, digest: str, meta: dict, why: str
    ) -> FileStatus:
        expected, expected_size = self.expected_sha256(entry), self.expected_size(entry)
        want_size: int | None
        if expected and expected_size is not None:
            want, want_size, whose = expected, expected_size, "the catalog's"
        elif meta.get("catalog_url") == entry.url and self._proof(entry, meta):
            want, want_size, whose = meta["sha256"], meta.get("size"), "the one recorded at download"
        else:
            reason = (
                f"unverified: {why}; no size and sha256 were known for it beforehand, so its hash "
                "proves nothing and nothing was recorded"
            )
            return FileStatus(
                State.FOREIGN, self.path(entry), st.st_size, expected_size, sha256=digest, reason=reason
            )
        if digest == want and st.st_size == want_size:
            if whose == "the catalog's":
                self._record_adopted(entry, st, digest)
            else:
                # The very bytes ofa-manager downloaded (only the time stamp changed): ours again.
                meta.update(
                    {
                        "state": "ok",
                        "verified_at": units.timestamp(),
                        "sha256_found": digest,
                        "mtime_ns": st.st_mtime_ns,
                    }
                )
                self.write_meta(entry, meta)
            return self.status(entry)
        reason = (
            f"{why}; its sha256 {digest} does not match {whose} ({want}), or its size does not; "
            "left as it is, nothing recorded"
        )
        return FileStatus(
            State.FOREIGN, self.path(entry), st.st_size, expected_size, sha256=digest, reason=reason
        )

    def adopt(self, entry: Checkpoint, cancelled: Callable[[], bool] | None = None) -> bool:
        """Take a file found at the final path as ours when it matches the catalog's size and sha256
        (known before it was found); True when adopted. What a server says now is no evidence."""
        path = self.path(entry)
        expected, want_size = self.expected_sha256(entry), self.expected_size(entry)
        if not expected or want_size is None or self.status(entry).state is not State.FOREIGN:
            return False
        if path_kind(path) != "file":
            return False
        st = os.lstat(path)
        if st.st_size != want_size:
            return False
        digest = self.hash_file(path, cancelled=cancelled)
        after = os.lstat(path)
        if digest != expected or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            return False
        self._record_adopted(entry, st, digest)
        return True

    def _record_adopted(self, entry: Checkpoint, st: os.stat_result, digest: str) -> None:
        now = units.timestamp()
        self.write_meta(
            entry,
            {
                "url": display_url(entry.url),
                "catalog_url": display_url(entry.url),
                "etag": None,
                "size": st.st_size,
                "sha256": digest,
                "state": "ok",
                "downloaded_at": None,
                "adopted_at": now,
                "verified_at": now,
                "sha256_found": digest,
                "mtime_ns": st.st_mtime_ns,
            },
        )

    # -- quarantine: downloads that failed their check ----------------------------------------

    def read_rejected(self, entry: Checkpoint) -> dict | None:
        """What is known about the kept copy of a download that failed its check (its sidecar), or None
        when there is none, or the file at NAME.rejected is not the one the sidecar describes."""
        info = read_json_nofollow(self.rejected_meta_path(entry))
        if info is None or not _sha256_text(info.get("sha256")) or not _int(info.get("size")):
            return None
        try:
            st = os.lstat(self.rejected_path(entry))
        except OSError:
            return None
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_size != info["size"]
            or info.get("mtime_ns") != st.st_mtime_ns
        ):
            return None
        return info

    def quarantine(self, entry: Checkpoint, info: dict) -> Path | None:
        """Keep the finished partial file that failed its check as NAME.rejected (replacing an earlier
        rejected copy of ours), with ``info`` (check, expected, found, sha256, url…) beside it; its resume
        record goes. Returns the kept path, or None when the data was discarded instead (a file that is
        not ours, or a link, is at the rejected name). The caller holds the entry's lock."""
        part, kept, sidecar = self.part_path(entry), self.rejected_path(entry), self.rejected_meta_path(entry)
        kind = path_kind(kept)
        if kind not in (None, "file") or path_kind(sidecar) not in (None, "file"):
            self.drop_partial(entry)
            return None
        if kind == "file" and self.read_rejected(entry) is None:
            self.drop_partial(entry)  # somebody else's file at that name is never replaced
            return None
        with open_nofollow(part, "r+b") as fh:
            os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
        record = {
            **info,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "catalog_url": display_url(entry.url),
            "rejected_at": units.timestamp(),
        }
        # The sidecar first: a crash before the rename leaves a sidecar that describes no file (ignored).
        atomic_write_json(sidecar, record, mode=sharing.file_mode(sidecar.parent))
        os.replace(part, kept)
        _unlink_file(self.record_path(entry))
        return kept

    def accept_rejected(self, entry: Checkpoint) -> FileStatus:
        """Keep the rejected copy anyway: it becomes the file, marked "differs from the catalog" (never
        verified), without downloading it again. Raises NotOursError when there is no rejected copy or
        the final path is taken by another file."""
        with self.lock(entry):
            info = self.read_rejected(entry)
            kept = self.rejected_path(entry)
            if info is None:
                raise NotOursError(f"{entry.id}: no rejected download is kept ({kept.name})")
            status = self._local_status(entry)
            if status.state in (State.DOWNLOADED, State.FOREIGN):
                raise NotOursError(
                    f"{status.path} is already there ({status.state.value}); the rejected copy {kept} "
                    "was left as it is"
                )
            self.drop_partial(entry)
            st = os.lstat(kept)
            self.write_meta(
                entry,
                {
                    "url": info.get("url") if _web_url(info.get("url")) else display_url(entry.url),
                    "catalog_url": display_url(entry.url),
                    "etag": info.get("etag") if _header_text(info.get("etag")) else None,
                    "size": st.st_size,
                    "sha256": info["sha256"],
                    "verified": False,
                    "verified_by": None,
                    "state": "differs",
                    # The catalog hash it was kept against: a new catalog hash is a new question.
                    "catalog_sha256": self.expected_sha256(entry),
                    "rejected_check": info.get("check"),
                    "rejected_reason": info.get("reason"),
                    "downloaded_at": info.get("downloaded_at")
                    or info.get("rejected_at")
                    or units.timestamp(),
                    "accepted_at": units.timestamp(),
                    "mtime_ns": st.st_mtime_ns,
                },
            )
            try:
                place_file(kept, self.path(entry), replace=status.state is State.CORRUPT)
            except (FileNotFoundError, NotOursError):
                self.forget(entry)
                raise
            _unlink_file(self.rejected_meta_path(entry))
        return self.status(entry)

    def delete_rejected(self, entry: Checkpoint) -> int:
        """Delete the rejected copy and its sidecar; returns the bytes freed. A file at the rejected name
        that the sidecar does not describe is not ours and stays."""
        with self._lock_for_delete(entry):
            return self.drop_rejected(entry)

    def drop_rejected(self, entry: Checkpoint) -> int:
        """delete_rejected for a caller that holds the entry's lock (a download that succeeded)."""
        freed = _unlink_file(self.rejected_path(entry)) if self.read_rejected(entry) is not None else 0
        _unlink_file(self.rejected_meta_path(entry))
        return freed

    # -- deleting -------------------------------------------------------------------------------

    def delete(self, entry: Checkpoint, *, partial_only: bool = False, force: bool = False) -> int:
        """Delete the local file (or only the partial data); returns the bytes freed.

        A file that is not ours is deleted only with ``force`` (NotOursError otherwise); links and
        folders at our names never are. A download of the same file holds its lock for as long as it
        runs; the delete waits a moment for one that is stopping, then deletes all the same: the
        download sees its file gone, stops and reports it removed (rather than the delete waiting for
        hours, then taking a finished file).
        """
        with self._lock_for_delete(entry):
            freed = self.drop_partial(entry)
            if partial_only:
                return freed
            path = self.path(entry)
            status = self.status(entry)
            kind = path_kind(path)
            if kind not in (None, "file"):
                raise NotOursError(f"{describe_kind(kind)} is at {path}; ofa-manager leaves it alone")
            if status.state is State.FOREIGN and kind == "file" and not force:
                raise NotOursError(f"{path}: {status.reason}; not deleted (--force deletes it)")
            freed += _unlink_file(path)
            self.forget(entry)
            return freed

    @contextlib.contextmanager
    def _lock_for_delete(self, entry: Checkpoint):
        from filelock import Timeout

        lock = self.lock(entry)
        try:
            lock.acquire(timeout=DELETE_WAIT)
        except Timeout:
            yield  # a running download holds the file; it notices the deletion by itself
            return
        try:
            yield
        finally:
            lock.release()

    def forget(self, entry: Checkpoint) -> None:
        """Drop the metadata of a file that is gone (deleted here or moved to the trash)."""
        _unlink_file(self.meta_path(entry))

    # -- disk usage -----------------------------------------------------------------------------

    def disk_usage(self) -> DiskUsage:
        statuses = self.statuses()
        downloaded = partial = partial_files = in_stores = rejected = 0
        per_file: dict[str, int] = {}
        counted: set[Path] = set()
        for entry in self.catalog:
            status = statuses[entry.id]
            if status.state is State.IN_STORE and status.path not in counted:
                counted.add(status.path)
                in_stores += status.bytes
            if status.rejected is not None and status.path not in counted:
                rejected += status.rejected["size"]
            if status.path in counted or status.state in (State.REMOTE, State.FOREIGN):
                counted.add(status.path)
                continue  # a file that is not ours is other data
            counted.add(status.path)
            if status.state is State.PARTIAL:
                # A segmented partial file is preallocated to full length: count its data (core.footprint).
                on_disk = status.bytes
                partial += on_disk
                partial_files += footprint.data_on_disk(self.part_path(entry))
            else:
                on_disk = status.bytes
                downloaded += on_disk
            per_file[str(status.path)] = on_disk
        per_entry = {e.id: per_file.get(str(statuses[e.id].path), 0) for e in self.catalog}
        everything = _tree_size(self.root)
        probe = self.root if self.root.exists() else _existing_parent(self.root)
        usage = shutil.disk_usage(probe)
        return DiskUsage(
            downloaded=downloaded,
            partial=partial,
            other=max(0, everything - downloaded - partial_files - rejected),
            free=usage.free,
            total=usage.total,
            per_entry=per_entry,
            per_file=per_file,
            in_stores=in_stores,
            rejected=rejected,
        )


def _store_key(path: Path, st: os.stat_result) -> str:
    """A store file's hash is valid for this path, size and modification time only."""
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def free_space(path: Path) -> int:
    return shutil.disk_usage(_existing_parent(path)).free


def _existing_parent(path: Path) -> Path:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def file_size(path: Path) -> int:
    """A file's size in bytes; 0 when there is no such file."""
    try:
        return path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return 0


# -- our names on disk: nothing followed, nothing trusted ------------------------------------------


def _kind_of(st: os.stat_result) -> str:
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISLNK(st.st_mode):
        return "link"
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    return "other"


def path_kind(path: Path) -> str | None:
    """What is at ``path`` itself (a link is not followed): file, link, folder, other, or None."""
    try:
        return _kind_of(os.lstat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def describe_kind(kind: str | None) -> str:
    return {
        "link": "a symbolic link",
        "folder": "a folder",
        "other": "a special file (not a regular file)",
        "file": "a file",
    }.get(kind or "", "nothing")


def refuse_unsafe(path: Path) -> None:
    """Raise UnsafePathError when something other than a regular file is at ``path``."""
    kind = path_kind(path)
    if kind not in (None, "file"):
        raise UnsafePathError(
            f"{describe_kind(kind)} is at {path} where ofa-manager keeps its own file; it is left alone "
            "(nothing in the models folder is followed through links): move it away"
        )


def refuse_unsafe_folder(path: Path) -> None:
    """Raise UnsafePathError when something other than a folder (a link to one included) is at ``path``."""
    kind = path_kind(path)
    if kind not in (None, "folder"):
        raise UnsafePathError(
            f"{describe_kind(kind)} is at {path} where ofa-manager keeps a folder of its own; it is left "
            "alone (nothing in the models folder is followed through links): move it away"
        )


def open_nofollow(path: Path, mode: str = "rb", *, create: bool = False):
    """Open a regular file unbuffered without following a link at ``path`` ("rb" or "r+b").

    A link, folder or special file raises UnsafePathError (a FIFO is not waited on).
    """
    flags = (os.O_RDWR if mode == "r+b" else os.O_RDONLY) | _O_NOFOLLOW | _O_BINARY | _O_NONBLOCK
    if create:
        flags |= os.O_CREAT
    refuse_unsafe(path)  # where O_NOFOLLOW does not exist (Windows), and for a clear message
    try:
        fd = os.open(path, flags, sharing.file_mode(Path(path).parent) if create else 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            refuse_unsafe(path)
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{path} is not a regular file; it is left alone")
        if create:
            sharing.share_new_file(fd, Path(path).parent)
        if _O_NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, mode, buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_json_nofollow(path: Path) -> dict | None:
    """A small JSON object from a regular file; None when missing, a link, too big or not JSON.

    NaN and Infinity are refused, as are numbers no record holds.
    """
    try:
        with open_nofollow(path, "rb") as fh:
            data = fh.read(MAX_RECORD_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_RECORD_BYTES:
        return None
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a record holds")


def _unlink_file(path: Path) -> int:
    """Remove a regular file (never a link or a folder at that name); returns the bytes freed."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if not stat.S_ISREG(st.st_mode):
        return 0
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return st.st_size


def place_file(source: Path, final: Path, *, replace: bool) -> None:
    """Move the finished partial file to its final name without ever overwriting another file there.

    ``replace`` is for our own corrupt file, which a new download replaces. Otherwise a hard link
    claims the name only when it is free (and the partial name goes after); where the file system has
    no hard links, the name is checked just before the rename.
    """
    if replace:
        refuse_unsafe(final)
        os.replace(source, final)
        return
    # The source is our own regular partial file; where linkat exists, a link there is still not followed.
    nofollow = {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}
    try:
        os.link(source, final, **nofollow)
    except FileExistsError:
        raise NotOursError(f"{final}: {NOT_OURS}; it was left as it is") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if path_kind(final) is not None:
            raise NotOursError(
                errno.EEXIST, f"{final}: {NOT_OURS}; it was left as it is", str(final)
            ) from None
        os.replace(source, final)
        return
    os.unlink(source)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sha256_text(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _crc_text(value) -> bool:
    return isinstance(value, str) and len(value) == 16 and set(value) <= _HEX


def _md5_text(value) -> bool:
    return isinstance(value, str) and len(value) == 32 and set(value) <= _HEX


def _header_text(value) -> bool:
    """A validator that may be sent back in an If-Range header: short, printable, one line."""
    return isinstance(value, str) and 0 < len(value) <= 1024 and value.isprintable() and value.isascii()


def _optional(value, check) -> bool:
    return value is None or check(value)


def _web_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) <= 8192


def record_problem(
    record: dict, expected_size: int | None, expected_sha256: str | None, part_length: int | None
) -> str | None:
    """Why a resume record cannot be trusted (None when it can): its types, its ranges inside its
    own size and the partial file's length, non-negative and in order, its size and hash against the
    catalog."""
    if part_length is None:
        return "its partial file is missing"
    if not _web_url(record.get("url")):
        return "no http(s) URL"
    size = record.get("size")
    if not _optional(size, lambda v: _int(v) and 0 <= v <= MAX_FILE_SIZE):
        return f"the size {size!r} is not a number of bytes"
    if expected_size is not None and size is not None and size != expected_size:
        return f"its size {size} is not the catalog's {expected_size}"
    sha = record.get("sha256")
    if not _optional(sha, _sha256_text):
        return "its sha256 is not 64 hex digits"
    if sha and expected_sha256 and sha != expected_sha256:
        return "it was started for another sha256 than the catalog's"
    for name in ("etag", "last_modified"):
        if not _optional(record.get(name), _header_text):
            return f"its {name} is not a short line of text"
    # The server's fingerprints, recorded with the first answer (see core.fingerprints).
    if not _optional(record.get("server_crc64"), _crc_text):
        return "its server CRC-64 is not 16 hex digits"
    if not _optional(record.get("server_md5"), _md5_text):
        return "its server MD5 is not 32 hex digits"
    for name in ("started", "updated"):
        value = record.get(name)
        if value is not None and not (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ):
            return f"its {name} time is not a number"
    ranges = record.get("ranges", [])
    if not isinstance(ranges, list):
        return "its ranges are not a list"
    if ranges and size is None:
        return "it has ranges but no size"
    previous = 0
    limit = min(size, part_length) if size is not None else part_length
    for item in ranges:
        if not (isinstance(item, list) and len(item) == 2 and _int(item[0]) and _int(item[1])):
            return f"the range {item!r} is not two whole numbers"
        start, end = item
        if not 0 <= start < end:
            return f"the range {item!r} is empty or negative"
        if start < previous:
            return f"the range {item!r} overlaps or is out of order"
        if end > limit:
            return f"the range {item!r} goes past the end of the file ({limit} bytes)"
        previous = end
    return None


def meta_problem(meta: dict) -> str | None:
    """Why a finished file's metadata cannot be trusted (None when it can): the type of each field."""
    checks = {
        "url": _web_url,
        "catalog_url": _web_url,
        "etag": lambda v: _optional(v, _header_text),
        "last_modified": lambda v: _optional(v, _header_text),
        "size": lambda v: _int(v) and 0 <= v <= MAX_FILE_SIZE,
        "sha256": lambda v: _optional(v, _sha256_text),
        "sha256_found": lambda v: _optional(v, _sha256_text),
        "state": lambda v: v in ("ok", "corrupt", "differs"),
        "verified": lambda v: isinstance(v, bool),
        "downloaded_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "adopted_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "verified_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "mtime_ns": lambda v: _int(v) and v >= 0,
        "verified_by": lambda v: v in (None, "sha256", "crc64", "md5"),
        "server_crc64": lambda v: _optional(v, _crc_text),
        "crc64": lambda v: _optional(v, _crc_text),
        "server_md5": lambda v: _optional(v, _md5_text),
        "md5": lambda v: _optional(v, _md5_text),
    }
    for name, check in checks.items():
        if name in meta and not check(meta[name]):
            return f"its {name} is not valid"
    return None


def _folded(name: str) -> str:
    """A file name as a case-insensitive, normalising file system (macOS, Windows) compares it."""
    return name.casefold() if name.isascii() else unicodedata.normalize("NFC", name).casefold()


def _names_in(folder: Path) -> set[str] | None:
    """Folded names of the files in ``folder`` and the names they start with up to ``.part`` or
    ``.rejected``; None when the folder cannot be listed (then each file is looked at on its own)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return set()
    except OSError:
        return None
    found = set()
    for name in names:
        name = _folded(name)
        found.add(name)
        for suffix in (PART_SUFFIX, REJECTED_SUFFIX):
            if name.endswith(suffix):
                found.add(name[: -len(suffix)])
    return found


def _tree_size(root: Path) -> int:
    """The data on disk of every file under ``root`` (holes of sparse files not counted)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            total += footprint.data_on_disk(os.path.join(dirpath, name))
    return total
