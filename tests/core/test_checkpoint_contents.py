"""Reading checkpoints without torch and without executing them: every committed fixture, and the CLI.

The fixtures in tests/data/checkpoints were made with real torch.save by make_fixtures.py, which also
loaded each safe one with torch.load(weights_only=True) using the lines the inspector writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import pickletools
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import checkpoint_contents as cc
from ofa_manager.core import checkpoint_results as results
from ofa_manager.core import checkpoint_summary as summary
from ofa_manager.core import pickle_globals, safe_unpickler
from tests.catalogs import REPO, cli_env, entry, write_catalog

FIXTURES = REPO / "tests" / "data" / "checkpoints"
MARKER = "ofa-manager-pwned"  # what malicious_reduce.pt's reduce would create (see make_fixtures.py)

READABLE = {
    "zip_state_dict.pt": "safe",
    "legacy_state_dict.pt": "safe",
    "fairseq_ofa_tiny.pt": "safe",
    "fairseq_ofa_large_args.pt": "safe",
    "petl_ofa_large.pt": "safe",
    "fairseq_ofa_huge_caption.pt": "safe",
    "malicious_reduce.pt": "unsafe",
}
REFUSED = {
    "ambiguous_case.pt": (results.AmbiguousCheckpoint, "names that differ only in case"),
    "ambiguous_two_pickles.pt": (results.AmbiguousCheckpoint, "more than one pickle"),
    "truncated.pt": (results.TruncatedCheckpoint, "truncated"),
    "truncated_legacy.pt": (results.TruncatedCheckpoint, "truncated"),
    "web_page.pt": (results.NotACheckpoint, "not a PyTorch checkpoint: this is a web page"),
    "random_bytes.pt": (results.NotACheckpoint, "not a PyTorch checkpoint"),
}


def inspect_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`ofa-manager inspect ARGS` run in this process from cwd (fast: the mutation runs use these tests)."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(["inspect", *args])
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["inspect", *args], code, out.getvalue(), err.getvalue())


def zip_checkpoint(path: Path, data_pkl: bytes, storages: dict[str, bytes] | None = None) -> Path:
    """A zip archive laid out as torch.save lays it out, around a pickle made by the test."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")
    return path


def ofa_parameters(width: int, encoder: int, decoder: int, blocks: int) -> int:
    """The elements of make_fixtures.ofa_state_dict's keys, worked out independently of the reader."""
    vocab = 59457
    embeddings = 3 * vocab * width + 1026 * width + 64 * 3 * 7 * 7  # tokens (tied thrice), positions, conv1
    resnet = blocks * (256 * 1024 + 256)
    layers = (encoder + decoder) * (4 * width * width + 2 * 4 * width * width)
    return embeddings + resnet + layers


# -- every fixture ---------------------------------------------------------------------------------------


def test_every_committed_fixture_has_an_expectation_here():
    assert sorted(p.name for p in FIXTURES.glob("*.pt")) == sorted([*READABLE, *REFUSED])


