"""Describing what was read: sections, tensors and parameters, metadata, PETL parts, the architecture
inferred from shapes, the verdict and the lines that load the file with weights_only=True."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ofa_manager.core.checkpoint_results import CheckpointContents, GlobalUse, Section, Verdict
from ofa_manager.core.pickle_globals import (
    _NUMPY_DTYPE_CLASSES,
    NUMPY_SCALARS,
    NumpyDtype,
    NumpyScalar,
    Reduced,
    StorageRef,
    Tensor,
    global_risk,
)
from ofa_manager.core.safe_unpickler import _StorageTable, _Unpickler


def _uses(seen: dict[str, None]) -> list[GlobalUse]:
    return [GlobalUse(name, global_risk(name)) for name in seen]


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from obj
    elif isinstance(obj, Reduced):
        yield obj.func
        yield obj.args
        yield obj.state
        yield from obj.items
    elif isinstance(obj, Tensor):
        yield obj.storage


def _walk(root: Any, visited: set[int]) -> Iterator[Any]:
    """Every object reachable from root, once, without recursion (a pickle can nest a million deep)."""
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in visited or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        visited.add(id(obj))
        yield obj
        todo.extend(_children(obj))


_SECTION_KINDS = [
    ("optimizer", "optimizer state"),
    ("optim", "optimizer state"),
    ("model", "model weights"),
    ("state_dict", "model weights"),
    ("module", "model weights"),
    ("extra_state", "training state"),
    ("cfg", "configuration"),
    ("args", "configuration"),
    ("criterion", "criterion"),
]
_EMA = re.compile(r"(?:^|[._])ema(?:$|[._])", re.IGNORECASE)  # ema, model_ema, extra_state.ema; not schema


def _kind(name: str) -> str:
    if _EMA.search(name):
        return "EMA weights"
    low = name.lower()
    for word, kind in _SECTION_KINDS:
        if word in low:
            return kind
    return "other"


def _tensors_in(obj: Any, visited: set[int]) -> tuple[list[Tensor], int]:
    """The tensors and storage bytes reachable from obj and not yet visited (each storage counted once)."""
    tensors, nbytes = [], 0
    for item in _walk(obj, visited):
        if isinstance(item, Tensor):
            tensors.append(item)
        elif isinstance(item, StorageRef):
            nbytes += item.nbytes
    return tensors, nbytes


def _describe(root, seen, storages: _StorageTable, unpickler: _Unpickler, problems: list[str]) -> dict:
    visited: set[int] = set()
    sections: list[Section] = []
    all_tensors: list[Tensor] = []
    top = root if isinstance(root, dict) else {}
    model_source, model = _model_state(root)
    parts: list[tuple[str, Any]] = []
    if model_source is root:  # a bare state dict: one section, not one per key
        parts.append(("(state dict)", root))
        top = {}
    for key, value in top.items():
        name = str(key)
        if isinstance(value, dict):
            # fairseq keeps the EMA weights inside extra_state: a section of its own
            for sub, inner in value.items():
                if isinstance(sub, str) and _EMA.search(sub) and name != "model":
                    parts.append((f"{name}.{sub}", inner))
        parts.append((name, value))
    for name, value in parts:
        tensors, nbytes = _tensors_in(value, visited)
        all_tensors += tensors
        if tensors or nbytes or name in map(str, top):
            kind = "model weights" if value is model_source else _kind(name)
            sections.append(Section(name, kind, len(tensors), nbytes))
    if not isinstance(root, dict):
        tensors, nbytes = _tensors_in(root, visited)
        all_tensors += tensors
        sections.append(Section("(root)", type(root).__name__, len(tensors), nbytes))
    dtypes: dict[str, int] = {}
    for tensor in all_tensors:
        dtypes[tensor.dtype] = dtypes.get(tensor.dtype, 0) + 1
    metadata = _metadata(top)
    uses = _uses(seen)
    return dict(
        pickle_protocol=unpickler.protocol,
        top_level_keys=[str(k) for k in root] if isinstance(root, dict) else [],
        sections=sections,
        tensor_count=len(all_tensors),
        storage_count=len(storages.by_key),
        tensor_bytes=sum(ref.nbytes for ref in storages.by_key.values()),
        model_parameters=sum(t.numel for t in model.values()) if model else None,
        model_parameters_distinct=_distinct_parameters(model) if model else None,
        dtypes=dict(sorted(dtypes.items())),
        metadata=metadata,
        petl=_petl(model),
        inferred=_infer(model, metadata.get("architecture")),
        globals=uses,
        verdict=_verdict(uses, root, unpickler.foreign_opcodes),
        problems=problems,
    )


def _model_state(root: Any) -> tuple[Any, dict[str, Tensor]]:
    """The model's state dict and its tensors: ``model`` (fairseq), ``state_dict``, or a bare state dict."""
    candidates = (
        [root.get(k) for k in ("model", "state_dict", "module", "model_state_dict")]
        if isinstance(root, dict)
        else []
    )
    for candidate in [*candidates, root]:
        if isinstance(candidate, dict):
            tensors = {str(k): v for k, v in candidate.items() if isinstance(v, Tensor)}
            if tensors:
                return candidate, tensors
    return None, {}


