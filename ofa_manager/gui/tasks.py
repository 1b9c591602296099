"""What background work hands back to the GUI thread: one small typed result per kind of task.

Work is submitted with ``Bridge.submit(work, on_done, on_failed, on_progress=…)``; each ``work``
captures its inputs (the library, the entry, the tokens) when it is made and returns one of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ofa_manager.core.file_status import DiskUsage, FileStatus
    from ofa_manager.core.library import Library
    from ofa_manager.core.relocate import Relocation


@dataclass(frozen=True)
class ScanResult:
    """A fresh read of the models folder (``library`` tells which folder, in case it changed since)."""

    library: Library
    statuses: dict[str, FileStatus]
    usage: DiskUsage


@dataclass(frozen=True)
class TrashResult:
    """A file moved to the trash (``trashed``), or the trash refused it (``reason``)."""

    ids: list[str]
    trashed: bool
    where: str = ""  # its place in the trash
    freed: int = 0
    reason: str = ""


@dataclass(frozen=True)
class DeleteResult:
    """A file (or its partial data) deleted for good."""

    ids: list[str]
    freed: int


@dataclass(frozen=True)
class MoveResult:
    """A models-folder change done in the background, and the unfinished downloads to carry over."""

    relocation: Relocation
    carried: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)  # (entry ids, paused)


@dataclass(frozen=True)
class InspectResult:
    """What a file holds (``summary`` None when it could not be read as a checkpoint)."""

    library: Library
    stamp: tuple
    summary: dict | None