@pytest.mark.parametrize("name", sorted(READABLE))
def test_readable_fixtures_are_described_and_judged(name):
    contents = cc.read_checkpoint(FIXTURES / name, deep=True)
    assert contents.verdict.safe is (READABLE[name] == "safe")
    assert contents.problems == []
    assert contents.tensor_count > 0 and contents.storage_count > 0
    assert contents.members_checked > 0
    json.dumps(contents.to_json())  # JSON-ready as it is


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unreadable_fixtures_are_refused_with_the_reason(name):
    kind, words = REFUSED[name]
    with pytest.raises(kind, match=words):
        cc.read_checkpoint(FIXTURES / name)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_cli_refuses_unreadable_files_with_exit_2_and_no_traceback(name, tmp_path):
    done = inspect_cli(str(FIXTURES / name), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith(f"ofa-manager: error: {FIXTURES / name}: ")
    assert REFUSED[name][1] in done.stderr


# -- what is read ----------------------------------------------------------------------------------------


def test_a_fairseq_checkpoint_gives_its_metadata_sections_and_size():
    c = cc.read_checkpoint(FIXTURES / "fairseq_ofa_tiny.pt")
    assert c.format == "zip" and c.archive_prefix == "fairseq_ofa_tiny" and c.pickle_protocol == 2
    assert c.top_level_keys == [
        "args", "cfg", "model", "criterion", "optimizer_history", "task_state", "extra_state",
        "last_optimizer_state",
    ]  # fmt: skip
    assert c.metadata == {
        "architecture": "ofa_tiny",
        "task": "refcoco",
        "updates": 31240,
        "epoch": 5,
        "best": 0.8731,
    }
    assert c.inferred == {
        "embedding_width": 256, "size": "tiny", "encoder_layers": 4, "decoder_layers": 4,
        "resnet_layer3_blocks": 6, "resnet": "ResNet-50", "matches_metadata": True,
    }  # fmt: skip
    assert c.model_parameters == ofa_parameters(256, 4, 4, 6)
    sections = {s.name: (s.kind, s.tensors, s.bytes) for s in c.sections}
    assert sections["model"] == ("model weights", 63, 2)  # one shared float16 element
    assert sections["extra_state.ema"] == ("EMA weights", 4, 4)  # one float32 element
    assert sections["last_optimizer_state"] == ("optimizer state", 2, 64)  # two float32[8]
    assert c.tensor_count == 69 and c.storage_count == 4 and c.tensor_bytes == 70
    assert c.dtypes == {"float16": 63, "float32": 6}
    assert c.petl == {}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ema", "EMA weights"),
        ("model_ema", "EMA weights"),
        ("extra_state.ema", "EMA weights"),
        ("schema", "other"),
        ("model", "model weights"),
        ("last_optimizer_state", "optimizer state"),
        ("extra_state", "training state"),
    ],
)
def test_section_kinds(name, kind):
    assert summary._kind(name) == kind


def test_an_older_fairseq_checkpoint_names_its_architecture_in_args():
    c = cc.read_checkpoint(FIXTURES / "fairseq_ofa_large_args.pt")
    assert c.metadata == {"architecture": "ofa_large", "task": "caption", "updates": 5000, "best": 1.25}
    assert c.inferred["size"] == "large" and c.inferred["resnet"] == "ResNet-152"
    assert (c.inferred["encoder_layers"], c.inferred["decoder_layers"]) == (12, 12)
    assert c.inferred["matches_metadata"] is True
    assert c.model_parameters == ofa_parameters(1024, 12, 12, 36)


def test_petl_families_are_found_by_key_names():
    c = cc.read_checkpoint(FIXTURES / "petl_ofa_large.pt")
    assert c.petl == {
        "adapter": {"keys": 8, "parameters": 4 * (64 * 1024 * 2)},
        "lora": {"keys": 4, "parameters": 2 * (16 * 1024 * 2)},
        "prompt": {"keys": 2, "parameters": 2 * 100 * 1024},
    }


def test_the_inferred_size_disagreeing_with_the_metadata_is_said():
    c = summary._infer(
        {"encoder.embed_tokens.weight": pickle_globals.Tensor(None, 0, (10, 768), "float16")}, "ofa_large"
    )
    assert c == {"embedding_width": 768, "size": "base", "matches_metadata": False}


def test_the_zip_and_legacy_formats_of_one_state_dict_read_the_same():
    zipped = cc.read_checkpoint(FIXTURES / "zip_state_dict.pt")
    legacy = cc.read_checkpoint(FIXTURES / "legacy_state_dict.pt")
    assert (zipped.format, legacy.format) == ("zip", "legacy")
    for field in (
        "top_level_keys",
        "tensor_count",
        "storage_count",
        "tensor_bytes",
        "dtypes",
        "model_parameters",
    ):
        assert getattr(zipped, field) == getattr(legacy, field), field
    assert zipped.top_level_keys == ["weight", "bias"] and zipped.model_parameters == 8


def test_a_lone_upper_case_data_pkl_is_read_as_torch_reads_it(tmp_path):
    # torch looks names up ignoring case (checked with torch 2.13 when the fixtures were made), so one
    # DATA.PKL is what torch loads; only two candidates are ambiguous.
    source = zipfile.ZipFile(FIXTURES / "zip_state_dict.pt")
    with zipfile.ZipFile(tmp_path / "upper.pt", "w") as out:
        for info in source.infolist():
            out.writestr(info.filename.replace("data.pkl", "DATA.PKL"), source.read(info))
    contents = cc.read_checkpoint(tmp_path / "upper.pt")
    assert contents.pickle_member == "zip_state_dict/DATA.PKL" and contents.tensor_count == 2


