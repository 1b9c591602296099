"""What is known of an archive entry without writing anything: whether it is one, where it unpacks, its
unpack record, the member names it holds, and what unpacking it would take (for a question before it).

An entry whose file name ends in ``.zip`` unpacks into the folder ``NAME/`` beside ``NAME.zip`` in the
models folder (``folder_for``). The record ``.NAME.zip.unpacked.json`` (core.archives writes it just
before the folder takes its name) lists each member's size and CRC-32 and the archive's sha256;
``read_record`` accepts only a well-formed record that names this entry's folder, its member names
checked again (core.archive_checks). The links (core.linking) and the command line ask here.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ofa_manager.core import units
from ofa_manager.core.archive_checks import SPACE_MARGIN, ArchiveError, Member, check_members, check_names
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.library import Library
from ofa_manager.core.safe_files import free_space, path_kind, read_json_nofollow

ARCHIVE_SUFFIXES = (".zip",)
RECORD_FORMAT = 1


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