_TIED = re.compile(r"(?:^|\.)(?:embed_tokens|output_projection)\.weight$")


def _distinct_parameters(model: dict[str, Tensor]) -> int:
    """Σ elements, with a tied embedding counted once.

    fairseq (share_all_embeddings, as OFA) uses one matrix as the encoder's and decoder's embed_tokens and
    the output projection; the state dict lists it under each name, over the same storage, offset and
    shape. OFA-Large's 61M-parameter embedding would otherwise count three times (592M for "470M").
    """
    seen: set[tuple] = set()
    total = 0
    for key, tensor in model.items():
        if _TIED.search(key):
            mark = (
                id(tensor.storage) if tensor.storage is not None else id(tensor),
                tensor.offset,
                tensor.shape,
            )
            if mark in seen:
                continue
            seen.add(mark)
        total += tensor.numel
    return total


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else None


def _plain(value: Any) -> Any:
    if isinstance(value, NumpyScalar):
        value = value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return None


def _metadata(top: dict) -> dict[str, Any]:
    """fairseq/OFA: architecture, task, updates, epoch, best score (each only when the file says)."""
    cfg, args = _field(top, "cfg"), _field(top, "args")
    meta: dict[str, Any] = {}
    arch = _plain(_field(_field(cfg, "model"), "_name")) or _plain(_field(_field(cfg, "model"), "arch"))
    meta["architecture"] = arch or _plain(_field(args, "arch"))
    meta["task"] = _plain(_field(_field(cfg, "task"), "_name")) or _plain(_field(args, "task"))
    history = _field(top, "optimizer_history")
    if isinstance(history, list) and history:
        meta["updates"] = _plain(_field(history[-1], "num_updates"))
    extra = _field(top, "extra_state")
    meta["epoch"] = _plain(_field(_field(extra, "train_iterator"), "epoch"))
    meta["best"] = _plain(_field(extra, "best"))
    return {k: v for k, v in meta.items() if v is not None}


PETL_FAMILIES = {
    "adapter": ("adapter1", "adapter2"),
    "lora": ("lora_A", "lora_B"),
    "prompt": ("encoder_prompt_encoder", "decoder_prompt_encoder"),
}