def test_the_archive_folder_is_taken_from_the_first_entry_as_torch_does(tmp_path):
    path = tmp_path / "moved.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("first/version", "3\n")
        archive.writestr("second/data.pkl", pickle.dumps({}, protocol=2))
    with pytest.raises(results.NotACheckpoint, match="without first/data.pkl"):
        cc.read_checkpoint(path)


# -- safety ----------------------------------------------------------------------------------------------


def test_the_malicious_fixture_really_carries_a_reduce_that_creates_a_file():
    # Read with the stdlib's opcode lister, which executes nothing: the test below is about a real threat.
    with zipfile.ZipFile(FIXTURES / "malicious_reduce.pt") as archive:
        ops = list(pickletools.genops(archive.read("malicious_reduce/data.pkl")))
    assert ("GLOBAL", "posix system") in [(op.name, arg) for op, arg, _ in ops]
    assert f"touch {MARKER}" in [arg for _, arg, _ in ops]


def test_the_malicious_fixture_is_never_executed_and_its_global_is_named_dangerous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    contents = cc.read_checkpoint(FIXTURES / "malicious_reduce.pt", deep=True)
    assert not (tmp_path / MARKER).exists()
    assert contents.verdict.safe is False
    assert contents.verdict.dangerous == ["posix.system"] and contents.verdict.unknown == []
    assert contents.verdict.weights_only_code is None
    assert {g.name: g.risk for g in contents.globals}["posix.system"] == "dangerous"


