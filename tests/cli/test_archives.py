"""`ofa-manager unpack`, `download --unpack`, `verify` and `rm` of an unpacked folder, and `link --scan`
matching a project's paths against an archive's members. Zips built here, served by the loopback server."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import units
from tests.archives import GOOD, build_zip
from tests.catalogs import body_requests, engine_threads, entry, payload, rot, sha256, write_catalog
from tests.scenes import Terminal

IMAGE_GEN = """#!/usr/bin/env bash
# Image generation in the style of OFA's run_scripts/image_gen: VQGAN and CLIP from the published zip.
cd "$(dirname "$0")"
ckpt_root=../../checkpoints
python3 ../../evaluate.py \\
    --path=${ckpt_root}/ofa_large.pt \\
    --vqgan-model-path=${ckpt_root}/vqgan/last.ckpt \\
    --vqgan-config-path=${ckpt_root}/vqgan/model.yaml \\
    --clip-model-path=${ckpt_root}/clip/ViT-B-16.pt \\
    --image-root=../../results/image_gen/pics.png
"""

MEMBERS = {**GOOD, "vqgan/model.yaml": b"model:\n  target: taming.models.vqgan.VQModel\n"}


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


@pytest.fixture
def site(tmp_path, models_dir, http_server):
    bundle = build_zip(list(MEMBERS.items()))
    http_server.add("/ofa_clip_vqgan.zip", bundle)
    http_server.add("/plain.pt", payload(20_000, 7))
    row = entry("bundle", http_server.url("/ofa_clip_vqgan.zip"), sha256=sha256(bundle))
    row["members"] = sorted(MEMBERS)  # what the published list says it holds, before it is downloaded
    rows = [row, entry("plain", http_server.url("/plain.pt"), sha256=sha256(payload(20_000, 7)))]
    catalog = write_catalog(tmp_path / "catalog.json", rows)

    class Site:
        pass

    s = Site()
    s.bundle, s.server, s.dir, s.tmp = bundle, http_server, models_dir, tmp_path
    s.args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    s.folder = models_dir / "ofa_clip_vqgan"
    project = tmp_path / "project"
    scripts = project / "OFA" / "run_scripts" / "image_gen"
    scripts.mkdir(parents=True)
    (scripts / "evaluate_image_gen.sh").write_text(IMAGE_GEN)
    s.project, s.scripts = project, scripts
    return s


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_download_unpack_verify_damage_again_and_rm(capsys, monkeypatch, site):
    code, _, err = run(capsys, *site.args, "download", "bundle", "--unpack")
    assert code == 0, err
    for name, data in MEMBERS.items():
        assert (site.folder / name).read_bytes() == data
    code, out, _ = run(capsys, *site.args, "verify", "bundle")
    assert code == 0 and "unpacked folder ok" in out and "4 file(s)" in out
    rot(site.folder / "vqgan" / "last.ckpt")
    code, out, _ = run(capsys, *site.args, "verify")
    assert code == 1 and "unpacked folder DAMAGED" in out and "changed: vqgan/last.ckpt" in out
    code, out, _ = run(capsys, *site.args, "unpack", "bundle")
    assert code == 0 and "already unpacked" in out  # the archive's bytes did not change
    code, out, _ = run(capsys, *site.args, "unpack", "bundle", "--again")
    assert code == 0 and "unpacked 4 file(s)" in out
    assert run(capsys, *site.args, "verify")[0] == 0
    # rm: the archive and its folder, both named before the question, which counts both.
    archive = (site.dir / "ofa_clip_vqgan.zip").stat().st_size
    both = units.size(archive + sum(len(data) for data in MEMBERS.values()))
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, _ = run(capsys, *site.args, "rm", "bundle")
    assert code == 0 and out.splitlines()[-1] == (
        f"Delete 1 file(s) and 1 unpacked folder(s), freeing {both}? [y/N] nothing deleted"
    )
    code, out, _ = run(capsys, *site.args, "rm", "bundle", "--yes")
    assert code == 0, out
    assert out.splitlines()[-1] == f"deleted 1 file(s), freed {both}"
    assert "ofa_clip_vqgan/ —" in out and "unpacked folder" in out
    unpacked = units.size(sum(len(data) for data in MEMBERS.values()))
    assert (
        f"{site.folder}{os.sep} — {unpacked} unpacked from ofa_clip_vqgan.zip (--keep-unpacked keeps it)"
        in (out.splitlines())
    )
    assert not site.folder.exists() and not (site.dir / "ofa_clip_vqgan.zip").exists()
    assert not (site.dir / ".ofa_clip_vqgan.zip.unpacked.json").exists()


def test_rm_keep_unpacked_and_rm_off_a_terminal_asks_for_yes(capsys, site):
    assert run(capsys, *site.args, "download", "bundle", "--unpack")[0] == 0
    code, _, err = run(capsys, *site.args, "rm", "bundle")
    assert code == 2 and err == "ofa-manager: error: not on a terminal: add --yes to delete without asking\n"
    assert site.folder.is_dir()
    code, out, _ = run(capsys, *site.args, "rm", "bundle", "--yes", "--keep-unpacked")
    assert code == 0 and "unpacked folder" not in out and "unpacked from" not in out
    assert not (site.dir / "ofa_clip_vqgan.zip").exists()
    assert (site.folder / "vqgan" / "last.ckpt").read_bytes() == MEMBERS["vqgan/last.ckpt"]
    code, out, _ = run(capsys, *site.args, "verify")
    assert code == 0 and "unpacked folder ok" in out
    # The archive gone, its folder alone is still deleted by rm.
    code, out, _ = run(capsys, *site.args, "rm", "bundle", "--yes")
    assert code == 0 and not site.folder.exists()


def test_unpack_json_and_what_cannot_be_unpacked(capsys, site):
    code, _, err = run(capsys, *site.args, "unpack", "bundle")
    assert code == 1 and "not downloaded" in err and "download --unpack bundle" in err
    code, _, err = run(capsys, *site.args, "unpack", "plain")
    assert code == 2 and "not a .zip archive" in err and "Traceback" not in err
    assert run(capsys, *site.args, "download", "bundle")[0] == 0
    code, out, _ = run(capsys, *site.args, "unpack", "bundle", "--json")
    assert code == 0
    (result,) = json.loads(out)
    assert result["outcome"] == "unpacked" and result["folder"] == str(site.folder)
    assert {m["name"]: m["size"] for m in result["members"]} == {n: len(d) for n, d in MEMBERS.items()}


def test_download_unpack_of_an_archive_already_here_fetches_nothing(capsys, site):
    assert run(capsys, *site.args, "download", "bundle", "plain")[0] == 0
    requests = len(body_requests(site.server, "/ofa_clip_vqgan.zip"))
    code, out, err = run(capsys, *site.args, "download", "bundle", "plain", "--unpack")
    assert code == 0, err
    assert "bundle: unpacked 4 file(s)" in out and "plain" not in out  # not an archive: left as it is
    assert len(body_requests(site.server, "/ofa_clip_vqgan.zip")) == requests
    assert (site.folder / "vqgan" / "model.yaml").read_bytes() == MEMBERS["vqgan/model.yaml"]


def test_a_hostile_archive_is_refused_with_its_reason(capsys, site):
    evil = build_zip([("ok.pt", b"fine"), ("../../evil.pt", b"evil")])
    site.server.add("/ofa_clip_vqgan.zip", evil)
    catalog = write_catalog(
        site.tmp / "evil.json", [entry("bundle", site.server.url("/ofa_clip_vqgan.zip"), sha256=sha256(evil))]
    )
    args = ["--dir", str(site.dir), "--catalog", str(catalog)]
    code, _, err = run(capsys, *args, "download", "bundle", "--unpack")
    assert code == 1
    assert "bundle: not unpacked: member '../../evil.pt' has '..'" in err
    assert (site.dir / "ofa_clip_vqgan.zip").is_file()  # the verified download stays
    assert not site.folder.exists() and not (site.tmp / "evil.pt").exists()
    assert not any(".unpacking-" in name for name in os.listdir(site.dir))


def rows_of(report: dict, project: Path) -> dict[str, dict]:
    return {str(Path(r["path"]).relative_to(project)): r for r in report["expected"]}


def test_scan_reports_members_then_apply_downloads_unpacks_and_links_them(capsys, site):
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project), "--json")
    assert code == 0
    rows = rows_of(json.loads(out), site.project)
    assert {k: (r["kind"], r["id"], r["member"]) for k, r in rows.items()} == {
        "OFA/checkpoints/ofa_large.pt": ("member", "bundle", "ofa_large.pt"),
        "OFA/checkpoints/vqgan/last.ckpt": ("member", "bundle", "vqgan/last.ckpt"),
        "OFA/checkpoints/vqgan/model.yaml": ("member", "bundle", "vqgan/model.yaml"),
        "OFA/checkpoints/clip/ViT-B-16.pt": ("member", "bundle", "clip/ViT-B-16.pt"),
    }
    assert body_requests(site.server, "/ofa_clip_vqgan.zip") == []
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project))
    assert "OFA/checkpoints/vqgan/last.ckpt: member vqgan/last.ckpt of catalog bundle (not downloaded)" in out
    code, out, err = run(capsys, *site.args, "link", "--scan", str(site.project), "--apply")
    assert code == 0, err
    assert out.count("unpacked 4 file(s)") == 1, out  # unpacked once, after the download
    assert "OFA/checkpoints/vqgan/last.ckpt: member vqgan/last.ckpt of catalog bundle (linked)" in out
    # From the script's folder, the paths it reads are the archive's members.
    checkpoints = site.scripts / ".." / ".." / "checkpoints"
    for name, data in MEMBERS.items():
        linked = checkpoints / name
        assert hashlib.sha256(linked.read_bytes()).hexdigest() == sha256(data), name
        assert os.path.realpath(linked).startswith(str(site.folder.resolve()))
    # Again: nothing fetched, nothing made.
    requests = len(site.server.requests)
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project), "--apply", "--json")
    assert code == 0 and json.loads(out)["links"] == []
    assert len(site.server.requests) == requests


def test_a_member_matches_by_its_path_not_by_a_common_file_name(capsys, site, tmp_path):
    """`last.ckpt` under another folder is not the VQGAN's; two archives holding one path are unclear."""
    (site.scripts / "other.sh").write_text(
        "python x.py --restore-file=../../runs/last.ckpt --resume=./vqgan/last.ckpt\n"
    )
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project), "--json")
    rows = rows_of(json.loads(out), site.project)
    assert rows["OFA/runs/last.ckpt"]["kind"] == "unknown"
    assert rows["OFA/run_scripts/image_gen/vqgan/last.ckpt"]["member"] == "vqgan/last.ckpt"


def test_a_members_state_follows_the_archive_and_apply_unpacks_what_is_here_without_fetching(capsys, site):
    assert run(capsys, *site.args, "download", "bundle")[0] == 0
    line = "  OFA/checkpoints/vqgan/last.ckpt: member vqgan/last.ckpt of catalog bundle ({})  ["
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project))
    assert code == 0 and line.format("downloaded, not unpacked") in out
    requests = len(site.server.requests)
    code, out, err = run(capsys, *site.args, "link", "--scan", str(site.project), "--apply", "--mode", "copy")
    assert code == 0 and err == "", err  # no download: the archive is here
    assert len(site.server.requests) == requests
    assert out.count("unpacked 4 file(s)") == 1 and line.format("linked") in out
    checkpoints = site.scripts / ".." / ".." / "checkpoints"
    for name, data in MEMBERS.items():
        made = checkpoints / name
        assert not made.is_symlink() and made.read_bytes() == data, name  # copies, as --mode asked
    (checkpoints / "vqgan" / "last.ckpt").unlink()
    code, out, _ = run(capsys, *site.args, "link", "--scan", str(site.project))
    assert code == 0 and line.format("unpacked, not linked") in out
