"""`ofa-manager link`: links into a folder, and --scan [--apply] [--json] over the fixture project."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.catalogs import (
    DATA,
    body_requests,
    cli_command,
    cli_env,
    run_cli,
    sha256,
)
from tests.scenes import PetlProject

FIXTURE = DATA / "project"
SCRIPTS = Path("OFA/run_scripts/refcoco")


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> PetlProject:
    return PetlProject(tmp_path, models_dir, http_server)


pytestmark = pytest.mark.usefixtures("engine_threads_end")


def scan_json(capsys, site, *extra) -> tuple[int, dict]:
    code, out, _ = run_cli(capsys, *site.args, "link", "--scan", str(site.project), "--json", *extra)
    return code, json.loads(out)


def by_path(report: dict, project: Path) -> dict[str, dict]:
    rows = {}
    for row in report["expected"]:
        path = Path(row["path"])
        rows[str(path.relative_to(project)) if path.is_relative_to(project) else row["path"]] = row
    return rows


def test_scan_json_reports_each_expected_path(capsys, site):
    code, report = scan_json(capsys, site)
    assert code == 0
    rows = by_path(report, site.project.resolve())
    assert {k: (r["kind"], r["id"]) for k, r in rows.items()} == {
        "OFA/run_scripts/refcoco/refcoco_checkpoints/adapter/checkpoint_best.pt": ("produced", None),
        "OFA/checkpoints/ofa_base.pt": ("catalog", "ofa-base"),
        "OFA/checkpoints/ofa_large.pt": ("catalog", "ofa-large"),
        "OFA/checkpoints/refcoco_adapter.pt": ("catalog", "refcoco-adapter"),
        "OFA/checkpoints/refcocoplus_adapter.pt": ("catalog", "refcocoplus-adapter"),
        "OFA/checkpoints/refcocog_adapter.pt": ("catalog", "refcocog-adapter"),
        "$HOME/embeddings/init.pt": ("unknown", None),
        "OFA/checkpoints/clip/ViT-B-16.pt": ("unknown", None),
    }
    assert not any(r["downloaded"] or r["linked"] for r in rows.values())
    assert report["links"] == []
    assert body_requests(site.server, "/ofa_large.pt") == []  # a scan fetches nothing


def test_apply_downloads_and_links_and_the_scripts_paths_resolve_to_verified_files(capsys, site):
    # A user's own file at one of the names: never replaced, named, the rest goes on.
    site.checkpoints.mkdir(parents=True)
    users = site.checkpoints / "ofa_base.pt"
    users.write_bytes(b"my own base model")
    code, out, err = run_cli(capsys, *site.args, "link", "--scan", str(site.project), "--apply")
    assert code == 0, err
    assert "refcoco_adapter.pt: created" in out
    assert "ofa_base.pt: present" in out
    assert users.read_bytes() == b"my own base model"
    assert body_requests(site.server, "/ofa_base.pt") == []  # present: not fetched
    # From the scripts' folder, the paths they read are the verified files.
    scripts = site.project / SCRIPTS
    expected = {
        "../../checkpoints/ofa_large.pt": "ofa_large.pt",
        "../../checkpoints/refcoco_adapter.pt": "a_rc.pt",
        "../../checkpoints/refcocoplus_adapter.pt": "a_rcp.pt",
        "../../checkpoints/refcocog_adapter.pt": "a_rcg.pt",
    }
    for relative, served in expected.items():
        data = (scripts / relative).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256(site.files[served]), relative
        assert os.path.realpath(scripts / relative).startswith(str(site.dir.resolve()))
    code, out, _ = run_cli(capsys, *site.args, "verify")
    assert code == 0
    # Again: nothing fetched, nothing changed, every link recognised as ours.
    requests = len(site.server.requests)
    code, report = scan_json(capsys, site, "--apply")
    assert code == 0
    assert len(site.server.requests) == requests
    rows = by_path(report, site.project.resolve())
    assert all(rows[f"OFA/checkpoints/{name}"]["linked"] for name in ("ofa_large.pt", "refcoco_adapter.pt"))
    assert rows["OFA/checkpoints/ofa_base.pt"]["kind"] == "present"
    assert report["links"] == []


def test_apply_in_copy_mode_in_a_subprocess(site):
    """The installed command, off a terminal: --apply needs no question (the backbone is in the list)."""
    result = subprocess.run(
        cli_command(*site.args, "link", "--scan", str(site.project), "--apply", "--mode", "copy", "--json"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    made = {Path(r["path"]).name: r["outcome"] for r in report["links"]}
    assert made == dict.fromkeys(
        [
            "ofa_base.pt",
            "ofa_large.pt",
            "refcoco_adapter.pt",
            "refcocoplus_adapter.pt",
            "refcocog_adapter.pt",
        ],
        "created",
    )
    copy = site.checkpoints / "refcocog_adapter.pt"
    assert not copy.is_symlink() and copy.read_bytes() == site.files["a_rcg.pt"]


def test_link_ids_into_a_folder_as_a_name_and_a_users_file(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    into = tmp_path / "elsewhere"
    code, out, _ = run_cli(
        capsys, *site.args, "link", "refcoco-adapter", "--into", str(into), "--as", "rc.pt"
    )
    assert code == 0 and "rc.pt: created" in out
    assert (into / "rc.pt").read_bytes() == site.files["a_rc.pt"]
    code, out, _ = run_cli(
        capsys, *site.args, "link", "refcoco-adapter", "--into", str(into), "--as", "rc.pt", "--json"
    )
    assert code == 0 and json.loads(out)[0]["outcome"] == "already-ours"
    (into / "taken.pt").write_bytes(b"mine")
    code, _, err = run_cli(
        capsys, *site.args, "link", "refcoco-adapter", "--into", str(into), "--as", "taken.pt"
    )
    assert code == 1
    assert "taken.pt: refused" in err and "left alone" in err
    assert (into / "taken.pt").read_bytes() == b"mine"
    # Not downloaded: said, exit 1, nothing made.
    code, _, err = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into))
    assert code == 1 and "not downloaded" in err
    assert not (into / "ofa_base.pt").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["link", "ofa-large"], "--into DIR"),
        (["link", "--into", "x"], "--into DIR"),
        (["link", "ofa-large", "ofa-base", "--into", "x", "--as", "n.pt"], "one ID"),
        (["link", "ofa-large", "--into", "x", "--apply"], "--apply goes with --scan"),
        (["link", "--scan", "p", "ofa-large"], "give no ids"),
        (["link", "nope", "--into", "x"], "nope"),
        (["link", "--scan", "/does/not/exist"], "not a folder"),
    ],
)
def test_usage_errors(capsys, site, args, message):
    code, _, err = run_cli(capsys, *site.args, *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_a_bad_link_name_is_a_usage_error(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    code, _, err = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(tmp_path), "--as", "../x.pt")
    assert code == 2 and "link name" in err
    assert not (tmp_path.parent / "x.pt").exists()
