"""The models folder: where each checkpoint's file lives, its state, its metadata and its lock."""

from __future__ import annotations

import enum
import hashlib
import json
import os
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ofa_manager.core.catalog import Catalog, Checkpoint, no_cycle_collection
from ofa_manager.core.settings import atomic_write_json

if TYPE_CHECKING:
    from filelock import FileLock

PART_SUFFIX = ".part"
RECORD_SUFFIX = ".part.json"
HASH_CHUNK = 4 * 1024 * 1024


class State(str, enum.Enum):
    """Where a checkpoint stands on this disk."""

    REMOTE = "remote"
    PARTIAL = "partial"
    DOWNLOADED = "downloaded"
    CORRUPT = "corrupt"


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


class Library:
    """The models folder for one catalog.

    Invariant: a file at its final path is complete, and verified where a sha256 is known. Data in
    progress lives in ``NAME.part`` with its resume record ``NAME.part.json``; metadata of a finished
    file in ``.NAME.meta.json``; the lock that keeps two processes off one file in ``.NAME.lock``.
    """

    def __init__(self, root: Path | str, catalog: Catalog) -> None:
        self.root = Path(root).expanduser().resolve()
        self.catalog = catalog
        with no_cycle_collection():
            self._paths = self._assign_paths(catalog)

    # -- naming ---------------------------------------------------------------------------------

    def _assign_paths(self, catalog: Catalog) -> dict[str, Path]:
        """One path per URL; different URLs never share a path, even with the same file name."""
        # Names are compared case-insensitively: on macOS and Windows "A.pt" and "a.pt" are one file.
        names: dict[str, set[str]] = {}
        wanted: dict[str, str] = {}
        for entry in catalog:
            wanted.setdefault(entry.url, entry.filename)
            names.setdefault(entry.filename.casefold(), set()).add(entry.url)
        paths = {}
        for url, name in wanted.items():
            if len(names[name.casefold()]) > 1:
                stem, suffix = os.path.splitext(name)
                name = f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:8]}{suffix}"
            paths[url] = self.root / name
        return paths

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

    def lock(self, entry: Checkpoint) -> FileLock:
        """An inter-process lock on this file; thread-local so two threads also exclude each other."""
        # Imported here: only downloads, deletes and moves lock, and the window draws before any of them.
        from filelock import FileLock

        path = self.path(entry)
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(path.with_name(f".{path.name}.lock")))

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
        return _read_json(self.meta_path(entry))

    def write_meta(self, entry: Checkpoint, meta: dict) -> None:
        atomic_write_json(self.meta_path(entry), meta)

    def read_record(self, entry: Checkpoint) -> dict:
        return _read_json(self.record_path(entry))

    def write_record(self, entry: Checkpoint, record: dict) -> None:
        # Not fsynced: it is rewritten every second, and a kill -9 keeps the page cache anyway.
        atomic_write_json(self.record_path(entry), record, durable=False)

    def drop_partial(self, entry: Checkpoint) -> int:
        """Remove the partial file and its record; returns the bytes freed."""
        freed = 0
        for path in (self.part_path(entry), self.record_path(entry)):
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
        return freed

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

    def status(self, entry: Checkpoint) -> FileStatus:
        path = self.path(entry)
        expected = self.expected_sha256(entry)
        try:
            st = path.stat()
        except FileNotFoundError:
            st = None
        if st is not None:
            meta = self.read_meta(entry)
            if meta.get("catalog_url", entry.url) != entry.url:
                # Fetched for another catalog's URL that happens to use the same file name: not ours.
                return FileStatus(State.REMOTE, path, 0, self.expected_size(entry), meta={"foreign": True})
            size = meta.get("size") or self.expected_size(entry) or st.st_size
            corrupt = meta.get("state") == "corrupt"
            if expected and meta.get("sha256") and meta["sha256"] != expected:
                corrupt = True
            if self.expected_size(entry) is not None and st.st_size != self.expected_size(entry):
                corrupt = True
            verified = bool(expected and meta.get("sha256") == expected and not corrupt)
            return FileStatus(
                State.CORRUPT if corrupt else State.DOWNLOADED,
                path,
                st.st_size,
                size,
                verified,
                meta.get("sha256"),
                meta,
            )
        part = self.part_path(entry)
        try:
            part_bytes = part.stat().st_size
        except FileNotFoundError:
            return FileStatus(State.REMOTE, path, 0, self.expected_size(entry))
        record = self.read_record(entry)
        done = sum(end - start for start, end in record.get("ranges", []))
        size = record.get("size") or self.expected_size(entry)
        return FileStatus(State.PARTIAL, path, max(part_bytes if not done else done, 0), size, meta=record)

    def statuses(self) -> dict[str, FileStatus]:
        """Status per entry id: the folder is listed once, and only files found in it are looked at."""
        present = _names_in(self.root)
        by_url: dict[str, FileStatus] = {}
        result = {}
        with no_cycle_collection():  # thousands of small objects, no cycles among them
            for entry in self.catalog:
                status = by_url.get(entry.url)
                if status is None:
                    path = self._paths[entry.url]
                    if present is not None and _folded(path.name) not in present:
                        # Neither the file nor its partial file (which starts with the same name) is there.
                        status = FileStatus(State.REMOTE, path, 0, self.expected_size(entry))
                    else:
                        status = self.status(entry)
                    by_url[entry.url] = status
                result[entry.id] = status
        return result

    # -- hashing, verification, adoption --------------------------------------------------------

    def hash_file(
        self,
        path: Path,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> str | None:
        """sha256 of a file; None when cancelled."""
        digest = hashlib.sha256()
        total = path.stat().st_size
        done = 0
        buf = bytearray(HASH_CHUNK)
        view = memoryview(buf)
        with open(path, "rb", buffering=0) as fh:
            while True:
                if cancelled and cancelled():
                    return None
                n = fh.readinto(buf)
                if not n:
                    break
                digest.update(view[:n])
                done += n
                if progress:
                    progress(done, total)
        return digest.hexdigest()

    def verify(
        self,
        entry: Checkpoint,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> FileStatus:
        """Re-hash the local file and record the outcome; state ``corrupt`` on a mismatch."""
        path = self.path(entry)
        if not path.exists():
            return self.status(entry)
        with self.lock(entry):
            digest = self.hash_file(path, progress, cancelled)
            if digest is None:
                return self.status(entry)
            meta = self.read_meta(entry)
            expected = self.expected_sha256(entry)
            expected_size = self.expected_size(entry) or meta.get("size")
            size = path.stat().st_size
            good = (not expected or digest == expected) and (not expected_size or size == expected_size)
            if not expected and meta.get("sha256"):
                # Without a published hash, compare with the hash recorded when the file arrived (kept
                # as it was by a corrupt verdict, so a second verify cannot bless the damage).
                good = good and digest == meta["sha256"]
            meta.update(
                {
                    "url": meta.get("url", entry.url),
                    "size": size if good else meta.get("size", expected_size),
                    "state": "ok" if good else "corrupt",
                    "verified_at": _now(),
                    "sha256": digest if good or not meta.get("sha256") else meta["sha256"],
                    "sha256_found": digest,
                }
            )
            self.write_meta(entry, meta)
        return self.status(entry)

    def adopt(
        self,
        entry: Checkpoint,
        remote_size: int | None = None,
        etag: str | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> bool:
        """Accept a file someone put at the final path if it checks out; True when adopted.

        With a known sha256 the hash decides; otherwise the size (catalog or server) must match.
        """
        path = self.path(entry)
        if not path.exists() or self.meta_path(entry).exists():
            return False
        expected = self.expected_sha256(entry)
        size = path.stat().st_size
        want_size = self.expected_size(entry) or remote_size
        if want_size is not None and size != want_size:
            return False
        if not expected and want_size is None:
            return False
        digest = self.hash_file(path, cancelled=cancelled)
        if digest is None or (expected and digest != expected):
            return False
        self.write_meta(
            entry,
            {
                "url": entry.url,
                "catalog_url": entry.url,
                "etag": etag,
                "size": size,
                "sha256": digest,
                "state": "ok",
                "downloaded_at": None,
                "adopted_at": _now(),
                "verified_at": _now(),
            },
        )
        return True

    # -- deleting -------------------------------------------------------------------------------

    def delete(self, entry: Checkpoint, *, partial_only: bool = False) -> int:
        """Delete the local file (or only the partial data); returns the bytes freed."""
        with self.lock(entry):
            freed = self.drop_partial(entry)
            if partial_only:
                return freed
            path = self.path(entry)
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
            self.forget(entry)
            return freed

    def forget(self, entry: Checkpoint) -> None:
        """Drop the metadata of a file that is gone (deleted here or moved to the trash)."""
        try:
            self.meta_path(entry).unlink()
        except FileNotFoundError:
            pass

    # -- disk usage -----------------------------------------------------------------------------

    def disk_usage(self) -> DiskUsage:
        statuses = self.statuses()
        downloaded = partial = partial_files = 0
        per_file: dict[str, int] = {}
        counted: set[Path] = set()
        for entry in self.catalog:
            status = statuses[entry.id]
            if status.path in counted or status.state is State.REMOTE:
                continue
            counted.add(status.path)
            if status.state is State.PARTIAL:
                # A segmented partial file is preallocated to full length: count the bytes received.
                on_disk = status.bytes
                partial += on_disk
                partial_files += file_size(self.part_path(entry))
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
            other=max(0, everything - downloaded - partial_files),
            free=usage.free,
            total=usage.total,
            per_entry=per_entry,
            per_file=per_file,
        )


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
    except FileNotFoundError:
        return 0


def _folded(name: str) -> str:
    """A file name as a case-insensitive, normalising file system (macOS, Windows) compares it."""
    return name.casefold() if name.isascii() else unicodedata.normalize("NFC", name).casefold()


def _names_in(folder: Path) -> set[str] | None:
    """Folded names of the files in ``folder`` and the names they start with up to ``.part``; None when
    the folder cannot be listed (then each file is looked at on its own)."""
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
        if name.endswith(PART_SUFFIX):
            found.add(name[: -len(PART_SUFFIX)])
    return found


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def is_inside(root: Path, path: PurePath) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