def _petl(model: dict[str, Tensor]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for key, tensor in model.items():
        parts = set(key.split("."))
        for family, markers in PETL_FAMILIES.items():
            if any(m in parts for m in markers):
                entry = found.setdefault(family, {"keys": 0, "parameters": 0})
                entry["keys"] += 1
                entry["parameters"] += tensor.numel
    return found


OFA_WIDTHS = {256: "tiny", 512: "medium", 768: "base", 1024: "large", 1280: "huge"}
RESNETS = {6: "ResNet-50", 23: "ResNet-101", 36: "ResNet-152"}
_LAYER = re.compile(r"(?:^|\.)(encoder|decoder)\.layers\.(\d+)\.")
_RESNET_LAYER3 = re.compile(r"(?:^|\.)embed_images\.layer3\.(\d+)\.")
_EMBED = re.compile(r"(?:^|\.)(?:encoder|decoder)\.embed_tokens\.weight$")


def _infer(model: dict[str, Tensor], architecture: str | None) -> dict[str, Any]:
    """The OFA size from the shapes alone: a cross-check of what the metadata claims."""
    if not model:
        return {}
    layers: dict[str, set[int]] = {"encoder": set(), "decoder": set()}
    blocks: set[int] = set()
    width = None
    for key, tensor in model.items():
        if match := _LAYER.search(key):
            layers[match.group(1)].add(int(match.group(2)))
        if match := _RESNET_LAYER3.search(key):
            blocks.add(int(match.group(1)))
        if width is None and _EMBED.search(key) and len(tensor.shape) == 2:
            width = tensor.shape[1]
    inferred: dict[str, Any] = {
        "embedding_width": width,
        "size": OFA_WIDTHS.get(width) if width else None,
        "encoder_layers": len(layers["encoder"]) or None,
        "decoder_layers": len(layers["decoder"]) or None,
        "resnet_layer3_blocks": len(blocks) or None,
        "resnet": RESNETS.get(len(blocks)),
    }
    if inferred["size"] and architecture:
        inferred["matches_metadata"] = inferred["size"] in architecture.lower()
    return {k: v for k, v in inferred.items() if v is not None}


def _numpy_dtype_classes(root: Any) -> list[str]:
    codes = set()
    for item in _walk(root, set()):
        if isinstance(item, NumpyDtype):
            codes.add(item.code.lstrip("<>|="))
        elif isinstance(item, NumpyScalar):
            codes.add(item.dtype)
    return sorted(f"numpy.dtypes.{_NUMPY_DTYPE_CLASSES[c]}" for c in codes if c in _NUMPY_DTYPE_CLASSES)


def _verdict(uses: list[GlobalUse], root: Any, foreign_opcodes: set[str]) -> Verdict:
    dangerous = [u.name for u in uses if u.risk == "dangerous"]
    unknown = [u.name for u in uses if u.risk == "unknown"]
    benign = [u.name for u in uses if u.risk == "benign"]
    if dangerous or unknown:
        parts = []
        if dangerous:
            parts.append(f"dangerous: {', '.join(dangerous)}")
        if unknown:
            parts.append(f"unknown: {', '.join(unknown)}")
        return Verdict(
            safe=False,
            summary="loading it with weights_only=False would import or call " + "; ".join(parts),
            dangerous=dangerous,
            unknown=unknown,
            safe_globals=benign,
        )
    extra = list(benign)
    if "numpy.dtype" in benign:
        extra += _numpy_dtype_classes(root)
    blockers = sorted(foreign_opcodes)
    verdict = Verdict(safe=True, summary="tensors and plain data only", safe_globals=extra)
    if blockers:
        verdict.weights_only_blockers = [
            f"pickle opcodes torch's weights_only loader does not implement: {', '.join(blockers)}"
        ]
    return verdict


def weights_only_code(contents: CheckpointContents, file_name: str | None = None) -> str | None:
    """The lines that load this file with ``torch.load(weights_only=True)`` on torch >= 2.6."""
    verdict = contents.verdict
    if not verdict.safe or verdict.weights_only_blockers:
        return None
    name = file_name or contents.path  # as given: the lines run from where the inspection ran
    entries, imports = [], {"torch"}
    for full in verdict.safe_globals:
        if full in NUMPY_SCALARS:
            # numpy 1 calls it numpy.core.multiarray.scalar, numpy 2 numpy._core…; the pair form names it as
            # the file does, whatever numpy the loading machine has.
            entries.append(f'(numpy.float64(0).__reduce__()[0], "{full}")')
            imports.add("numpy")
        elif full.startswith("builtins."):
            entries.append(full.split(".", 1)[1])
        else:
            entries.append(full)
            imports.add(full.split(".")[0])
    lines = [f"import {m}" for m in sorted(imports - {"torch", "numpy"})]
    lines += [f"import {m}" for m in ("numpy", "torch") if m in imports]
    lines.append("")
    if entries:
        lines.append("torch.serialization.add_safe_globals([")
        lines += [f"    {e}," for e in entries]
        lines.append("])")
    lines.append(f'checkpoint = torch.load({json.dumps(name)}, map_location="cpu", weights_only=True)')
    return "\n".join(lines) + "\n"  # the first line is an import: torch's at least
