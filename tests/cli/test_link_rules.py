"""`link`, in this process: the scan's report line by line for the fixture project (each kind of path and
state, relative to the project), what --apply prints and links, the JSON of a link, the refusals' words."""

from __future__ import annotations

import json

import pytest

from tests.catalogs import run_cli
from tests.scenes import PetlProject

pytestmark = pytest.mark.usefixtures("engine_threads_end")

SCRIPTS = "OFA/run_scripts/refcoco"


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> PetlProject:
    return PetlProject(tmp_path, models_dir, http_server)


def report(states: dict[str, str]) -> list[str]:
    """The scan's lines after its first, with each catalog path's state."""
    return [
        f"  {SCRIPTS}/refcoco_checkpoints/adapter/checkpoint_best.pt: produced by the project  "
        f"[{SCRIPTS}/evaluate_refcoco_adapter.sh:3]",
        f"  OFA/checkpoints/ofa_base.pt: {states['ofa-base']}  [{SCRIPTS}/evaluate_refcoco_adapter.sh:5]",
        f"  OFA/checkpoints/ofa_large.pt: {states['ofa-large']}  [{SCRIPTS}/train_refcoco_adapter.sh:8]",
        f"  OFA/checkpoints/refcoco_adapter.pt: {states['refcoco-adapter']}  "
        f"[{SCRIPTS}/train_task_embedding.sh:4]",
        f"  OFA/checkpoints/refcocoplus_adapter.pt: {states['refcocoplus-adapter']}  "
        f"[{SCRIPTS}/train_task_embedding.sh:4]",
        f"  OFA/checkpoints/refcocog_adapter.pt: {states['refcocog-adapter']}  "
        f"[{SCRIPTS}/train_task_embedding.sh:8]",
        "  $HOME/embeddings/init.pt: unknown (uses a variable the script does not set)  "
        f"[{SCRIPTS}/train_task_embedding.sh:9]",
        "  OFA/checkpoints/clip/ViT-B-16.pt: unknown (no catalog entry has this file name)  "
        f"[{SCRIPTS}/train_task_embedding.sh:10]",
    ]


IDS = ("ofa-base", "ofa-large", "refcoco-adapter", "refcocoplus-adapter", "refcocog-adapter")


def test_the_scan_reports_each_path_its_kind_and_state(capsys, site):
    code, out, err = run_cli(capsys, *site.args, "link", "--scan", str(site.project))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{site.project.resolve()}: 8 checkpoint path(s) in its scripts"
    assert lines[1:] == report({i: f"catalog {i} (not downloaded)" for i in IDS})
    assert site.gets() == 0
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    code, out, _ = run_cli(capsys, *site.args, "link", "--scan", str(site.project))
    assert "  OFA/checkpoints/ofa_base.pt: catalog ofa-base (downloaded, not linked)  [" in out


def test_apply_links_what_it_can_and_leaves_a_users_file(capsys, site):
    site.checkpoints.mkdir(parents=True)
    (site.checkpoints / "refcocog_adapter.pt").write_bytes(b"mine")
    code, out, _ = run_cli(capsys, *site.args, "link", "--scan", str(site.project), "--apply")
    assert code == 0
    lines = out.splitlines()
    made = {  # id: the name the scripts read, the file in the models folder
        "ofa-base": ("ofa_base.pt", "ofa_base.pt"),
        "ofa-large": ("ofa_large.pt", "ofa_large.pt"),
        "refcoco-adapter": ("refcoco_adapter.pt", "a_rc.pt"),
        "refcocoplus-adapter": ("refcocoplus_adapter.pt", "a_rcp.pt"),
    }
    checkpoints = site.project.resolve() / "OFA" / "checkpoints"
    assert lines[:4] == [
        f"{entry_id}: {checkpoints / name}: created → {site.dir.resolve() / file}"
        for entry_id, (name, file) in made.items()
    ]
    states = {i: f"catalog {i} (linked)" for i in made}
    states["refcocog-adapter"] = "present (not our link; refcocog-adapter is not linked there)"
    assert lines[4] == f"{site.project.resolve()}: 8 checkpoint path(s) in its scripts"
    assert lines[5:] == report(states)
    assert (site.checkpoints / "refcocog_adapter.pt").read_bytes() == b"mine"


def test_a_link_in_json_has_every_field(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    into = tmp_path / "into"
    code, out, _ = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into), "--json")
    assert code == 0 and out.startswith('[\n  {\n    "id": ')
    assert json.loads(out) == [
        {
            "id": "ofa-base",
            "path": str(into / "ofa_base.pt"),
            "target": str(site.dir.resolve() / "ofa_base.pt"),
            "outcome": "created",
            "mode": "symlink",
            "reason": "",
        }
    ]
    code, out, _ = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into), "--mode", "copy")
    assert code == 0 and out.startswith(f"ofa-base: {into / 'ofa_base.pt'}: ")


