"""Queue states, queue items and events, and error kinds: standard library only, cheap to import.

The window imports this at start-up to compare states before the queue (and the transfer code behind
it) is loaded, so it must never import anything beyond the standard library; a test holds it to that.
The enums are ``str`` enums: their values are what the pipe's JSON and the queue's state file carry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class _Word(str, enum.Enum):
    """A str enum that prints as its value, as on the pipe (Python 3.10 has no enum.StrEnum)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class ItemState(_Word):
    """Where one queued file stands."""

    QUEUED = "queued"
    WAITING = "waiting"  # for another process that holds the file's lock
    CONNECTING = "connecting"
    DOWNLOADING = "downloading"
    STALLED = "stalled"  # reconnecting after a drop or a stall
    VERIFYING = "verifying"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Working on the file now (or waiting for its lock)."""
        return self in ACTIVE

    @property
    def unfinished(self) -> bool:
        """Not done and not failed: queued, paused or active."""
        return self in UNFINISHED

    @property
    def finished(self) -> bool:
        return self in (ItemState.DONE, ItemState.FAILED)


ACTIVE = frozenset(
    {ItemState.WAITING, ItemState.CONNECTING, ItemState.DOWNLOADING, ItemState.STALLED, ItemState.VERIFYING}
)
UNFINISHED = ACTIVE | {ItemState.QUEUED, ItemState.PAUSED}
# Unfinished and not paused: what Pause acts on, and what keeps a file from being "settled".
GOING = UNFINISHED - {ItemState.PAUSED}
# What Cancel acts on: everything but a finished download.
CANCELLABLE = UNFINISHED | {ItemState.FAILED}


class ErrorKind(_Word):
    """Why a download failed, in a word code can compare (the reason text is for people)."""

    ERROR = "error"  # anything else
    DISK = "disk"  # the models folder cannot be used or written
    SPACE = "space"  # not enough free space
    REMOVED = "removed"  # the file was removed from under the download
    NOT_OURS = "not-ours"  # a file ofa-manager did not put there is in the way
    NETWORK = "network"  # the server could not be reached or kept dropping
    HTTP = "http"  # the server answered with an error
    INTEGRITY = "integrity"  # the bytes do not match the expected size or sha256

    @property
    def stops_mirrors(self) -> bool:
        """Trying another source cannot help: the problem is here, not at the server."""
        return self in (ErrorKind.DISK, ErrorKind.SPACE, ErrorKind.REMOVED, ErrorKind.NOT_OURS)

    @classmethod
    def parse(cls, value: object) -> ErrorKind:
        """A kind read from a file or a peer; an unknown word (a newer version's) reads as ERROR."""
        try:
            return cls(value)
        except ValueError:
            return cls.ERROR


class QueueEventKind(_Word):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"
    MOVED = "moved"


@dataclass(frozen=True)
class QueueItem:
    """An immutable snapshot of one queued file, as listeners see it."""

    key: str  # the file's final path: entries sharing a file share one item
    entry_ids: tuple[str, ...]
    title: str
    state: ItemState
    done: int = 0
    total: int | None = None
    speed: float = 0.0
    eta: float | None = None
    connections: int = 0
    error: str | None = None
    error_kind: ErrorKind | None = None
    message: str = ""
    finished_at: float | None = None

    def __post_init__(self) -> None:
        # Given as words (a test, an older caller), they become the enums every comparison expects.
        if type(self.state) is not ItemState:
            object.__setattr__(self, "state", ItemState(self.state))
        if self.error_kind is not None and type(self.error_kind) is not ErrorKind:
            object.__setattr__(self, "error_kind", ErrorKind.parse(self.error_kind))

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


@dataclass
class QueueEvent:
    """``kind`` is added, changed, removed or moved; ``index`` is the item's position after the event."""

    kind: QueueEventKind
    key: str
    item: QueueItem | None = None
    index: int = -1

    def __post_init__(self) -> None:
        self.kind = QueueEventKind(self.kind)
