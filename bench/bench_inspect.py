"""How long `ofa-manager inspect` takes on a multi-GB checkpoint, and how much memory it needs.

Usage: python bench/bench_inspect.py [--runs 5] [--keep FILE]

Builds an OFA-Large-shaped fairseq checkpoint of about 1.8 GiB without torch: the pickle comes from the
stdlib pickler (protocol 2, as torch.save uses) over stand-ins registered for this process only as
``torch._utils._rebuild_tensor_v2`` and ``torch.FloatStorage``, so the opcodes are the ones torch
writes; the zip archive is laid out as torch lays it out (data.pkl first, one stored member per storage,
version last). Then, each in a new child process, with the file's pages dropped from the page cache
first (posix_fadvise DONTNEED, this file only) and again with them cached:
  - read_checkpoint(path) and read_checkpoint(path, deep=True), timed inside the child;
  - peak RSS of the child (getrusage ru_maxrss), against a child that only imports the module;
  - the whole command `ofa-manager inspect PATH --json` (Python start-up included).
Prints a Markdown table; medians of --runs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def _stand_in_torch() -> tuple[object, type]:
    """Modules named torch and torch._utils for this process, holding what the pickle must name."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only pickled by name
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    FloatStorage = type("FloatStorage", (), {"__module__": "torch"})
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    sys.modules.setdefault("torch", torch)
    sys.modules.setdefault("torch._utils", utils)
    return _rebuild_tensor_v2, FloatStorage


class _Storage:
    def __init__(self, key: str, numel: int) -> None:
        self.key, self.numel = key, numel


