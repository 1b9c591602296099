"""What is in a PyTorch checkpoint, read without torch and without executing a byte of its pickle.

Here the file is opened (a torch zip archive or a legacy torch.save stream) and its pickle found;
safe_unpickler reads it, checkpoint_summary describes it, checkpoint_results holds the answer."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from ofa_manager.core.checkpoint_results import (
    AmbiguousCheckpoint,
    CheckpointContents,
    CheckpointError,
    MalformedPickle,
    NotACheckpoint,
    TruncatedCheckpoint,
)
from ofa_manager.core.checkpoint_summary import _describe, _uses, weights_only_code
from ofa_manager.core.safe_unpickler import _Reader, _StorageTable, _Unpickler

# The pickle of a 2 GiB OFA-Large checkpoint is 128 KiB and 32,000 opcodes (about 32 per tensor): these
# allow some 150,000 tensors while a hostile file stops within ~10 s and ~400 MB (2 cores, shared).
MAX_PICKLE_BYTES = 64 * 1024 * 1024
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
ZIP_MAGIC = b"PK\x03\x04"


def _not_a_checkpoint(head: bytes) -> NotACheckpoint:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return NotACheckpoint(
            "not a PyTorch checkpoint: this is a web page (HTML/XML), as a server sends for a denied or "
            "missing object"
        )
    if len(head) > 262 and head[257:262] == b"ustar":
        return NotACheckpoint("not a checkpoint this reads: a tar archive (torch < 0.4 format, unsupported)")
    if not head:
        return NotACheckpoint("not a PyTorch checkpoint: the file is empty")
    return NotACheckpoint(
        "not a PyTorch checkpoint: neither a torch zip archive nor a legacy torch.save stream"
    )


def read_checkpoint(path: Path | str, *, deep: bool = False) -> CheckpointContents:
    """Describe the checkpoint at ``path`` from its zip directory and its pickle (``deep``: every byte).

    Raises CheckpointError (NotACheckpoint, TruncatedCheckpoint, AmbiguousCheckpoint, MalformedPickle)
    and OSError for a file that cannot be opened.
    """
    path = Path(path)
    with open(path, "rb") as f:
        size = f.seek(0, io.SEEK_END)
        f.seek(0)
        head = f.read(512)
        f.seek(0)
        if head.startswith(ZIP_MAGIC):
            contents = _read_zip(path, f, size, deep)
        elif head.startswith(b"\x80\x02\x8a\x0a"):
            contents = _read_legacy(path, f, size, deep)
        else:
            raise _not_a_checkpoint(head)
    contents.verdict.weights_only_code = weights_only_code(contents)
    return contents


def _resolve_pickle(infos: list[zipfile.ZipInfo]) -> tuple[str, zipfile.ZipInfo]:
    """The archive folder and data.pkl as torch finds them; archives where that is ambiguous are refused."""
    if not infos:
        raise NotACheckpoint("not a PyTorch checkpoint: the zip archive is empty")
    folded: dict[str, str] = {}
    for info in infos:
        other = folded.setdefault(info.filename.casefold(), info.filename)
        if other is not info.filename:  # another entry's name: the same name twice, or in another case
            if other == info.filename:
                raise AmbiguousCheckpoint(
                    f"refused as ambiguous: the archive holds {other!r} twice (which one torch reads is not "
                    "defined)"
                )
            raise AmbiguousCheckpoint(
                f"refused as ambiguous: the archive holds {other!r} and {info.filename!r}, names that differ "
                "only in case (torch looks names up ignoring case, so which one it reads is not defined)"
            )
    candidates = [i for i in infos if i.filename.rsplit("/", 1)[-1].casefold() == "data.pkl"]
    if len(candidates) > 1:
        names = ", ".join(repr(i.filename) for i in candidates)
        raise AmbiguousCheckpoint(f"refused as ambiguous: the archive holds more than one pickle ({names})")
    # torch: the folder of the archive's first entry holds everything; data.pkl is looked up in it.
    first = infos[0].filename
    if "/" not in first:
        raise NotACheckpoint(
            f"not a PyTorch checkpoint: a zip archive whose first entry {first!r} is not in a folder"
        )
    prefix = first.split("/", 1)[0]
    if not candidates or candidates[0].filename.casefold() != f"{prefix}/data.pkl".casefold():
        where = f" ({candidates[0].filename!r} is not where torch looks)" if candidates else ""
        raise NotACheckpoint(f"not a PyTorch checkpoint: a zip archive without {prefix}/data.pkl{where}")
    return prefix, candidates[0]


def _read_zip(path: Path, f: BinaryIO, size: int, deep: bool) -> CheckpointContents:
    try:
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as exc:
        raise TruncatedCheckpoint(
            "truncated: the file starts as a zip archive but its end, the zip directory, is missing or "
            f"damaged ({exc})"
        ) from None
    with archive:
        infos = archive.infolist()
        prefix, member = _resolve_pickle(infos)
        names = {i.filename.casefold(): i for i in infos}
        problems: list[str] = []
        if f"{prefix}/version".casefold() not in names and f"{prefix}/.data/version".casefold() not in names:
            problems.append("no version record: torch.load refuses this archive")
        byteorder = names.get(f"{prefix}/byteorder".casefold())
        if byteorder is not None and byteorder.file_size < 16 and archive.read(byteorder).strip() == b"big":
            problems.append("big-endian data: tensors are byte-swapped when loaded on this machine")
        if member.file_size > MAX_PICKLE_BYTES:
            raise MalformedPickle(f"the pickle is larger than {MAX_PICKLE_BYTES // 2**20} MiB")
        storages = _StorageTable()
        seen: dict[str, None] = {}
        try:
            # Read whole (a few MB at most for a real checkpoint; the size was checked above): one CRC check,
            # and opcode-sized reads from memory rather than from the zip stream.
            data = archive.read(member)
            reader = _Reader(io.BytesIO(data), MAX_PICKLE_BYTES, "pickle", len(data))
            unpickler = _Unpickler(reader, storages, seen)
            root = unpickler.load()
        except CheckpointError as exc:
            exc.globals = _uses(seen)
            raise
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise TruncatedCheckpoint(
                f"the pickle cannot be read from the archive ({exc})", _uses(seen)
            ) from None
        checked = 0
        for key, ref in storages.by_key.items():
            info = names.get(f"{prefix}/data/{key}".casefold())
            if info is None:
                problems.append(f"storage {key} is named by the pickle but missing from the archive")
            elif info.file_size != ref.nbytes:
                problems.append(
                    f"storage {key}: {info.file_size} bytes in the archive, {ref.numel} × {ref.itemsize} = "
                    f"{ref.nbytes} expected"
                )
        if deep:
            for info in infos:
                try:
                    with archive.open(info) as stream:
                        while stream.read(1 << 20):
                            pass
                    checked += 1
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    problems.append(f"{info.filename}: {exc}")
    result = _describe(root, seen, storages, unpickler, problems)
    return CheckpointContents(
        path=str(path), file_size=size, format="zip", archive_prefix=prefix, pickle_member=member.filename,
        deep=deep, members_checked=checked, **result,
    )  # fmt: skip


def _read_legacy(path: Path, f: BinaryIO, size: int, deep: bool) -> CheckpointContents:
    seen: dict[str, None] = {}

    def small(what: str) -> Any:
        def no_storages(pid):
            raise MalformedPickle(f"the {what} names a storage")

        return _Unpickler(_Reader(f, 1 << 20, what, size - f.tell()), no_storages, seen).load()

    try:
        if small("header") != LEGACY_MAGIC:
            raise NotACheckpoint("not a PyTorch checkpoint: a pickle without torch's magic number")
        protocol = small("header")
        if protocol != LEGACY_PROTOCOL:
            raise NotACheckpoint(f"not a PyTorch checkpoint this reads: legacy protocol {protocol!r}")
        sys_info = small("header")
        storages = _StorageTable()
        unpickler = _Unpickler(_Reader(f, MAX_PICKLE_BYTES, "pickle", size - f.tell()), storages, seen)
        root = unpickler.load()
        keys_reader = _Reader(f, MAX_PICKLE_BYTES, "storage list", size - f.tell())
        keys = _Unpickler(keys_reader, storages, seen).load()
    except CheckpointError as exc:
        exc.globals = _uses(seen)
        raise
    problems: list[str] = []
    # torch fills exactly the storages this list names, in its order: one left out would load uninitialised.
    if (
        not isinstance(keys, list)
        or not all(isinstance(k, str) for k in keys)
        or sorted(keys) != sorted(storages.by_key)
    ):
        raise MalformedPickle("the storage list does not match the storages the pickle names", _uses(seen))
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        problems.append("big-endian data: tensors are byte-swapped when loaded on this machine")
    # Each storage follows as an 8-byte element count and its bytes: the sizes alone give the file's length.
    offset = f.tell()
    expected = offset + sum(8 + storages.by_key[k].nbytes for k in keys)
    if expected > size:
        raise TruncatedCheckpoint(
            f"truncated: the storages need {expected} bytes, the file has {size}", _uses(seen)
        )
    if expected < size:
        problems.append(f"{size - expected} bytes after the last storage")
    checked = 0
    if deep:
        for key in keys:
            ref = storages.by_key[key]
            f.seek(offset)
            count = int.from_bytes(f.read(8), "little")
            if count != ref.numel:
                problems.append(f"storage {key}: {count} elements recorded, {ref.numel} expected")
            offset += 8 + ref.nbytes
            checked += 1
    result = _describe(root, seen, storages, unpickler, problems)
    return CheckpointContents(
        path=str(path), file_size=size, format="legacy", archive_prefix=None, pickle_member=None,
        deep=deep, members_checked=checked, **result,
    )  # fmt: skip