def test_the_cli_names_the_dangerous_global_exits_1_and_creates_nothing(tmp_path):
    done = inspect_cli(str(FIXTURES / "malicious_reduce.pt"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "UNSAFE" in done.stdout and "posix.system  dangerous" in done.stdout
    assert not (tmp_path / MARKER).exists() and not (REPO / MARKER).exists()


def test_a_pickle_that_opens_a_file_does_so_under_pickle_and_never_here(tmp_path):
    target = tmp_path / "created-by-the-pickle"

    class OpensAFile:
        def __reduce__(self):
            return (open, (str(target), "w"))

    data = pickle.dumps({"weights": {}, "x": OpensAFile()}, protocol=2)
    path = zip_checkpoint(tmp_path / "opens.pt", data)
    contents = cc.read_checkpoint(path, deep=True)
    assert not target.exists()
    assert contents.verdict.dangerous == ["io.open"]  # how pickle names the builtin open
    # The same bytes, given to the real unpickler, do create the file: the check above could fail.
    pickle.loads(data)["x"].close()
    assert target.exists()


def test_an_unknown_global_is_named_unknown_and_never_imported(tmp_path):
    data = b"\x80\x02}X\x03\x00\x00\x00cfgcnot_a_real_module_ofa\nDictConfig\n)\x81}bs."
    contents = cc.read_checkpoint(zip_checkpoint(tmp_path / "u.pt", data))
    assert contents.verdict.unknown == ["not_a_real_module_ofa.DictConfig"]
    assert "not_a_real_module_ofa" not in sys.modules
    assert "unknown: not_a_real_module_ofa.DictConfig" in contents.verdict.summary


@pytest.mark.parametrize(
    ("name", "risk"),
    [
        ("posix.system", "dangerous"),
        ("os.system", "dangerous"),
        ("subprocess.Popen", "dangerous"),
        ("builtins.eval", "dangerous"),
        ("builtins.exec", "dangerous"),
        ("builtins.getattr", "dangerous"),
        ("builtins.open", "dangerous"),
        ("torch.hub.load", "dangerous"),
        ("builtins.str.__mro__", "dangerous"),
        ("omegaconf.dictconfig.DictConfig", "unknown"),
        ("numpy.core.multiarray._reconstruct", "unknown"),
        ("argparse.Namespace", "benign"),
        ("numpy.core.multiarray.scalar", "benign"),
        ("numpy._core.multiarray.scalar", "benign"),
        ("numpy.dtype", "benign"),
        ("builtins.slice", "benign"),
        ("collections.OrderedDict", "torch"),
        ("torch._utils._rebuild_tensor_v2", "torch"),
        ("torch.FloatStorage", "torch"),
        ("torch.bfloat16", "torch"),
        ("_codecs.encode", "torch"),
    ],
)
def test_global_risk(name, risk):
    assert pickle_globals.global_risk(name) == risk


def test_python2_names_are_mapped_as_torch_maps_them(tmp_path):
    data = b"\x80\x02}X\x01\x00\x00\x00xc__builtin__\neval\nX\x03\x00\x00\x001+1\x85Rs."
    contents = cc.read_checkpoint(zip_checkpoint(tmp_path / "py2.pt", data))
    assert contents.verdict.dangerous == ["builtins.eval"]


def test_the_weights_only_lines_name_just_the_benign_globals_the_file_holds():
    tiny = cc.read_checkpoint(FIXTURES / "fairseq_ofa_tiny.pt")
    assert tiny.verdict.weights_only_code == (
        "import argparse\n"
        "import numpy\n"
        "import torch\n"
        "\n"
        "torch.serialization.add_safe_globals([\n"
        "    argparse.Namespace,\n"
        '    (numpy.float64(0).__reduce__()[0], "numpy._core.multiarray.scalar"),\n'
        "    numpy.dtype,\n"
        "    numpy.dtypes.Float64DType,\n"
        "    numpy.dtypes.Int64DType,\n"
        "])\n"
        f'checkpoint = torch.load("{FIXTURES}/fairseq_ofa_tiny.pt", map_location="cpu", weights_only=True)\n'
    )
    large = cc.read_checkpoint(FIXTURES / "fairseq_ofa_large_args.pt")
    assert '"numpy.core.multiarray.scalar")' in large.verdict.weights_only_code  # as the file names it
    assert "numpy.dtypes.Float32DType" in large.verdict.weights_only_code
    plain = cc.read_checkpoint(FIXTURES / "zip_state_dict.pt")
    assert plain.verdict.safe_globals == []
    assert plain.verdict.weights_only_code.splitlines() == [
        "import torch",
        "",
        f'checkpoint = torch.load("{FIXTURES}/zip_state_dict.pt", map_location="cpu", weights_only=True)',
    ]


def test_opcodes_torch_weights_only_cannot_read_are_reported(tmp_path):
    data = pickle.dumps({"a": 1, "b": [1, 2]}, protocol=4)  # FRAME, SHORT_BINUNICODE, MEMOIZE
    contents = cc.read_checkpoint(zip_checkpoint(tmp_path / "p4.pt", data))
    assert contents.verdict.safe is True and contents.pickle_protocol == 4
    assert contents.verdict.weights_only_blockers and contents.verdict.weights_only_code is None


# -- damage and hostile pickles --------------------------------------------------------------------------


def test_deep_finds_a_flipped_byte_in_a_storage_and_the_cli_exits_1(tmp_path):
    path = tmp_path / "flipped.pt"
    shutil.copy(FIXTURES / "fairseq_ofa_tiny.pt", path)
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
        f.seek(info.header_offset + 30 + name_len + extra_len)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert cc.read_checkpoint(path).problems == []  # the quick read never touches tensor data
    deep = cc.read_checkpoint(path, deep=True)
    assert len(deep.problems) == 1 and info.filename in deep.problems[0] and "CRC" in deep.problems[0]
    done = inspect_cli(str(path), "--deep", cwd=tmp_path)
    assert done.returncode == 1 and "problem" in done.stdout and "CRC" in done.stdout
    assert inspect_cli(str(path), cwd=tmp_path).returncode == 0


def test_deep_checks_the_legacy_storage_records_and_trailing_bytes_are_reported(tmp_path):
    data = bytearray((FIXTURES / "legacy_state_dict.pt").read_bytes())
    first = (
        len(data) - (8 + 6 * 4) - (8 + 2 * 4)
    )  # the storages: float32[6] and float32[2], each after its count
    assert int.from_bytes(data[first : first + 8], "little") in (6, 2)
    data[first : first + 8] = (99).to_bytes(8, "little")
    path = tmp_path / "legacy.pt"
    path.write_bytes(bytes(data) + b"extra")
    quick = cc.read_checkpoint(path)
    assert quick.problems == ["5 bytes after the last storage"]
    deep = cc.read_checkpoint(path, deep=True)
    assert deep.members_checked == 2
    assert len(deep.problems) == 2 and "99 elements recorded" in deep.problems[1]


def test_the_cli_on_a_folder_or_a_missing_file_says_so_with_exit_2(tmp_path):
    folder = inspect_cli(str(tmp_path), cwd=tmp_path)
    assert folder.returncode == 2 and "Is a directory" in folder.stderr and "Traceback" not in folder.stderr
    missing = inspect_cli(str(tmp_path / "nothing.pt"), cwd=tmp_path)
    assert missing.returncode == 2 and "no file" in missing.stderr and "Traceback" not in missing.stderr


def test_a_storage_whose_size_does_not_match_its_elements_is_reported(tmp_path):
    # One float32 storage said to hold 10 elements, with 8 bytes in the archive.
    data = (
        b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage"
        b"ctorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\ntQK\x00K\n\x85K\x01\x85\x89"
        b"ccollections\nOrderedDict\n)RtRs."
    )
    contents = cc.read_checkpoint(zip_checkpoint(tmp_path / "s.pt", data, {"0": b"\x00" * 8}))
    assert contents.tensor_count == 1 and contents.model_parameters == 10
    assert contents.problems == ["storage 0: 8 bytes in the archive, 10 × 4 = 40 expected"]
    missing = cc.read_checkpoint(zip_checkpoint(tmp_path / "m.pt", data))
    assert missing.problems == ["storage 0 is named by the pickle but missing from the archive"]
    # Old files saved from a GPU may name torch.cuda.FloatStorage: the same storage, on another device.
    cuda = data.replace(b"ctorch\nFloatStorage", b"ctorch.cuda\nFloatStorage")
    on_gpu = cc.read_checkpoint(zip_checkpoint(tmp_path / "g.pt", cuda, {"0": b"\x00" * 40}))
    assert on_gpu.problems == [] and on_gpu.dtypes == {"float32": 1} and on_gpu.verdict.safe


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x80\x02" + b"(" * (safe_unpickler.MAX_MARKS + 1), "nests too deeply"),
        (b"\x80\x02\x8b" + struct.pack("<i", 100_000_000), "integer of 100000000 bytes"),
        (b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0), "truncated"),
        (b"\x80\x02h\x05.", "memo 5 is not set"),
        (b"\x80\x02\xff", "unknown opcode 0xff"),
        (b"\x80\x02t.", "no MARK"),
        (b"\x80\x02}]]s.", "unhashable"),
        (b"\x80\x02Q.", "IndexError"),
        (b"\x80\x02K\x01Q.", "not a storage"),
    ],
)
def test_hostile_or_broken_pickles_give_a_clear_error(tmp_path, data, words):
    with pytest.raises(results.CheckpointError, match=words):
        cc.read_checkpoint(zip_checkpoint(tmp_path / "bad.pt", data))


