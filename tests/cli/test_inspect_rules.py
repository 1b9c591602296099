"""`inspect`, in this process: the whole text it prints for the committed checkpoints (format, keys, metadata,
shapes, parameters, tensors and sections, PETL families, safety and the lines that load a safe file), the
claim of a catalog entry against its file, what it refuses and the exit codes."""

from __future__ import annotations

import dataclasses
import json
import shutil
import zipfile

import pytest

from ofa_manager.cli import inspection
from ofa_manager.core import checkpoint_contents as cc
from ofa_manager.core.checkpoint_results import Verdict
from tests.catalogs import DATA, entry, run_cli, write_catalog

FIXTURES = DATA / "checkpoints"


def inspect(capsys, tmp_path, *words: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--dir", str(tmp_path / "models"), *words)


def copied(tmp_path, name: str):
    """A fixture copied under a short name, so the printed path is known."""
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    return path


def test_a_fairseq_checkpoint_in_full(capsys, tmp_path):
    path = copied(tmp_path, "fairseq_ofa_tiny.pt")
    code, out, err = inspect(capsys, tmp_path, "inspect", str(path))
    assert code == 0 and err == ""
    assert out.splitlines()[:10] == [
        f"{path} — zip archive (torch >= 1.6), 10.8 KiB",
        "  keys        args, cfg, model, criterion, optimizer_history, task_state, extra_state, "
        "last_optimizer_state",
        "  metadata    ofa_tiny, task refcoco, 31,240 updates, epoch 5, best 0.8731",
        "  shapes      width 256 → tiny; 4 encoder / 4 decoder layers; ResNet-50 (6 third-stage blocks); "
        "agrees with the metadata",
        "  parameters  53,800,896 in the model",
        "  tensors     69 (float16 63, float32 6) in 4 storage(s), 70 Bytes",
        "              model: model weights, 63 tensors, 2 Bytes",
        "              extra_state.ema: EMA weights, 4 tensors, 4 Bytes",
        "              last_optimizer_state: optimizer state, 2 tensors, 64 Bytes",
        "  safety      tensors and plain data only",
    ]
    loading = out.splitlines()[10:]
    assert loading[0] == "  load it with torch >= 2.6 (nothing else is imported or called):"
    assert loading[1:4] == ["    import argparse", "    import numpy", "    import torch"]
    assert loading[4] == ""  # a blank line of the code stays blank, not indented
    assert loading[-1] == (f'    checkpoint = torch.load("{path}", map_location="cpu", weights_only=True)')


def test_a_legacy_state_dict_has_no_metadata_nor_shapes(capsys, tmp_path):
    path = copied(tmp_path, "legacy_state_dict.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path))
    assert code == 0
    assert out.splitlines() == [
        f"{path} — legacy torch.save stream (torch < 1.6), 498 Bytes",
        "  keys        weight, bias",
        "  parameters  8 in the model",
        "  tensors     2 (float32 2) in 2 storage(s), 32 Bytes",
        "              (state dict): model weights, 2 tensors, 32 Bytes",
        "  safety      tensors and plain data only",
        "  load it with torch >= 2.6 (nothing else is imported or called):",
        "    import torch",
        "",
        f'    checkpoint = torch.load("{path}", map_location="cpu", weights_only=True)',
    ]


def test_a_checkpoint_that_runs_code_is_unsafe_and_exits_1(capsys, tmp_path):
    path = copied(tmp_path, "malicious_reduce.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path} — zip archive (torch >= 1.6), 2.0 KiB",
        "  keys        model, payload",
        "  parameters  8 in the model",
        "  tensors     2 (float32 2) in 2 storage(s), 32 Bytes",
        "              model: model weights, 2 tensors, 32 Bytes",
        "  safety      UNSAFE: torch.load(weights_only=False) would import or call:",
        "              posix.system  dangerous",
        "              do not load it with weights_only=False; weights_only=True refuses it",
    ]


def test_petl_families_and_the_deep_check(capsys, tmp_path):
    path = copied(tmp_path, "petl_ofa_large.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path), "--deep")
    assert code == 0
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("  PETL")] == [
        "  PETL        adapter: 8 keys, 524,288 parameters",
        "  PETL        lora: 4 keys, 65,536 parameters",
        "  PETL        prompt: 2 keys, 204,800 parameters",
    ]
    assert lines[-1] == "  deep check  10 members read, all intact"


def test_a_caption_model_with_a_best_score(capsys, tmp_path):
    path = copied(tmp_path, "fairseq_ofa_large_args.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "  keys        args, model, optimizer_history, extra_state"
    assert lines[2] == "  metadata    ofa_large, task caption, 5,000 updates, best 1.25"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("truncated.pt", "truncated: the file starts as a zip archive but its end"),
        ("web_page.pt", "not a PyTorch checkpoint: this is a web page (HTML/XML)"),
        ("ambiguous_two_pickles.pt", "refused as ambiguous: the archive holds more than one pickle"),
    ],
)
def test_what_is_not_a_readable_checkpoint_is_a_usage_error(capsys, tmp_path, name, reason):
    path = copied(tmp_path, name)
    code, out, err = inspect(capsys, tmp_path, "inspect", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"ofa-manager: error: {path}: {reason}")


def test_json_carries_the_contents(capsys, tmp_path):
    path = copied(tmp_path, "fairseq_ofa_tiny.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path), "--json")
    assert code == 0 and out.startswith('{\n  "')
    found = json.loads(out)
    assert found["path"] == str(path) and found["format"] == "zip"
    assert "expect" not in found and "mismatch" not in found  # a path, not a catalog entry


# -- by catalog id ------------------------------------------------------------------------------------


@pytest.fixture
def shelf(tmp_path, http_server):
    http_server.add("/tiny.pt", (FIXTURES / "fairseq_ofa_tiny.pt").read_bytes())
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("tiny", http_server.url("/tiny.pt"), expect={"arch": "ofa_tiny", "task": "refcoco"}),
            entry("claimed-large", http_server.url("/tiny.pt"), expect={"arch": "ofa_large"}),
            entry("plain", http_server.url("/tiny.pt")),
        ],
    )
    return ["--dir", str(tmp_path / "models"), "--catalog", str(catalog)]


