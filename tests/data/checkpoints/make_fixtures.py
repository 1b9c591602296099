"""Make the checkpoint fixtures with real torch.save, then check the inspector against real torch.load.

torch is needed only here, never by the project or its tests. Run it in a throw-away venv outside the
checkout, from the checkout's root:

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy   # a CPU build
    /tmp/torchvenv/bin/python tests/data/checkpoints/make_fixtures.py [--check-only]

It rewrites the fixtures beside this script (``--check-only``: keeps them) and then, for every fixture,
checks what
``ofa_manager.core.checkpoint_contents`` says against torch itself:

- a file the inspector calls safe loads with ``torch.load(weights_only=True)`` using exactly the lines the
  inspector wrote (run in a fresh interpreter), and gives the same top-level keys;
- the globals the inspector marks as needing ``add_safe_globals`` or as unsafe are the ones
  ``torch.serialization.get_unsafe_globals_in_checkpoint`` reports;
- the malicious fixture really does create its file when loaded with ``weights_only=False`` (in a
  temporary folder), and ``weights_only=True`` refuses it;
- the refused, truncated and foreign files are refused by torch too.

Small files with large shapes: an OFA-shaped state dict needs the *shapes* of the real checkpoints (the
inspector infers the model size from them), not their values. Every tensor of those state dicts is a
view with zero strides over one shared one-element storage (``expand``): torch.save stores that storage
once, with each tensor's real shape, so the file is a few KB while the shapes say "OFA-Large". The
state dicts carry the keys the inference reads (embeddings, some of every layer, every ResNet block),
not every key of the real models.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from ofa_manager.core.checkpoint_contents import read_checkpoint  # noqa: E402
from ofa_manager.core.checkpoint_results import CheckpointError  # noqa: E402

MARKER = "ofa-manager-pwned"  # the file the malicious fixture's reduce creates in the current folder

# (width, encoder layers, decoder layers, ResNet third-stage blocks, heads) of the published OFA sizes
OFA_SIZES = {
    "tiny": (256, 4, 4, 6, 4),
    "medium": (512, 4, 4, 23, 8),
    "base": (768, 6, 6, 23, 12),
    "large": (1024, 12, 12, 36, 16),
    "huge": (1280, 24, 12, 36, 16),
}
VOCAB = 59457


def shaped(shared: torch.Tensor, *shape: int) -> torch.Tensor:
    """A tensor of this shape over the shared one-element storage (see the module docstring)."""
    return shared.view(*([1] * len(shape))).expand(*shape)


def ofa_state_dict(size: str, extra_keys: dict[str, tuple[int, ...]] | None = None) -> OrderedDict:
    width, enc, dec, blocks, _ = OFA_SIZES[size]
    shared = torch.zeros(1, dtype=torch.float16)
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    state["encoder.embed_tokens.weight"] = shaped(shared, VOCAB, width)
    state["encoder.embed_positions.weight"] = shaped(shared, 1026, width)
    state["encoder.embed_images.conv1.weight"] = shaped(shared, 64, 3, 7, 7)
    for block in range(blocks):
        prefix = f"encoder.embed_images.layer3.{block}."
        state[prefix + "conv1.weight"] = shaped(shared, 256, 1024, 1, 1)
        state[prefix + "bn1.weight"] = shaped(shared, 256)
    for side, count in (("encoder", enc), ("decoder", dec)):
        for layer in range(count):
            prefix = f"{side}.layers.{layer}."
            for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
                state[prefix + f"self_attn.{proj}.weight"] = shaped(shared, width, width)
            state[prefix + "fc1.weight"] = shaped(shared, 4 * width, width)
            state[prefix + "fc2.weight"] = shaped(shared, width, 4 * width)
    state["decoder.embed_tokens.weight"] = state["encoder.embed_tokens.weight"]  # tied, as in OFA
    state["decoder.output_projection.weight"] = state["encoder.embed_tokens.weight"]
    for key, shape in (extra_keys or {}).items():
        state[key] = shaped(shared, *shape)
    return state


def fairseq_checkpoint(size: str, task: str, model: OrderedDict) -> dict:
    """The layout fairseq's checkpoint_utils.save_state writes: cfg of Namespaces, optimizer, extra state."""
    width = OFA_SIZES[size][0]
    model_args = argparse.Namespace(_name=f"ofa_{size}", arch=f"ofa_{size}", encoder_embed_dim=width)
    exp_avg = torch.zeros(8, dtype=torch.float32)
    ema = torch.zeros(1, dtype=torch.float32)
    return {
        "args": None,
        "cfg": {
            "_name": None,
            "common": {"fp16": True, "seed": 7},
            "model": model_args,
            "task": argparse.Namespace(_name=task, data="../../dataset/refcoco_data", max_src_length=80),
            "criterion": {"_name": "adjust_label_smoothed_cross_entropy", "label_smoothing": 0.1},
            "optimization": {"max_epoch": 10, "lr": [3e-5], "update_freq": [1]},
        },
        "model": model,
        "criterion": {},
        "optimizer_history": [
            {
                "criterion_name": "AdjustLabelSmoothedCrossEntropyCriterion",
                "optimizer_name": "FairseqAdam",
                "lr_scheduler_state": {"best": numpy.float64(0.8731)},
                "num_updates": 31240,
            }
        ],
        "task_state": {},
        "extra_state": {
            "metrics": {"valid": [("score", 0, numpy.float64(87.31), numpy.int64(2))]},
            "best": numpy.float64(0.8731),
            "train_iterator": {"epoch": 5, "iterations_in_epoch": 0, "shuffle": True},
            "previous_training_time": 40213.5,
            # EMA weights over a storage of their own (clone() would write out the expanded shapes)
            "ema": OrderedDict((k, shaped(ema, *v.shape)) for k, v in list(model.items())[:4]),
        },
        "last_optimizer_state": {
            "state": {0: {"step": 31240, "exp_avg": exp_avg, "exp_avg_sq": exp_avg.clone()}},
            "param_groups": [{"lr": 3e-5, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0]}],
        },
    }