def test_the_operation_and_size_limits_stop_a_long_pickle(tmp_path, monkeypatch):
    # The real limits (5 million operations, 64 MiB) take seconds to reach; the same checks, made small.
    monkeypatch.setattr(safe_unpickler, "MAX_OPCODES", 1000)
    path = zip_checkpoint(tmp_path / "long.pt", b"\x80\x02" + b"N0" * 600 + b"N.")
    with pytest.raises(results.MalformedPickle, match="more than 1000 operations"):
        cc.read_checkpoint(path)
    monkeypatch.setattr(cc, "MAX_PICKLE_BYTES", 1000)
    with pytest.raises(results.MalformedPickle, match="larger than"):
        cc.read_checkpoint(path)
    monkeypatch.setattr(safe_unpickler, "MAX_OPCODES", 5_000_000)
    monkeypatch.setattr(cc, "MAX_PICKLE_BYTES", 64 * 2**20)
    assert cc.read_checkpoint(path).top_level_keys == []


def test_a_million_deep_nesting_and_a_self_containing_list_are_read(tmp_path):
    depth = 1_000_000
    deep = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    contents = cc.read_checkpoint(zip_checkpoint(tmp_path / "deep.pt", deep))
    assert contents.tensor_count == 0 and contents.verdict.safe
    cycle = b"\x80\x02]q\x00h\x00a."  # a list that contains itself
    assert cc.read_checkpoint(zip_checkpoint(tmp_path / "cycle.pt", cycle)).verdict.safe


