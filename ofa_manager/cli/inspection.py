"""``inspect``: what a checkpoint file holds, and whether its entry's claim matches it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ofa_manager.cli.common import EXIT_FAILED, EXIT_OK, UsageError, _catalog, _library
from ofa_manager.core import units
from ofa_manager.core.catalog import (
    unknown_id_message,
)
from ofa_manager.core.file_status import State
from ofa_manager.core.safe_files import path_kind


def _inspect_target(args) -> Path:
    """A catalog id's local file, or the file named."""
    path = Path(args.target).expanduser()
    catalog = _catalog(args)
    if args.target in catalog:
        library = _library(args, catalog)
        entry = catalog.get(args.target)
        status = library.status(entry)
        if status.state is State.IN_STORE:
            return status.store_path
        # Reading never changes a file, so one that is not ours may be inspected too (a regular file
        # only: a link at our name is never followed); the note says whose it is.
        if status.state is State.FOREIGN and path_kind(status.path) == "file":
            print(f"note: {status.path}: {status.reason}", file=sys.stderr)
        elif status.state not in (State.DOWNLOADED, State.CORRUPT):
            raise UsageError(f"{entry.id} is not downloaded ({status.state.value}); nothing to inspect")
        return status.path
    if path.exists():
        return path
    message = unknown_id_message(args.target, catalog.ids())
    raise UsageError(f"{message}; and there is no file {str(path)!r}")


def cmd_inspect(args) -> int:
    from ofa_manager.core import checkpoint_contents as cc
    from ofa_manager.core.checkpoint_results import CheckpointError

    path = _inspect_target(args)
    try:
        contents = cc.read_checkpoint(path, deep=args.deep)
    except CheckpointError as exc:
        named = [g for g in exc.globals if g.risk in ("dangerous", "unknown")]
        also = ""
        if named:
            also = "; before that, it named " + ", ".join(f"{g.name} ({g.risk})" for g in named)
        raise UsageError(f"{path}: {exc}{also}") from None
    unsafe = not contents.verdict.safe or bool(contents.problems)
    claim = _inspect_claim(args, contents)
    if args.json:
        print(json.dumps({**contents.to_json(), **(claim or {})}, indent=2, ensure_ascii=False))
    else:
        print(_inspect_summary(contents))
        if claim and claim["expect"]:
            from ofa_manager.core.claims import describe_claim

            print(f"  {'claim':<11} {describe_claim(claim['expect'])}")
            print(
                f"  {'':<11} "
                + (f"MISMATCH: {claim['mismatch']}" if claim["mismatch"] else "the file agrees")
            )
    return EXIT_FAILED if unsafe else EXIT_OK


def _inspect_claim(args, contents) -> dict | None:
    """For a catalog id: the entry's claim and how the file meets it (``expect`` and ``mismatch``)."""
    catalog = _catalog(args)
    if args.target not in catalog:
        return None
    from ofa_manager.core.claims import claim_mismatch, summarize

    entry = catalog.get(args.target)
    return {"expect": entry.expect, "mismatch": claim_mismatch(entry.expect, summarize(contents))}


def _inspect_summary(c) -> str:
    fmt = "zip archive (torch >= 1.6)" if c.format == "zip" else "legacy torch.save stream (torch < 1.6)"
    lines = [f"{c.path} — {fmt}, {units.size(c.file_size)}"]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<11} {text}")

    keys = c.top_level_keys
    shown = ", ".join(keys[:12]) + (f", … ({len(keys)} keys)" if len(keys) > 12 else "")
    row("keys", shown or "(not a mapping)")
    meta = c.metadata
    if meta:
        facts = [meta.get("architecture") or "architecture not recorded"]
        if "task" in meta:
            facts.append(f"task {meta['task']}")
        if "updates" in meta:
            facts.append(f"{meta['updates']:,} updates")
        if "epoch" in meta:
            facts.append(f"epoch {meta['epoch']}")
        if "best" in meta:
            facts.append(
                f"best {meta['best']:.6g}" if isinstance(meta["best"], float) else f"best {meta['best']}"
            )
        row("metadata", ", ".join(facts))
    shape = c.inferred
    if shape:
        facts = []
        if "embedding_width" in shape:
            facts.append(
                f"width {shape['embedding_width']}" + (f" → {shape['size']}" if "size" in shape else "")
            )
        if "encoder_layers" in shape or "decoder_layers" in shape:
            facts.append(
                f"{shape.get('encoder_layers', 0)} encoder / {shape.get('decoder_layers', 0)} decoder layers"
            )
        if "resnet_layer3_blocks" in shape:
            resnet = shape.get("resnet", "ResNet")
            facts.append(f"{resnet} ({shape['resnet_layer3_blocks']} third-stage blocks)")
        if "matches_metadata" in shape:
            facts.append(
                "agrees with the metadata" if shape["matches_metadata"] else "DISAGREES with the metadata"
            )
        row("shapes", "; ".join(facts))
    if c.model_parameters is not None:
        row("parameters", f"{c.model_parameters:,} in the model")
    dtypes = ", ".join(f"{d} {n}" for d, n in c.dtypes.items())
    row(
        "tensors",
        f"{c.tensor_count} ({dtypes}) in {c.storage_count} storage(s), {units.size(c.tensor_bytes)}",
    )
    for section in c.sections:
        if section.tensors:
            row("", f"{section.name}: {section.kind}, {section.tensors} tensors, {units.size(section.bytes)}")
    for family, found in c.petl.items():
        row("PETL", f"{family}: {found['keys']} keys, {found['parameters']:,} parameters")
    verdict = c.verdict
    if verdict.safe:
        row("safety", verdict.summary)
        if verdict.weights_only_code:
            lines.append("  load it with torch >= 2.6 (nothing else is imported or called):")
            lines += [f"    {line}" if line else "" for line in verdict.weights_only_code.splitlines()]
        for blocker in verdict.weights_only_blockers:
            row("", f"torch.load(weights_only=True) cannot read it: {blocker}")
    else:
        row("safety", "UNSAFE: torch.load(weights_only=False) would import or call:")
        for name in verdict.dangerous:
            row("", f"{name}  dangerous")
        for name in verdict.unknown:
            row("", f"{name}  unknown")
        row("", "do not load it with weights_only=False; weights_only=True refuses it")
    for problem in c.problems:
        row("problem", problem)
    if c.deep:
        row("deep check", f"{c.members_checked} members read" + ("" if c.problems else ", all intact"))
    return "\n".join(lines)