def test_a_refused_link_goes_to_stderr_with_its_reason(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    into = tmp_path / "into"
    into.mkdir()
    (into / "ofa_base.pt").write_bytes(b"mine")
    code, out, err = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into))
    assert code == 1 and out == ""
    assert err.startswith(f"ofa-base: {into / 'ofa_base.pt'}: refused (") and err.endswith(")\n")
    assert "→" not in err


@pytest.mark.parametrize(
    "words, message",
    [
        (
            ["--scan", "p", "ofa-large"],
            "--scan reads the project's scripts: give no ids, --into or --as with it",
        ),
        (
            ["--scan", "p", "--into", "x"],
            "--scan reads the project's scripts: give no ids, --into or --as with it",
        ),
        (
            ["--scan", "p", "--as", "x"],
            "--scan reads the project's scripts: give no ids, --into or --as with it",
        ),
        (["ofa-large", "--into", "x", "--apply"], "--apply goes with --scan PROJECT"),
        (
            ["ofa-large"],
            "name the checkpoints and the folder: link ID... --into DIR (or link --scan PROJECT)",
        ),
        (
            ["--into", "x"],
            "name the checkpoints and the folder: link ID... --into DIR (or link --scan PROJECT)",
        ),
        (
            ["ofa-large", "ofa-base", "--into", "x", "--as", "n.pt"],
            "--as names one link: give one ID with it",
        ),
    ],
)
def test_refusals_in_words(capsys, site, words, message):
    code, out, err = run_cli(capsys, *site.args, "link", *words)
    assert code == 2 and out == "" and err == f"ofa-manager: error: {message}\n"


def test_a_scan_of_what_is_not_a_folder(capsys, site, tmp_path):
    code, _, err = run_cli(capsys, *site.args, "link", "--scan", str(tmp_path / "none"))
    assert code == 2 and err == f"ofa-manager: error: {tmp_path / 'none'}: not a folder\n"


def test_a_second_link_is_already_there_and_says_no_reason(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    into = tmp_path / "into"
    assert run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into))[0] == 0
    code, out, err = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into))
    assert code == 0 and err == ""
    assert out == f"ofa-base: {into / 'ofa_base.pt'}: already-ours → {site.dir.resolve() / 'ofa_base.pt'}\n"


def test_mode_copy_puts_a_copy_not_a_link(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "ofa-base")[0] == 0
    into = tmp_path / "into"
    code, out, _ = run_cli(capsys, *site.args, "link", "ofa-base", "--into", str(into), "--mode", "copy")
    assert code == 0, out
    made = into / "ofa_base.pt"
    assert not made.is_symlink() and made.read_bytes() == site.files["ofa_base.pt"]
    assert made.stat().st_ino != (site.dir / "ofa_base.pt").stat().st_ino


def test_the_scan_in_json_names_the_project_first(capsys, site):
    code, out, _ = run_cli(capsys, *site.args, "link", "--scan", str(site.project), "--json")
    assert code == 0
    assert out.startswith(
        f'{{\n  "project": {json.dumps(str(site.project.resolve()))},\n  "expected": [\n    {{'
    )
    assert json.loads(out)["links"] == []


def test_a_file_no_entry_names_is_present_without_a_remark(capsys, site):
    clip = site.checkpoints / "clip"
    clip.mkdir(parents=True)
    (clip / "ViT-B-16.pt").write_bytes(b"someone's")
    code, out, _ = run_cli(capsys, *site.args, "link", "--scan", str(site.project))
    assert code == 0
    assert (
        f"  OFA/checkpoints/clip/ViT-B-16.pt: present  [{SCRIPTS}/train_task_embedding.sh:10]"
        in out.splitlines()
    )


def test_apply_exits_1_when_a_link_cannot_be_made(capsys, site):
    site.checkpoints.parent.mkdir(parents=True, exist_ok=True)
    site.checkpoints.write_bytes(b"a file where the scripts want a folder")
    code, out, err = run_cli(capsys, *site.args, "link", "--scan", str(site.project), "--apply")
    assert code == 1
    checkpoints = site.project.resolve() / "OFA" / "checkpoints"
    failed = [line for line in err.splitlines() if ": failed (" in line]
    assert failed[0] == (
        f"ofa-base: {checkpoints / 'ofa_base.pt'}: failed ({checkpoints} is a file, not a folder)"
    )
    assert len(failed) == 5 and "failed" not in out
