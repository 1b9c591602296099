"""What an action would do, decided before anything is asked or done: the download plan, the deletion impact.

Prepared here, asked in the front end: the window builds its confirmation dialogs from these plans and
the command line prints the same facts and takes its answers from flags or the terminal. Both describe
what they know of the models folder through ``Known`` (the window: its last scan, its queue and its link
checks; the command line: the disk, through ``DiskView``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ofa_manager.core.catalog import Catalog, Checkpoint
from ofa_manager.core.describe import wants_file
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.library import Library
from ofa_manager.core.states import UNFINISHED, QueueItem


class Known(Protocol):
    """What a front end knows now about each checkpoint's file (the window's workspace is one)."""

    def status_of(self, entry: Checkpoint) -> FileStatus | None: ...

    def item_for(self, entry: Checkpoint) -> QueueItem | None: ...

    def size_of(self, entry: Checkpoint) -> int | None: ...


class DiskView:
    """``Known`` as the disk tells it, with nothing queued: what the command line knows."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def status_of(self, entry: Checkpoint) -> FileStatus:
        return self.library.status(entry)

    def item_for(self, entry: Checkpoint) -> QueueItem | None:
        return None

    def size_of(self, entry: Checkpoint) -> int | None:
        size = self.library.expected_size(entry)
        if size is not None:
            return size
        status = self.status_of(entry)
        return status.size if status.state is not State.REMOTE and status.size else None


@dataclass
class DownloadPlan:
    """What pressing Download would queue, decided before anything is asked or queued."""

    entries: list[Checkpoint]  # the checkpoints asked for that need their file
    missing_bases: list[Checkpoint] = field(default_factory=list)  # backbones they need, not here or queued
    needed: int = 0  # bytes still to fetch for ``entries`` (known sizes only)
    needed_with_bases: int = 0  # the same, with the backbones
    already_queued: int = 0  # bytes the unfinished downloads still have to fetch
    unknown: int = 0  # files whose size nobody knows yet
    free: int = 0  # free bytes on the models folder's volume

    def users_of_missing_bases(self) -> list[Checkpoint]:
        """The checkpoints asked for that need one of the missing backbones."""
        missing = {b.id for b in self.missing_bases}
        return [e for e in self.entries if e.base in missing]

    def space_needed(self, *, with_bases: bool) -> int:
        """Bytes to fetch, those of the downloads already queued included."""
        return (self.needed_with_bases if with_bases else self.needed) + self.already_queued

    def short_of_space(self, *, with_bases: bool) -> bool:
        return self.space_needed(with_bases=with_bases) > self.free


def plan_download(
    entries: Iterable[Checkpoint],
    catalog: Catalog,
    library: Library,
    known: Known,
    *,
    free: int,
    queued: Iterable[QueueItem] = (),
) -> DownloadPlan:
    """Decide what Download means for these checkpoints: which need fetching, which backbones they
    lack (not here, not queued, not asked for), and the bytes that takes against the free space."""
    wanted = [e for e in entries if wants_file(known, e)]
    wanted_files = {library.path(e) for e in wanted}
    bases: dict[str, Checkpoint] = {}
    for entry in wanted:
        if not entry.base or entry.base not in catalog:
            continue
        base = catalog.get(entry.base)
        # A backbone asked for under another name (an entry sharing its file) is not missing.
        if library.path(base) not in wanted_files and wants_file(known, base):
            bases.setdefault(base.id, base)
    plan = DownloadPlan(entries=wanted, missing_bases=list(bases.values()), free=free)
    plan.needed, unknown = _to_fetch(wanted, library, known)
    plan.needed_with_bases, unknown_with_bases = _to_fetch(plan.missing_bases + wanted, library, known)
    plan.unknown = unknown_with_bases if bases else unknown
    keys = {str(library.path(e)) for e in plan.missing_bases + wanted}
    plan.already_queued = sum(
        max(0, i.total - i.done) for i in queued if i.total and i.state in UNFINISHED and i.key not in keys
    )
    return plan


def _to_fetch(entries: list[Checkpoint], library: Library, known: Known) -> tuple[int, int]:
    """Bytes still to fetch for these files (a partial file's bytes count as had), and how many sizes
    are unknown."""
    needed = unknown = 0
    for entry in library.one_per_file(entries):
        size = known.size_of(entry)
        if size is None:
            unknown += 1
            continue
        status = known.status_of(entry)
        have = status.bytes if status is not None and status.state is State.PARTIAL else 0
        needed += max(0, size - have)
    return needed, unknown


@dataclass(frozen=True)
class Breakage:
    """Downloaded PETL checkpoints that stop working when ``backbone``'s file goes."""

    backbone: Checkpoint
    dependants: list[Checkpoint]


@dataclass(frozen=True)
class FileImpact:
    """What else deleting one checkpoint's file takes away."""

    entry: Checkpoint
    path: Path
    sharing: list[Checkpoint]  # other checkpoints that are the very same file
    breaks: list[Breakage]  # backbones in this file whose downloaded dependants stay behind


def deletion_impact(
    targets: Iterable[Checkpoint], catalog: Catalog, library: Library, known: Known
) -> list[FileImpact]:
    """For each file these checkpoints use (one per file): the checkpoints sharing it, and the
    downloaded PETL checkpoints needing a backbone in it that are not being deleted too."""
    files = library.one_per_file(targets)
    going = {o.id for e in files for o in [e, *catalog.sharing(e)]}
    impacts = []
    for entry in files:
        sharing = catalog.sharing(entry)
        breaks = []
        for user in [entry, *sharing]:
            needing = [
                d
                for d in catalog.dependants(user)
                if d.id not in going and (s := known.status_of(d)) is not None and s.state is State.DOWNLOADED
            ]
            if needing:
                breaks.append(Breakage(user, needing))
        impacts.append(FileImpact(entry, library.path(entry), sharing, breaks))
    return impacts
