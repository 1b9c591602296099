"""A catalog entry's claim (``expect``) against what its file holds, in words; contents cached per file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ofa_manager.core.checkpoint_contents import read_checkpoint
from ofa_manager.core.checkpoint_results import CheckpointContents, CheckpointError
from ofa_manager.core.checkpoint_summary import weights_only_code

if TYPE_CHECKING:
    from ofa_manager.core.catalog import Checkpoint
    from ofa_manager.core.library import Library

PARAMS_TOLERANCE = 0.10  # a published "~470M" is a rounded figure
SUMMARY_VERSION = 2  # bump when the summary's fields change: cached summaries are then re-made

# What a claimed PETL family looks like in a file's keys. A π-Adapter is adapters merged by π-Tuning's
# interpolation of experts: the merged weights sit under the same adapter1/adapter2 keys as an Adapter's,
# so no file can show it is a π-Adapter rather than an Adapter; it can show it is neither.
PETL_KEYS = {"adapter": "adapter", "lora": "lora", "prompt": "prompt", "pi-adapter": "adapter"}
PETL_NAMES = {"adapter": "an Adapter", "lora": "a LoRA", "prompt": "a Prompt", "pi-adapter": "a π-Adapter"}
_OFA_ARCH = re.compile(r"ofa_(tiny|medium|base|large|huge)")


def summarize(contents: CheckpointContents) -> dict[str, Any]:
    """The facts a claim is checked against, as plain JSON (what ``list --json`` shows as ``contents``)."""
    verdict = contents.verdict
    return {
        "version": SUMMARY_VERSION,
        "format": contents.format,
        "arch": contents.metadata.get("architecture"),
        "task": contents.metadata.get("task"),
        "params": contents.model_parameters_distinct or contents.model_parameters,
        "petl": sorted(contents.petl),
        "inferred_size": contents.inferred.get("size"),
        "inferred": contents.inferred,
        "safe": verdict.safe,
        "safety": verdict.summary,
        "dangerous": list(verdict.dangerous),
        "unknown": list(verdict.unknown),
        "load_code": weights_only_code(contents),
        "problems": list(contents.problems),
        "error": None,
    }


def unreadable(error: CheckpointError) -> dict[str, Any]:
    """The summary of a file that cannot be read as a checkpoint (a web page, a truncated file…)."""
    named = [f"{g.name} ({g.risk})" for g in error.globals if g.risk in ("dangerous", "unknown")]
    return {
        "version": SUMMARY_VERSION,
        "format": None,
        "arch": None,
        "task": None,
        "params": None,
        "petl": [],
        "inferred_size": None,
        "inferred": {},
        "safe": False,
        "safety": "not readable as a checkpoint"
        + (f"; before that, it named {', '.join(named)}" if named else ""),
        "dangerous": [],
        "unknown": [],
        "load_code": None,
        "problems": [],
        "error": str(error),
    }


def arch_title(arch: str) -> str:
    """``ofa_large`` → ``OFA-Large``; other names as they are."""
    match = _OFA_ARCH.fullmatch(arch)
    return f"OFA-{match.group(1).capitalize()}" if match else arch


def params_text(count: int) -> str:
    if count >= 1_000_000_000:
        return f"{count / 1e9:.2f}B"
    if count >= 1_000_000:
        return f"{count / 1e6:.0f}M"
    return f"{count:,}"


def describe_contents(summary: dict[str, Any]) -> str:
    """What the file holds, in a phrase: ``ofa_huge fine-tuned for caption (1.03B parameters)``."""
    if summary.get("error"):
        return "no readable checkpoint"
    arch = summary.get("arch")
    size = summary.get("inferred_size")
    if arch and size and size not in arch.lower():
        text = f"{arch} (OFA-{size.capitalize()} by its shapes)"
    elif arch:
        text = arch
    elif size:
        text = f"an OFA-{size.capitalize()} model (by its shapes)"
    else:
        text = "a model of unknown architecture"
    if summary.get("task"):
        text += f" fine-tuned for {summary['task']}"
    petl = summary.get("petl") or []
    if petl:
        text += f" with {', '.join(PETL_NAMES[f].split(' ', 1)[1] for f in petl if f in PETL_NAMES)} keys"
    if summary.get("params"):
        text += f" ({params_text(summary['params'])} parameters)"
    return text


def describe_claim(expect: dict[str, Any]) -> str:
    """What the catalog says the file is: ``an Adapter for refcoco on OFA-Large``."""
    arch = arch_title(expect["arch"]) if expect.get("arch") else None
    if expect.get("petl"):
        text = PETL_NAMES[expect["petl"]]
        if expect.get("task"):
            text += f" for {expect['task']}"
        if arch:
            text += f" on {arch}"
    else:
        text = arch or "a checkpoint"
        if expect.get("task"):
            text += f" fine-tuned for {expect['task']}"
    if expect.get("params"):
        text += f" (~{params_text(expect['params'])} parameters)"
    return text


def _arch_differs(expected: str, summary: dict[str, Any]) -> bool:
    # The shapes decide where they can: the first ofa_large.pt named its architecture m6_unify_large and
    # was still OFA-Large. The recorded name decides when the shapes say nothing or the claim is not OFA's.
    size = summary.get("inferred_size")
    wanted = _OFA_ARCH.fullmatch(expected)
    if size and wanted:
        return size != wanted.group(1)
    arch = summary.get("arch")
    return isinstance(arch, str) and bool(arch) and arch.lower() != expected.lower()


def claim_mismatch(expect: dict[str, Any] | None, summary: dict[str, Any] | None) -> str | None:
    """How the file differs from the claim, in one sentence; None when it agrees or nothing is claimed.

    Only evidence counts: a fact the file does not record (no task name, no model section) is not a
    mismatch. Parameters match within ±10 %.
    """
    if not expect or summary is None:
        return None
    if summary.get("error"):
        return f"holds no readable checkpoint ({summary['error']}), not {describe_claim(expect)}"
    task, params = summary.get("task"), summary.get("params")
    differs = (
        (expect.get("arch") and _arch_differs(expect["arch"], summary))
        or (expect.get("task") and task and task.lower() != expect["task"].lower())
        or (
            expect.get("params")
            and params
            and abs(params - expect["params"]) > PARAMS_TOLERANCE * expect["params"]
        )
        or (expect.get("petl") and PETL_KEYS[expect["petl"]] not in (summary.get("petl") or []))
    )
    if not differs:
        return None
    return f"holds {describe_contents(summary)}, not {describe_claim(expect)}"


# -- contents per file, cached in the file's metadata ----------------------------------------------------


@dataclass
class Inspection:
    """What one entry's file holds and how that meets the entry's claim."""

    path: str
    summary: dict[str, Any]
    mismatch: str | None
    cached: bool  # taken from the metadata, the file not read


def _summary_ok(value: object) -> bool:
    if not isinstance(value, dict) or value.get("version") != SUMMARY_VERSION:
        return False
    types = {"arch": str, "task": str, "params": int, "error": str, "safety": str, "load_code": str}
    for key, kind in types.items():
        if value.get(key) is not None and (not isinstance(value[key], kind) or isinstance(value[key], bool)):
            return False
    petl = value.get("petl")
    return (
        isinstance(petl, list)
        and all(isinstance(p, str) for p in petl)
        and isinstance(value.get("safe"), bool)
    )


def cached_summary(meta: dict, st: os.stat_result) -> dict[str, Any] | None:
    """The summary recorded for this very file (same size and mtime), or None."""
    record = meta.get("contents")
    if not isinstance(record, dict):
        return None
    if record.get("size") != st.st_size or record.get("mtime_ns") != st.st_mtime_ns:
        return None
    summary = record.get("summary")
    return summary if _summary_ok(summary) else None


def inspect_path(path: os.PathLike | str) -> dict[str, Any]:
    """Read the file (zip directory and pickle only) and summarise it; never raises for a bad file."""
    try:
        return summarize(read_checkpoint(Path(path)))
    except CheckpointError as exc:
        return unreadable(exc)


def inspect_entry(library: Library, entry: Checkpoint, *, refresh: bool = False) -> Inspection | None:
    """What the entry's file holds, from the metadata when the file is unchanged since it was read.

    None when there is no file of ours or in a shared store. ``refresh`` reads the file again (verify
    does). A summary is recorded for our own files only, and only when the file's lock is free at once:
    a download or a verify holding it is never waited for (the summary is then recomputed next time).
    """
    from ofa_manager.core.file_status import State

    status = library.status(entry)
    if status.state is State.IN_STORE and status.store_path is not None:
        summary = inspect_path(status.store_path)
        return Inspection(str(status.store_path), summary, claim_mismatch(entry.expect, summary), False)
    if status.state not in (State.DOWNLOADED, State.CORRUPT):
        return None
    path = status.path
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not refresh:
        cached = cached_summary(status.meta, st)
        if cached is not None:
            return Inspection(str(path), cached, claim_mismatch(entry.expect, cached), True)
    summary = inspect_path(path)
    _record(library, entry, st, summary)
    return Inspection(str(path), summary, claim_mismatch(entry.expect, summary), False)


def _record(library: Library, entry: Checkpoint, st: os.stat_result, summary: dict[str, Any]) -> None:
    from filelock import Timeout

    try:
        lock = library.lock(entry)
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        return
    try:
        now = os.lstat(library.path(entry))
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
            return  # replaced while it was read: what was read is not this file's
        meta = library.read_meta(entry)
        if not meta:
            return
        meta["contents"] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "summary": summary}
        library.write_meta(entry, meta)
    except OSError:
        return
    finally:
        lock.release()