def test_an_id_that_is_not_downloaded_is_named(capsys, tmp_path, shelf):
    code, out, err = run_cli(capsys, *shelf, "inspect", "tiny")
    assert code == 2 and out == ""
    assert err == "ofa-manager: error: tiny is not downloaded (remote); nothing to inspect\n"
    code, _, err = run_cli(capsys, *shelf, "inspect", "tinny")
    assert code == 2 and "unknown checkpoint id 'tinny'" in err
    assert err.endswith("; and there is no file 'tinny'\n")


def test_an_id_shows_its_claim_and_whether_the_file_agrees(capsys, tmp_path, shelf):
    assert run_cli(capsys, *shelf, "download", "tiny")[0] == 0
    code, out, _ = run_cli(capsys, *shelf, "inspect", "tiny")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'models' / 'tiny.pt'} — zip archive")
    assert lines[-2:] == ["  claim       OFA-Tiny fine-tuned for refcoco", "              the file agrees"]
    code, out, _ = run_cli(capsys, *shelf, "inspect", "claimed-large")
    assert code == 0
    assert out.splitlines()[-1].startswith("              MISMATCH: holds ofa_tiny")
    code, out, _ = run_cli(capsys, *shelf, "inspect", "claimed-large", "--json")
    found = json.loads(out)
    assert found["expect"] == {"arch": "ofa_large"} and found["mismatch"].startswith("holds ofa_tiny")
    code, out, _ = run_cli(capsys, *shelf, "inspect", "plain")
    assert code == 0 and "  claim " not in out and "MISMATCH" not in out


def test_a_file_not_ours_at_an_ids_path_is_read_with_a_note(capsys, tmp_path, shelf):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copyfile(FIXTURES / "legacy_state_dict.pt", folder / "tiny.pt")
    code, out, err = run_cli(capsys, *shelf, "inspect", "tiny")
    assert code == 0
    assert err.startswith(f"note: {folder / 'tiny.pt'}: ") and err.count("\n") == 1
    assert out.startswith(f"{folder / 'tiny.pt'} — legacy torch.save stream")


# -- the summary's edges, on contents read from a fixture and changed in one respect ----------------------


def summary_lines(**changes) -> list[str]:
    """The lines inspect prints for the tiny fixture with some of its contents replaced."""
    contents = dataclasses.replace(cc.read_checkpoint(FIXTURES / "fairseq_ofa_tiny.pt"), **changes)
    return inspection._inspect_summary(contents).splitlines()


