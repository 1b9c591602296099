"""What reading a checkpoint tells: its contents, sections, globals and verdict, or why it stopped."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class CheckpointError(Exception):
    """The file cannot be read as a PyTorch checkpoint; the message says why, in the user's words.

    ``globals`` lists the globals the pickle had named before reading stopped (a file that breaks
    half-way may still have named ``os.system`` first).
    """

    def __init__(self, message: str, globals_seen: list[GlobalUse] | None = None) -> None:
        super().__init__(message)
        self.globals: list[GlobalUse] = globals_seen or []


class NotACheckpoint(CheckpointError):
    """Neither a torch zip archive nor a legacy torch.save stream (an HTML page, random bytes…)."""


class TruncatedCheckpoint(CheckpointError):
    """The file starts as a checkpoint but ends early."""


class AmbiguousCheckpoint(CheckpointError):
    """A zip archive in which torch and a scanner could read different pickles."""


class MalformedPickle(CheckpointError):
    """The pickle breaks the format or one of the limits above."""


@dataclass
class GlobalUse:
    """One global the pickle names, and what loading it with ``weights_only=False`` would mean."""

    name: str
    risk: str  # torch | benign | dangerous | unknown


@dataclass
class Section:
    """A top-level part of the checkpoint (model, optimizer state, EMA…) and the tensor bytes it holds."""

    name: str
    kind: str
    tensors: int
    bytes: int


@dataclass
class Verdict:
    """Whether loading runs anything, and how to load it with ``weights_only=True``."""

    safe: bool
    summary: str
    dangerous: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    safe_globals: list[str] = field(default_factory=list)  # benign, but torch must be told
    weights_only_code: str | None = None
    weights_only_blockers: list[str] = field(default_factory=list)


@dataclass
class CheckpointContents:
    """What a checkpoint holds, read from its zip directory and its pickle only."""

    path: str
    file_size: int
    format: str  # "zip" (torch >= 1.6) or "legacy"
    archive_prefix: str | None
    pickle_member: str | None
    pickle_protocol: int | None
    top_level_keys: list[str]
    sections: list[Section]
    tensor_count: int
    storage_count: int
    tensor_bytes: int
    model_parameters: int | None
    dtypes: dict[str, int]  # dtype → tensors
    metadata: dict[str, Any]  # architecture, task, updates, epoch, best
    petl: dict[str, dict[str, int]]  # family → {"keys": n, "parameters": n}
    inferred: dict[str, Any]  # from shapes: width, size, encoder/decoder layers, ResNet
    globals: list[GlobalUse]
    verdict: Verdict
    problems: list[str]
    deep: bool = False
    members_checked: int = 0
    # model_parameters with tied embeddings counted once: the figure published sizes are given in
    model_parameters_distinct: int | None = None

    def to_json(self) -> dict:
        return asdict(self)