class _Tensor:
    """Pickles as torch pickles a tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    rebuild = None

    def __init__(self, storage: _Storage, shape: tuple[int, ...]) -> None:
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride, step = [], 1
        for dim in reversed(self.shape):
            stride.insert(0, step)
            step *= dim
        hooks = collections.OrderedDict()
        return (_Tensor.rebuild, (self.storage, 0, self.shape, tuple(stride), False, hooks))


class _Pickler(pickle.Pickler):
    storage_type = None

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", self.storage_type, obj.key, "cpu", obj.numel)
        return None


def ofa_large_shapes() -> dict[str, tuple[int, ...]]:
    """The keys and shapes of an OFA-Large state dict (every layer's attention, FFN and norms)."""
    width, vocab, layers = 1024, 59457, 12
    shapes: dict[str, tuple[int, ...]] = {
        "encoder.embed_tokens.weight": (vocab, width),
        "encoder.embed_positions.weight": (1026, width),
        "encoder.embed_images.conv1.weight": (64, 3, 7, 7),
    }
    for stage, (blocks, planes) in enumerate(((3, 64), (8, 128), (36, 256)), start=1):
        for block in range(blocks):
            prefix = f"encoder.embed_images.layer{stage}.{block}."
            inplanes = planes * 4
            shapes[prefix + "conv1.weight"] = (planes, inplanes, 1, 1)
            shapes[prefix + "conv2.weight"] = (planes, planes, 3, 3)
            shapes[prefix + "conv3.weight"] = (inplanes, planes, 1, 1)
            for bn in ("bn1", "bn2"):
                for part in ("weight", "bias", "running_mean", "running_var"):
                    shapes[prefix + f"{bn}.{part}"] = (planes,)
    for side in ("encoder", "decoder"):
        for layer in range(layers):
            prefix = f"{side}.layers.{layer}."
            attentions = ("self_attn", "encoder_attn") if side == "decoder" else ("self_attn",)
            for attn in attentions:
                for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
                    shapes[prefix + f"{attn}.{proj}.weight"] = (width, width)
                    shapes[prefix + f"{attn}.{proj}.bias"] = (width,)
                shapes[prefix + f"{attn}_layer_norm.weight"] = (width,)
                shapes[prefix + f"{attn}_layer_norm.bias"] = (width,)
            shapes[prefix + "fc1.weight"] = (4 * width, width)
            shapes[prefix + "fc1.bias"] = (4 * width,)
            shapes[prefix + "fc2.weight"] = (width, 4 * width)
            shapes[prefix + "fc2.bias"] = (width,)
            shapes[prefix + "final_layer_norm.weight"] = (width,)
            shapes[prefix + "final_layer_norm.bias"] = (width,)
    shapes["decoder.embed_tokens.weight"] = (vocab, width)
    shapes["decoder.output_projection.weight"] = (vocab, width)
    return shapes


def build_checkpoint(path: Path) -> tuple[int, int]:
    """Write the checkpoint; returns (tensors, bytes of tensor data)."""
    rebuild, storage_type = _stand_in_torch()
    _Tensor.rebuild = rebuild
    model = collections.OrderedDict()
    total = 0
    for index, (key, shape) in enumerate(ofa_large_shapes().items()):
        numel = 1
        for dim in shape:
            numel *= dim
        model[key] = _Tensor(_Storage(str(index), numel), shape)
        total += numel * 4
    checkpoint = {
        "args": argparse.Namespace(arch="ofa_large", task="refcoco", encoder_embed_dim=1024),
        "model": model,
        "optimizer_history": [{"num_updates": 31240, "optimizer_name": "FairseqAdam"}],
        "extra_state": {"train_iterator": {"epoch": 5}},
    }
    buffer = tempfile.SpooledTemporaryFile()
    pickler = _Pickler(buffer, protocol=2)
    pickler.storage_type = storage_type
    pickler.dump(checkpoint)
    buffer.seek(0)
    block = os.urandom(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr("archive/data.pkl", buffer.read())
        archive.writestr("archive/.format_version", "1")
        archive.writestr("archive/byteorder", "little")
        for tensor in model.values():
            left = tensor.storage.numel * 4
            with archive.open(f"archive/data/{tensor.storage.key}", "w", force_zip64=True) as member:
                while left:
                    member.write(block[: min(left, MiB)])
                    left -= min(left, MiB)
        archive.writestr("archive/version", "3\n")
    return len(model), total


CHILD = """
import json, resource, sys, time
from ofa_manager.core.checkpoint_contents import read_checkpoint
start = time.perf_counter()
mode = sys.argv[2]
if mode != "import":
    contents = read_checkpoint(sys.argv[1], deep=mode == "deep")
    assert contents.tensor_count > 0 and not contents.problems, contents.problems
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def child(path: Path, mode: str, cold: bool) -> dict:
    if cold:
        drop_cache(path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def whole_command(path: Path, cold: bool) -> float:
    if cold:
        drop_cache(path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ofa_manager", "inspect", str(path), "--json"],
        capture_output=True,
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the checkpoint here and keep it")
    options = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="bench-inspect-")
    path = options.keep or Path(folder.name) / "ofa_large_bench.pt"
    start = time.perf_counter()
    tensors, data = build_checkpoint(path)
    built = time.perf_counter() - start
    size = path.stat().st_size
    runs = options.runs
    base = statistics.median(child(path, "import", False)["rss_kib"] for _ in range(runs)) / 1024
    rows = []
    for mode, label in (("quick", "inspect"), ("deep", "inspect --deep")):
        for cold in (True, False):
            results = [child(path, mode, cold) for _ in range(runs)]
            seconds = statistics.median(r["seconds"] for r in results)
            rss = max(r["rss_kib"] for r in results) / 1024
            cache = "file not in page cache" if cold else "file in page cache"
            rows.append((f"read_checkpoint, {label}, {cache}", f"{seconds * 1000:.0f} ms", f"{rss:.0f} MiB"))
    for cold in (True, False):
        seconds = statistics.median(whole_command(path, cold) for _ in range(runs))
        cache = "file not in page cache" if cold else "file in page cache"
        rows.append((f"`ofa-manager inspect --json`, whole command, {cache}", f"{seconds * 1000:.0f} ms", ""))
    print(
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; median of {runs} runs\n"
    )
    print(
        f"Checkpoint: OFA-Large-shaped fairseq file, {size / 2**30:.2f} GiB, {tensors} tensors "
        f"({data / 2**30:.2f} GiB of float32 data), built in {built:.0f} s without torch\n"
    )
    print("| run | time | peak RSS |\n|---|---|---|")
    for row in rows:
        print(f"| {' | '.join(row)} |")
    print(f"| a child that only imports the module | | {base:.0f} MiB |")
    folder.cleanup()


if __name__ == "__main__":
    main()