def row(lines: list[str], label: str) -> str:
    return next(line for line in lines if line.startswith(f"  {label:<11} "))


def test_the_keys_line_shows_twelve_keys_then_counts_the_rest():
    twelve = [f"k{i}" for i in range(12)]
    assert row(summary_lines(top_level_keys=twelve), "keys") == "  keys        " + ", ".join(twelve)
    assert row(summary_lines(top_level_keys=[*twelve, "k12"]), "keys") == (
        "  keys        " + ", ".join(twelve) + ", … (13 keys)"
    )
    assert row(summary_lines(top_level_keys=[]), "keys") == "  keys        (not a mapping)"


def test_the_metadata_line_says_what_is_not_recorded_and_prints_a_whole_best_score_whole():
    assert row(summary_lines(metadata={"task": "vqa", "best": 1234567}), "metadata") == (
        "  metadata    architecture not recorded, task vqa, best 1234567"
    )
    assert row(summary_lines(metadata={"architecture": "x", "best": 1234567.0}), "metadata") == (
        "  metadata    x, best 1.23457e+06"
    )


def test_the_shapes_line_with_only_some_facts_inferred():
    only = {"embedding_width": 300, "encoder_layers": 6, "resnet_layer3_blocks": 5, "matches_metadata": False}
    assert row(summary_lines(inferred=only), "shapes") == (
        "  shapes      width 300; 6 encoder / 0 decoder layers; ResNet (5 third-stage blocks); "
        "DISAGREES with the metadata"
    )
    assert (
        row(summary_lines(inferred={"decoder_layers": 2}), "shapes")
        == "  shapes      0 encoder / 2 decoder layers"
    )
    assert not [line for line in summary_lines(inferred={"embedding_width": 8}) if "decoder layers" in line]


def test_what_weights_only_cannot_read_unknown_globals_problems_and_a_deep_check_that_found_them():
    safe = Verdict(True, "tensors and plain data only", weights_only_blockers=["the opcode 0x93"])
    lines = summary_lines(verdict=safe)
    assert lines[-1] == "              torch.load(weights_only=True) cannot read it: the opcode 0x93"
    unsafe = Verdict(False, "runs code", dangerous=["posix.system"], unknown=["mylab.Model"])
    lines = summary_lines(verdict=unsafe, problems=["a storage is short"], deep=True, members_checked=7)
    assert lines[-6:] == [
        "  safety      UNSAFE: torch.load(weights_only=False) would import or call:",
        "              posix.system  dangerous",
        "              mylab.Model  unknown",
        "              do not load it with weights_only=False; weights_only=True refuses it",
        "  problem     a storage is short",
        "  deep check  7 members read",
    ]


# -- what a broken file named, the JSON's text, the note for a file of ours -------------------------------


def broken_zip(path, pickle_data: bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle_data)
        archive.writestr("archive/version", "3\n")
    return path


def test_a_broken_pickle_names_its_dangerous_and_unknown_globals_in_the_error(capsys, tmp_path):
    path = broken_zip(tmp_path / "b.pt", b"\x80\x02cposix\nsystem\ncmylab\nModel\nctorch\nFloatStorage\n\xff")
    code, out, err = inspect(capsys, tmp_path, "inspect", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"ofa-manager: error: {path}: the pickle is malformed (unknown opcode 0xff); before that, it named "
        "posix.system (dangerous), mylab.Model (unknown)\n"
    )
    path = broken_zip(tmp_path / "plain.pt", b"\x80\x02\xff")
    code, _, err = inspect(capsys, tmp_path, "inspect", str(path))
    assert err == f"ofa-manager: error: {path}: the pickle is malformed (unknown opcode 0xff)\n"


def test_json_keeps_letters_beyond_ascii_as_they_are(capsys, tmp_path):
    path = copied(tmp_path, "fairseq_ofa_tiny.pt").rename(tmp_path / "modèle.pt")
    code, out, _ = inspect(capsys, tmp_path, "inspect", str(path), "--json")
    assert code == 0 and f'"path": "{path}"' in out


def test_our_own_downloaded_file_is_read_without_a_note(capsys, tmp_path, shelf):
    assert run_cli(capsys, *shelf, "download", "plain")[0] == 0
    code, out, err = run_cli(capsys, *shelf, "inspect", "plain")
    assert code == 0 and err == "" and out.startswith(f"{tmp_path / 'models' / 'tiny.pt'} — ")