class CreatesAFile:
    """A pickle whose reduce runs ``touch MARKER`` when torch.load(weights_only=False) unpickles it."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def rename_in_pickle(path: Path, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for info, data in members:
            if info.filename.endswith("/data.pkl"):
                assert old in data, path.name
                data = data.replace(old, new)
            out.writestr(info.filename, data)


def make_fixtures() -> dict[str, str]:
    """Write every fixture; returns name → what it is."""
    made: dict[str, str] = {}

    def save(name: str, obj, what: str, **kwargs) -> None:
        torch.save(obj, HERE / name, **kwargs)
        made[name] = what

    small = OrderedDict(weight=torch.arange(6, dtype=torch.float32).reshape(2, 3), bias=torch.ones(2))
    save("zip_state_dict.pt", small, "a plain state dict, zip format (torch >= 1.6)")
    save(
        "legacy_state_dict.pt",
        small,
        "the same state dict in the legacy format",
        _use_new_zipfile_serialization=False,
    )

    tiny = ofa_state_dict("tiny")
    save(
        "fairseq_ofa_tiny.pt", fairseq_checkpoint("tiny", "refcoco", tiny), "fairseq/OFA-Tiny: cfg Namespaces"
    )

    large = ofa_state_dict("large")
    old_style = {
        "args": argparse.Namespace(arch="ofa_large", task="caption", encoder_embed_dim=1024),
        "model": large,
        "optimizer_history": [{"num_updates": 5000, "optimizer_name": "FairseqAdam"}],
        "extra_state": {"best": numpy.float32(1.25)},
    }
    save("fairseq_ofa_large_args.pt", old_style, "older fairseq/OFA-Large: args Namespace, numpy float32")
    # Checkpoints saved under numpy 1 name the scalar numpy.core.multiarray.scalar (numpy 2: numpy._core…).
    # Rename it in the pickle, as those files have it (GLOBAL is a text line; nothing else moves).
    rename_in_pickle(
        HERE / "fairseq_ofa_large_args.pt",
        b"cnumpy._core.multiarray\nscalar\n",
        b"cnumpy.core.multiarray\nscalar\n",
    )

    petl_keys = {}
    for layer in range(2):
        for adapter in ("adapter1", "adapter2"):
            petl_keys[f"encoder.layers.{layer}.{adapter}.fc1.weight"] = (64, 1024)
            petl_keys[f"encoder.layers.{layer}.{adapter}.fc2.weight"] = (1024, 64)
        petl_keys[f"decoder.layers.{layer}.self_attn.q_proj.lora_A"] = (16, 1024)
        petl_keys[f"decoder.layers.{layer}.self_attn.q_proj.lora_B"] = (1024, 16)
    petl_keys["encoder.encoder_prompt_encoder.embedding.weight"] = (100, 1024)
    petl_keys["decoder.decoder_prompt_encoder.embedding.weight"] = (100, 1024)
    petl = ofa_state_dict("large", petl_keys)
    save("petl_ofa_large.pt", fairseq_checkpoint("large", "refcoco", petl), "PETL keys on OFA-Large")

    # What the published PETL links hold: OFA-Huge fine-tuned for caption (the decoder's cross-attention
    # too, so the parameter count comes near the published ~930M).
    cross = {}
    for layer in range(OFA_SIZES["huge"][2]):
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            cross[f"decoder.layers.{layer}.encoder_attn.{proj}.weight"] = (1280, 1280)
    save(
        "fairseq_ofa_huge_caption.pt",
        fairseq_checkpoint("huge", "caption", ofa_state_dict("huge", cross)),
        "fairseq/OFA-Huge fine-tuned for caption (what the published PETL links hold)",
    )

    save(
        "malicious_reduce.pt",
        {"model": small, "payload": CreatesAFile()},
        f"a reduce that runs `touch {MARKER}` when loaded with weights_only=False",
    )

    # Archives that read one way in torch and another in a scanner: refused as ambiguous.
    benign = zipfile.ZipFile(HERE / "zip_state_dict.pt")
    evil = zipfile.ZipFile(HERE / "malicious_reduce.pt")
    evil_pickle = evil.read(next(n for n in evil.namelist() if n.endswith("/data.pkl")))

    def rewrite(name: str, what: str, extra: dict[str, bytes]) -> None:
        with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_STORED) as out:
            for info in benign.infolist():
                out.writestr(info.filename, benign.read(info))
                if info.filename.endswith("/data.pkl"):
                    for extra_name, data in extra.items():
                        out.writestr(extra_name, data)
        made[name] = what

    prefix = benign.namelist()[0].split("/")[0]
    rewrite(
        "ambiguous_case.pt",
        "data.pkl and DATA.PKL (the second malicious)",
        {f"{prefix}/DATA.PKL": evil_pickle},
    )
    rewrite(
        "ambiguous_two_pickles.pt", "a second data.pkl in another folder", {"other/data.pkl": evil_pickle}
    )

    whole = (HERE / "fairseq_ofa_tiny.pt").read_bytes()
    (HERE / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    made["truncated.pt"] = "the first half of fairseq_ofa_tiny.pt"
    legacy = (HERE / "legacy_state_dict.pt").read_bytes()
    (HERE / "truncated_legacy.pt").write_bytes(legacy[:-10])
    made["truncated_legacy.pt"] = "legacy_state_dict.pt without its last 10 bytes"
    (HERE / "web_page.pt").write_text(
        "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n"
        "<body><h1>AccessDenied</h1><p>You have no right to access this object.</p></body></html>\n",
        encoding="utf-8",
    )
    made["web_page.pt"] = "an HTML error page saved under a checkpoint's name"
    (HERE / "random_bytes.pt").write_bytes(random.Random(16).randbytes(4096))
    made["random_bytes.pt"] = "4 KiB of random bytes"
    return made


# -- checks against real torch ---------------------------------------------------------------------------


def load_with_snippet(path: Path, code: str) -> list[str]:
    """Run the inspector's lines in a fresh interpreter; returns the loaded checkpoint's top-level keys."""
    script = code + "\nimport json\nprint(json.dumps([str(k) for k in checkpoint]))\n"
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", script],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{path.name}: the weights_only lines failed:\n{code}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_refuses(path: Path, weights_only: bool = True) -> bool:
    try:
        torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception:  # noqa: BLE001 - any refusal counts
        return True
    return False


def check(made: dict[str, str]) -> list[str]:
    """Run in a temporary folder: torch.load(weights_only=False) of a refused fixture may run its payload."""
    lines = []
    for name in made:
        path = HERE / name
        try:
            contents = read_checkpoint(path, deep=True)
        except CheckpointError as exc:
            if "ambiguous" not in str(exc):
                assert torch_refuses(path, weights_only=False), name
                lines.append(f"{name}: refused ({exc}); torch refuses it too")
                continue
            ran = not torch_refuses(path, weights_only=False) and Path(MARKER).exists()
            Path(MARKER).unlink(missing_ok=True)
            lines.append(
                f"{name}: refused ({exc}); torch.load(weights_only=False) "
                + ("ran the hidden malicious pickle" if ran else "read the benign pickle")
            )
            continue
        if contents.format == "zip":  # torch's own scanner reads zip archives only
            unsafe_by_torch = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
            ours = set(contents.verdict.dangerous + contents.verdict.unknown)
            ours |= {g for g in contents.verdict.safe_globals if not g.startswith("numpy.dtypes.")}
            assert ours == unsafe_by_torch, (name, ours, unsafe_by_torch)
        if contents.verdict.safe:
            keys = load_with_snippet(path, contents.verdict.weights_only_code)
            assert keys == contents.top_level_keys, (name, keys, contents.top_level_keys)
            lines.append(f"{name}: safe; loaded by torch.load(weights_only=True) with the inspector's lines")
        else:
            assert torch_refuses(path), name
            lines.append(f"{name}: unsafe ({contents.verdict.summary}); weights_only=True refuses it")
    torch.load(HERE / "malicious_reduce.pt", weights_only=False)
    assert Path(MARKER).exists(), "the malicious fixture did not create its file"
    lines.append(
        f"malicious_reduce.pt: torch.load(weights_only=False) does create {MARKER!r} (in a temp folder)"
    )
    return lines


def main() -> None:
    if "--check-only" in sys.argv[1:]:  # check the committed fixtures against this torch, change nothing
        made = {path.name: "" for path in sorted(HERE.glob("*.pt"))}
    else:
        made = make_fixtures()
    total = sum((HERE / n).stat().st_size for n in made)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            for line in check(made):
                print(line)
        finally:
            os.chdir(cwd)
    print(
        f"{len(made)} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}, numpy {numpy.__version__}"
    )
    if not any(made.values()):
        return
    (HERE / "README.md").write_text(
        "# Checkpoint fixtures\n\nMade by `make_fixtures.py` with torch "
        f"{torch.__version__} and numpy {numpy.__version__} (see its docstring for how to run it and what "
        "it checks against real torch). Do not edit by hand.\n\n"
        + "\n".join(f"- `{n}`: {w}" for n, w in made.items())
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
