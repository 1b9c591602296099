"""Catalogs imported from Markdown and HTML checkpoint lists, and lock files (issue 10, parts 2 and 3).

Everything runs for real: the command line in this process, pages and checkpoints served by the loopback
server, files in temporary folders (the user's catalogs folder is a temp folder, see conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ofa_manager.core import settings, zoo
from ofa_manager.core.catalog import load_catalog
from tests.catalogs import DATA, body_requests, entry, payload, run_cli, sha256, write_catalog

ZOO = DATA / "zoo"


pytestmark = pytest.mark.usefixtures("engine_threads_end")


def imported(name: str) -> dict:
    return json.loads(zoo.catalog_path(name).read_text(encoding="utf-8"))


def by_id(catalog: dict) -> dict[str, dict]:
    return {row["id"]: row for row in catalog["entries"]}


# -- Markdown -----------------------------------------------------------------------------------------


def test_markdown_list_becomes_a_catalog_with_groups_params_and_trimmed_links(capsys):
    code, out, err = run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))
    assert code == 0, err
    catalog = imported("lab-models")
    rows = by_id(catalog)
    assert catalog["title"] == "Lab checkpoints"  # the page's one h1 names it; the tree's top level
    # "<a href=" https://… "> Pre-trained checkpoint (Lab-Large) </a> (~470M parameters)"
    large = rows["lab-large"]
    assert large["url"] == "https://models.example.org/ckpt/lab_ofa_large.pt"
    assert large["group"] == ["Lab checkpoints", "Pretrained"]
    assert (large["params"], large["parameters"]) == ("470M", 470_000_000)
    assert rows["lab-huge"]["parameters"] == 1_200_000_000
    assert rows["lab-tiny"]["parameters"] == 33_000_000  # [text](url) (~33M parameters)
    # A table: the row's first cell names it (the link just says "download"), the Params cell counts.
    caption = rows["caption-base"]
    assert caption["title"] == "Caption-Base"
    assert caption["url"] == "https://models.example.org/ckpt/caption_base.tar.gz"
    assert caption["group"] == ["Lab checkpoints", "Finetuned", "Captioning"]
    assert caption["parameters"] == 180_000_000
    assert rows["caption-large"]["parameters"] == 470_000_000
    urls = [row["url"] for row in catalog["entries"]]
    assert not any("in_code" in url for url in urls)  # a link inside a code block is not on the page
    assert "left out https://github.com/example/lab-ofa: a repository page" in out
    assert "left out https://example.org/img/banner.png: an image" in out
    assert "left out https://models.example.org/logs/refcoco.html: a web page" in out
    # The real loader takes it, with the built-in catalog, by default.
    loaded = load_catalog(zoo.default_catalog_paths())
    assert "lab-large" in loaded and "ofa-large" in loaded
    # Its OFA-Large link is the built-in one's file: shared, not a second copy.
    assert [o.id for o in loaded.sharing(loaded.get("ofa-large-official"))] == ["ofa-large"]


def test_the_published_list_imports_like_the_built_in_catalog(capsys, tmp_path):
    seed = Path("/work/shared/seed/checkpoints.md")
    if not seed.exists():
        pytest.skip("the published list is not on this machine")
    code, out, err = run_cli(capsys, "catalog", "import", str(seed), "--name", "published")
    assert code == 0, err
    rows = imported("published")["entries"]
    builtin = load_catalog(None)
    assert {row["url"] for row in rows} == {e.url for e in builtin}
    large = next(row for row in rows if row["url"].endswith("/ofa_large.pt"))
    assert large["params"] == "470M" and large["id"] == "ofa-large-2"  # the built-in one has ofa-large


# -- HTML from a URL ----------------------------------------------------------------------------------


def test_html_page_from_a_url_resolves_relative_links_against_the_final_address(capsys, http_server):
    http_server.add("/zoo/page.html", (ZOO / "vision-zoo.html").read_bytes(), content_type="text/html")
    http_server.add("/latest", b"", redirect_to=http_server.url("/zoo/page.html"))
    code, out, err = run_cli(capsys, "catalog", "import", http_server.url("/latest"), "--name", "vision")
    assert code == 0, err
    catalog = imported("vision")
    rows = by_id(catalog)
    assert catalog["title"] == "Vision model zoo"
    assert rows["vit-base"]["url"] == http_server.url("/zoo/weights/vit_base.pth")
    assert rows["vit-large"]["url"] == http_server.url("/zoo/weights/vit_large.safetensors")
    assert rows["vit-base"]["group"] == ["Vision model zoo", "Backbones"]
    assert rows["vit-base"]["parameters"] == 86_000_000
    detr = rows["detr-r50"]  # a table row: the first cell names it, the Params cell counts
    assert detr["group"] == ["Vision model zoo", "Detection", "COCO"]
    assert detr["parameters"] == 41_000_000
    assert rows["detr-r101"]["url"] == "https://cdn.example.net/detr_r101.ckpt"
    assert catalog["source"] == http_server.url("/zoo/page.html")
    assert "left out https://github.com/example/vision-zoo: a repository page" in out
    assert f"left out {http_server.url('/zoo/figures/arch.png')}: an image" in out
    assert f"left out {http_server.url('/zoo/docs/index.html')}: a web page" in out
    assert "mailto" not in out and "#top" not in out


def test_a_saved_html_file_without_base_reports_its_relative_links(capsys):
    code, out, _ = run_cli(capsys, "catalog", "import", str(ZOO / "vision-zoo.html"))
    assert code == 0
    assert list(by_id(imported("vision-zoo"))) == ["detr-r101"]
    assert "left out weights/vit_base.pth: a relative link" in out


# -- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.md", "the document is empty"),
        ("binary.md", "not a text document (it holds binary data)"),
        ("no-checkpoints.md", "none of its 3 links is a checkpoint file"),
    ],
)
def test_junk_is_refused_with_exit_2_and_nothing_written(capsys, name, message):
    code, out, err = run_cli(capsys, "catalog", "import", str(ZOO / name))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert zoo.user_catalogs() == []
    assert not zoo.catalogs_dir().exists() or list(zoo.catalogs_dir().iterdir()) == []


def test_a_list_that_would_break_the_catalogs_in_use_is_refused(capsys, tmp_path):
    # A hand-made catalog in the folder names the file of this URL differently: one URL, one file.
    url = "https://models.example.org/ckpt/lab_ofa_tiny.pt"
    zoo.catalogs_dir().mkdir(parents=True)
    write_catalog(zoo.catalogs_dir() / "hand.json", [entry("tiny-by-hand", url, filename="tiny.pt")])
    code, _, err = run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))
    assert code == 2 and "does not load" in err and "'filename' disagrees" in err
    assert [p.name for p in zoo.catalogs_dir().iterdir()] == ["hand.json"]


def test_a_missing_file_a_404_and_a_taken_name_are_refused(capsys, http_server):
    assert run_cli(capsys, "catalog", "import", "/nonexistent/list.md")[0] == 2
    code, _, err = run_cli(capsys, "catalog", "import", http_server.url("/missing.md"))
    assert code == 2 and "the server answered 404" in err
    assert run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))[0] == 0
    code, _, err = run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))
    assert code == 2 and "exists already" in err
    assert run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"), "--replace")[0] == 0
    code, _, err = run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"), "--name", "../x")
    assert code == 2 and "catalog name" in err


# -- list, remove, disable ------------------------------------------------------------------------------


def test_list_disable_enable_and_remove(capsys):
    assert run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))[0] == 0
    code, out, _ = run_cli(capsys, "catalog", "list", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["lab-models"]["entries"] == 8 and rows["lab-models"]["enabled"] is True
    assert rows["lab-models"]["source"].endswith("lab-models.md")
    assert run_cli(capsys, "catalog", "disable", "lab-models")[0] == 0
    assert settings.load().disabled_catalogs == ["lab-models"]
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    assert "lab-large" not in {row["id"] for row in json.loads(out)}
    assert run_cli(capsys, "catalog", "enable", "lab-models")[0] == 0
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    assert "lab-large" in {row["id"] for row in json.loads(out)}
    code, _, err = run_cli(capsys, "catalog", "remove", "lab-models")  # not a terminal: asks for --yes
    assert code == 2 and "--yes" in err and zoo.catalog_path("lab-models").exists()
    assert run_cli(capsys, "catalog", "remove", "lab-models", "--yes")[0] == 0
    assert not zoo.catalog_path("lab-models").exists()
    code, _, err = run_cli(capsys, "catalog", "remove", "lab-models", "--yes")
    assert code == 2 and "no imported catalog named 'lab-models'" in err


def test_an_imported_catalog_that_stopped_loading_is_named_with_the_way_out(capsys):
    assert run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"))[0] == 0
    path = zoo.catalog_path("lab-models")
    data = json.loads(path.read_text())
    data["entries"][0]["id"] = "ofa-large"  # as if the built-in catalog had gained its id
    path.write_text(json.dumps(data))
    code, _, err = run_cli(capsys, "list")
    assert code == 2 and "lab-models.json" in err and "catalog disable NAME" in err
    assert run_cli(capsys, "catalog", "disable", "lab-models")[0] == 0
    assert run_cli(capsys, "list")[0] == 0
    # Importing it again under the disabled name still reports (and does not trip over it).
    code, out, err = run_cli(capsys, "catalog", "import", str(ZOO / "lab-models.md"), "--replace")
    assert code == 0 and "imported 8 checkpoint(s)" in out


def test_a_damaged_disabled_catalogs_setting_falls_back(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"disabled_catalogs": "lab-models"}), encoding="utf-8")
    loaded, problems = settings.load_checked(path)
    assert loaded.disabled_catalogs == [] and "disabled_catalogs" in problems[0]
    path.write_text(json.dumps({"disabled_catalogs": ["a", 3, "a", "b"]}), encoding="utf-8")
    loaded, problems = settings.load_checked(path)
    assert loaded.disabled_catalogs == ["a", "b"] and problems


# -- dedupe: one URL in two catalogs is one file ---------------------------------------------------------


def test_an_entry_whose_url_is_in_another_catalog_shares_the_file_and_downloads_once(
    capsys, tmp_path, http_server, models_dir
):
    data = payload(150_000, 7)
    http_server.add("/w/shared.pt", data)
    first = tmp_path / "first.md"
    first.write_text(f"# First\n\n* [Alpha]({http_server.url('/w/shared.pt')}) (~10M parameters)\n")
    second = tmp_path / "second.html"
    link = http_server.url("/w/shared.pt")
    second.write_text(f'<h2>Other</h2><ul><li><a href=" {link} ">Beta</a></li></ul>')
    assert run_cli(capsys, "catalog", "import", str(first))[0] == 0
    code, out, _ = run_cli(capsys, "catalog", "import", str(second))
    assert code == 0 and "sharing a file with another entry (downloaded once): beta" in out
    code, _, err = run_cli(capsys, "--dir", str(models_dir), "download", "alpha", "beta", "--yes")
    assert code == 0, err
    assert len(body_requests(http_server, "/w/shared.pt")) == 1
    assert (models_dir / "shared.pt").read_bytes() == data
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["alpha"]["state"] == rows["beta"]["state"] == "downloaded"


# -- lock files -----------------------------------------------------------------------------------------


@pytest.fixture
def three(tmp_path, http_server):
    files = {"a": payload(200_000, 11), "b": payload(120_000, 12), "c": payload(90_000, 13)}
    for name, data in files.items():
        http_server.add(f"/lock/{name}.pt", data)
    catalog = write_catalog(
        tmp_path / "team.json",
        [
            entry("alpha", http_server.url("/lock/a.pt"), params="93M"),
            entry("beta", http_server.url("/lock/b.pt"), base="alpha"),
            entry("gamma", http_server.url("/lock/c.pt")),
            entry("delta", http_server.url("/lock/never.pt")),  # not downloaded: not in the lock
        ],
    )
    return files, catalog


def test_a_lock_file_reproduces_the_set_byte_for_byte_in_an_empty_folder(capsys, tmp_path, three):
    files, catalog = three
    folder_a, folder_b = tmp_path / "A", tmp_path / "B"
    args_a = ["--catalog", str(catalog), "--dir", str(folder_a)]
    assert run_cli(capsys, *args_a, "download", "alpha", "beta", "gamma", "--yes")[0] == 0
    lock = tmp_path / "ofa.lock.json"
    code, out, err = run_cli(capsys, *args_a, "lock", "-o", str(lock))
    assert code == 0, err
    assert "pinned 3 checkpoint(s)" in out
    pinned = by_id(json.loads(lock.read_text()))
    assert sorted(pinned) == ["alpha", "beta", "gamma"]
    assert pinned["alpha"]["sha256"] == sha256(files["a"]) and pinned["alpha"]["size"] == len(files["a"])
    assert pinned["beta"]["base"] == "alpha" and pinned["alpha"]["params"] == "93M"
    assert pinned["alpha"]["fingerprints"]["etag"]  # what the server said of the file
    args_b = ["--catalog", str(lock), "--dir", str(folder_b)]
    code, _, err = run_cli(capsys, *args_b, "download", "--all", "--yes")
    assert code == 0, err
    for name, data in files.items():
        assert (folder_b / f"{name}.pt").read_bytes() == data
    code, out, err = run_cli(capsys, *args_b, "verify")
    assert code == 0 and "verified against the catalog sha256" in out
    # The lock is also what `verify` on the first machine is checked against.
    assert run_cli(capsys, "--catalog", str(lock), "--dir", str(folder_a), "verify")[0] == 0


def test_a_lock_refuses_bytes_that_changed_on_the_server(capsys, tmp_path, three, http_server):
    files, catalog = three
    args_a = ["--catalog", str(catalog), "--dir", str(tmp_path / "A")]
    assert run_cli(capsys, *args_a, "download", "gamma", "--yes")[0] == 0
    lock = tmp_path / "ofa.lock.json"
    assert run_cli(capsys, *args_a, "lock", "gamma", "-o", str(lock))[0] == 0
    tampered = bytearray(files["c"])
    tampered[5000] ^= 0xFF  # one byte, same size
    http_server.add("/lock/c.pt", bytes(tampered))
    folder_c = tmp_path / "C"
    code, _, err = run_cli(
        capsys, "--catalog", str(lock), "--dir", str(folder_c), "download", "--all", "--yes"
    )
    assert code == 1, err
    # The changed bytes never reach the final path: they are kept aside as c.pt.rejected (quarantine).
    assert "Gamma: sha256 mismatch" in err and "kept as c.pt.rejected" in err
    assert not (folder_c / "c.pt").exists()  # a file at its final path is always the pinned one
    code, out, _ = run_cli(capsys, "--catalog", str(lock), "--dir", str(folder_c), "list", "--json")
    assert code == 0
    assert json.loads(out)[0]["state"] != "downloaded"


def test_a_lock_says_what_a_checkpoint_holds(capsys, tmp_path, http_server):
    tiny = (DATA / "checkpoints" / "fairseq_ofa_tiny.pt").read_bytes()
    http_server.add("/lock/tiny.pt", tiny)
    http_server.add("/lock/noise.pt", payload(5000, 3))
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("tiny", http_server.url("/lock/tiny.pt")), entry("noise", http_server.url("/lock/noise.pt"))],
    )
    args = ["--catalog", str(catalog), "--dir", str(tmp_path / "A")]
    assert run_cli(capsys, *args, "download", "--all", "--yes")[0] == 0
    assert run_cli(capsys, *args, "lock", "-o", str(tmp_path / "l.json"))[0] == 0
    pinned = by_id(json.loads((tmp_path / "l.json").read_text()))
    contents = pinned["tiny"]["contents"]
    assert contents["format"] == "zip" and contents["params"] > 0 and contents["safe"] is True
    assert "contents" not in pinned["noise"]  # not a checkpoint: nothing claimed
    assert load_catalog([tmp_path / "l.json"]).get("tiny").extra["contents"] == contents


def test_locking_a_checkpoint_that_is_not_here_is_refused(capsys, tmp_path, three):
    _, catalog = three
    args = ["--catalog", str(catalog), "--dir", str(tmp_path / "A")]
    code, _, err = run_cli(capsys, *args, "lock", "delta", "-o", str(tmp_path / "x.json"))
    assert code == 2 and "not downloaded" in err and "delta" in err
    code, _, err = run_cli(capsys, *args, "lock", "-o", str(tmp_path / "x.json"))
    assert code == 2 and "nothing is downloaded" in err
    assert not (tmp_path / "x.json").exists()
