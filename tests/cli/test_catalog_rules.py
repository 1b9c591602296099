"""`catalog` and `lock`, in this process: the lines import, list, enable, disable and remove print, the
question before a removal, the refusals, and what `lock` says it pinned."""

from __future__ import annotations

import json

from ofa_manager.core import settings, zoo
from tests.catalogs import DATA, run_cli
from tests.scenes import Shelf, Terminal

LAB = DATA / "zoo" / "lab-models.md"


def test_import_says_what_it_took_shared_and_left_out(capsys):
    code, out, err = run_cli(capsys, "catalog", "import", str(LAB))
    assert code == 0, err
    lines = out.splitlines()
    path = zoo.catalog_path("lab-models")
    assert lines[0] == f"imported 8 checkpoint(s) in 3 group(s) as 'lab-models': {path}"
    assert lines[1] == (
        "sharing a file with another entry (downloaded once): ofa-large-official, refcoco-adapter-2, "
        "refcoco-adapter-same-file-other-name"
    )
    left = [
        "left out https://github.com/example/lab-ofa: a repository page",
        "left out https://example.org/img/banner.png: an image",
        "left out https://models.example.org/logs/refcoco.html: a web page",
    ]
    assert len(lines[2:]) == len(left)
    assert all(line.startswith(start) for line, start in zip(lines[2:], left, strict=True)), lines


def test_the_catalog_list_in_columns(capsys):
    assert run_cli(capsys, "catalog", "import", str(LAB))[0] == 0
    assert run_cli(capsys, "catalog", "disable", "lab-models")[0] == 0
    code, out, _ = run_cli(capsys, "catalog", "list")
    assert code == 0
    built_in, lab = out.splitlines()
    assert built_in.startswith("built-in             ") and built_in.endswith(" entries  enabled   built in")
    assert lab == f"lab-models               8 entries  disabled  {LAB}"
    code, out, _ = run_cli(capsys, "catalog", "list", "--json")
    assert out.startswith('[\n  {\n    "name": "built-in"')
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["lab-models"]["enabled"] is False and rows["built-in"]["enabled"] is True


def test_a_catalog_that_cannot_be_read_is_listed_with_why(capsys):
    zoo.catalogs_dir().mkdir(parents=True)
    zoo.catalog_path("broken").write_text("{", encoding="utf-8")
    code, out, _ = run_cli(capsys, "catalog")
    assert code == 0
    broken = out.splitlines()[1]
    assert broken.startswith("broken                   0 entries  enabled     (cannot be read: ")


def test_enable_and_disable_say_so_and_keep_one_entry_per_name(capsys):
    assert run_cli(capsys, "catalog", "import", str(LAB))[0] == 0
    for _ in range(2):
        code, out, _ = run_cli(capsys, "catalog", "disable", "lab-models")
        assert code == 0 and out == "lab-models: disabled\n"
    assert settings.load().disabled_catalogs == ["lab-models"]
    code, out, _ = run_cli(capsys, "catalog", "enable", "lab-models")
    assert code == 0 and out == "lab-models: enabled\n" and settings.load().disabled_catalogs == []


def test_enable_disable_and_remove_refuse_what_is_not_there(capsys):
    for words in (["enable", "nothing"], ["disable", "nothing"], ["remove", "nothing", "--yes"]):
        code, out, err = run_cli(capsys, "catalog", *words)
        assert code == 2 and out == ""
        assert err == (
            "ofa-manager: error: no imported catalog named 'nothing'; `ofa-manager catalog list` shows them\n"
        )
    code, _, err = run_cli(capsys, "catalog", "enable", "../x")
    assert code == 2 and err.startswith("ofa-manager: error: catalog name '../x' must be letters, digits")


def test_remove_asks_first(capsys, monkeypatch):
    assert run_cli(capsys, "catalog", "import", str(LAB))[0] == 0
    path = zoo.catalog_path("lab-models")
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, _ = run_cli(capsys, "catalog", "remove", "lab-models")
    assert code == 0 and out == f"Remove the catalog 'lab-models' ({path})? [y/N] nothing removed\n"
    assert path.exists()
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, _ = run_cli(capsys, "catalog", "remove", "lab-models")
    assert code == 0 and out.endswith(f"removed {path} (downloaded files stay in the models folder)\n")
    assert not path.exists()


def test_lock_says_what_it_pinned(capsys, tmp_path, models_dir, http_server):
    shelf = Shelf(tmp_path, models_dir, http_server)
    assert run_cli(capsys, *shelf.args, "download", "good", "shared-a", "--no-backbone")[0] == 0
    output = tmp_path / "pinned.json"
    code, out, _ = run_cli(capsys, *shelf.args, "lock", "-o", str(output))
    # shared-b shares shared-a's file: both are pinned (the total counts that file once per entry).
    assert code == 0 and out.startswith("pinned 3 checkpoint(s), ") and out.endswith(f" in {output}\n")
    assert {row["id"] for row in json.loads(output.read_text())["entries"]} == {
        "good",
        "shared-a",
        "shared-b",
    }
    code, out, _ = run_cli(capsys, *shelf.args, "lock", "good", "-o", str(output))
    assert code == 0 and out == f"pinned 1 checkpoint(s), 293.0 KiB, in {output}\n"


def test_remove_off_a_terminal_names_the_flag_and_keeps_the_catalog(capsys):
    assert run_cli(capsys, "catalog", "import", str(LAB))[0] == 0
    code, out, err = run_cli(capsys, "catalog", "remove", "lab-models")
    assert code == 2 and out == ""
    assert err == "ofa-manager: error: not on a terminal: add --yes to remove without asking\n"
    assert zoo.catalog_path("lab-models").exists()


def test_lock_of_a_folder_with_nothing_downloaded_is_refused(capsys, tmp_path, models_dir, http_server):
    shelf = Shelf(tmp_path, models_dir, http_server)
    output = tmp_path / "pinned.json"
    code, out, err = run_cli(capsys, *shelf.args, "lock", "-o", str(output))
    assert code == 2 and out == ""
    assert err == (
        f"ofa-manager: error: nothing is downloaded in {models_dir.resolve()}; a lock file would be empty\n"
    )
    assert not output.exists()


def test_import_resolves_a_saved_pages_relative_links_against_base(capsys, tmp_path):
    page = tmp_path / "saved.html"
    page.write_text(
        '<html><body><h2>Lab</h2><ul><li><a href="weights/lab_tiny.pt">Lab Tiny</a></li></ul></body></html>'
    )
    code, out, err = run_cli(
        capsys, "catalog", "import", str(page), "--name", "saved", "--base", "https://example.org/lab/"
    )
    assert code == 0, err
    urls = [e["url"] for e in json.loads(zoo.catalog_path("saved").read_text())["entries"]]
    assert urls == ["https://example.org/lab/weights/lab_tiny.pt"]


def test_the_catalog_list_in_json_keeps_non_ascii_as_it_is(capsys, tmp_path):
    source = tmp_path / "modèles.md"
    source.write_bytes(LAB.read_bytes())
    assert run_cli(capsys, "catalog", "import", str(source), "--name", "lab")[0] == 0
    code, out, _ = run_cli(capsys, "catalog", "list", "--json")
    assert code == 0 and "modèles.md" in out and "\\u00e8" not in out
    assert [row["name"] for row in json.loads(out)] == ["built-in", "lab"]