def test_globals_named_before_a_pickle_breaks_are_still_reported(tmp_path):
    data = b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R\xff"
    with pytest.raises(results.MalformedPickle) as caught:
        cc.read_checkpoint(zip_checkpoint(tmp_path / "broken.pt", data))
    assert [(g.name, g.risk) for g in caught.value.globals] == [("posix.system", "dangerous")]
    done = inspect_cli(str(tmp_path / "broken.pt"), cwd=tmp_path)
    assert done.returncode == 2 and "posix.system (dangerous)" in done.stderr


def test_reading_needs_neither_torch_nor_numpy_nor_the_stdlib_unpickler(tmp_path):
    code = f"""
import sys
for name in ("torch", "numpy", "pickle", "_pickle"):
    sys.modules[name] = None  # importing any of them now fails
from ofa_manager.core.checkpoint_contents import read_checkpoint
from ofa_manager.core.checkpoint_results import CheckpointError
from pathlib import Path
read = 0
for path in sorted(Path({str(FIXTURES)!r}).glob("*.pt")):
    try:
        read_checkpoint(path, deep=True)
        read += 1
    except CheckpointError:
        pass
print("READ", read)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"READ {len(READABLE)}" in done.stdout


# -- the command line ------------------------------------------------------------------------------------


def test_the_cli_summary_of_a_safe_checkpoint(tmp_path):
    done = inspect_cli(str(FIXTURES / "petl_ofa_large.pt"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "zip archive (torch >= 1.6)" in out
    assert "ofa_large, task refcoco, 31,240 updates, epoch 5, best 0.8731" in out
    assert "width 1024 → large; 12 encoder / 12 decoder layers; ResNet-152 (36 third-stage blocks)" in out
    assert "agrees with the metadata" in out
    assert "adapter: 8 keys, 524,288 parameters" in out
    assert "safety      tensors and plain data only" in out
    where = FIXTURES / "petl_ofa_large.pt"
    assert f'checkpoint = torch.load("{where}", map_location="cpu", weights_only=True)' in out


def test_the_cli_json_is_the_dataclass(tmp_path):
    done = inspect_cli(str(FIXTURES / "fairseq_ofa_tiny.pt"), "--json", "--deep", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["format"] == "zip" and data["deep"] is True and data["members_checked"] == 10
    assert data["metadata"]["architecture"] == "ofa_tiny"
    assert data["verdict"]["safe"] is True and "argparse.Namespace" in data["verdict"]["safe_globals"]
    assert {"name": "argparse.Namespace", "risk": "benign"} in data["globals"]


def test_the_cli_inspects_a_catalog_entry_by_id(tmp_path, models_dir):
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("tiny", "http://127.0.0.1:9/ofa_tiny.pt"), entry("absent", "http://127.0.0.1:9/absent.pt")],
    )
    shutil.copy(FIXTURES / "fairseq_ofa_tiny.pt", models_dir / "ofa_tiny.pt")
    base = ["--dir", str(models_dir), "--catalog", str(catalog)]
    done = inspect_cli(*base, "tiny", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"] == str(models_dir / "ofa_tiny.pt")
    absent = inspect_cli(*base, "absent", cwd=tmp_path)
    assert absent.returncode == 2 and "absent is not downloaded" in absent.stderr
    unknown = inspect_cli(*base, "tinny", cwd=tmp_path)
    assert unknown.returncode == 2 and "tiny" in unknown.stderr and "no file 'tinny'" in unknown.stderr
    assert "Traceback" not in absent.stderr + unknown.stderr


def test_the_cli_help_documents_the_exit_codes(tmp_path):
    done = inspect_cli("--help", cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert (
        "0 tensors and plain data only" in text and "1 it names globals" in text and "2 usage error" in text
    )
