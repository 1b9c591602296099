"""Links into a project folder (only ever replacing our own links) and the scan of a project's scripts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ofa_manager.core import linking
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Outcome
from ofa_manager.core.transfer import Transfer
from tests.catalogs import DATA, entry, fast_options, load, write_catalog
from tests.scenes import PetlProject

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

FIXTURE = DATA / "project"
SCRIPTS = Path("OFA/run_scripts/refcoco")


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> PetlProject:
    return PetlProject(tmp_path, models_dir, http_server)


def fetch(site, *ids: str) -> None:
    for entry_id in ids:
        Transfer(site.library, site.catalog.get(entry_id), fast_options()).run()


def report(site) -> dict[str, linking.Expected]:
    return {
        str(e.path.relative_to(site.project)) if e.path.is_absolute() else str(e.path): e
        for e in linking.scan(site.project, site.catalog, site.library)
    }


# -- scan -------------------------------------------------------------------------------------------


def test_the_fixture_projects_report(site):
    fetch(site, "ofa-large")
    rows = report(site)
    kinds = {path: (e.kind, e.entry_id, e.downloaded) for path, e in rows.items()}
    assert kinds == {
        "OFA/run_scripts/refcoco/refcoco_checkpoints/adapter/checkpoint_best.pt": ("produced", None, False),
        "OFA/checkpoints/ofa_base.pt": ("catalog", "ofa-base", False),
        "OFA/checkpoints/ofa_large.pt": ("catalog", "ofa-large", True),
        "OFA/checkpoints/refcoco_adapter.pt": ("catalog", "refcoco-adapter", False),
        "OFA/checkpoints/refcocoplus_adapter.pt": ("catalog", "refcocoplus-adapter", False),
        "OFA/checkpoints/refcocog_adapter.pt": ("catalog", "refcocog-adapter", False),
        "$HOME/embeddings/init.pt": ("unknown", None, False),
        "OFA/checkpoints/clip/ViT-B-16.pt": ("unknown", None, False),
    }
    # The comment's path is not read; where each path was found is told.
    assert not any("commented_out" in path for path in rows)
    large = rows["OFA/checkpoints/ofa_large.pt"]
    assert (large.script.name, large.line, large.written) == (
        "train_refcoco_adapter.sh",
        8,
        "../../checkpoints/ofa_large.pt",
    )
    # ${adapters} held a comma: the piece is shown expanded
    assert rows["OFA/checkpoints/refcocog_adapter.pt"].written == "../../checkpoints/refcocog_adapter.pt"


def test_a_file_already_at_an_expected_path_is_present(site):
    site.checkpoints.mkdir(parents=True)
    (site.checkpoints / "ofa_base.pt").write_bytes(b"the user's own")
    (site.checkpoints / "clip").mkdir()
    (site.checkpoints / "clip" / "ViT-B-16.pt").write_bytes(b"clip")
    rows = report(site)
    assert rows["OFA/checkpoints/ofa_base.pt"].kind == "present"
    assert rows["OFA/checkpoints/clip/ViT-B-16.pt"].kind == "present"


def test_words_the_shell_would_see(tmp_path, site):
    """Quotes, `export`, `--flag value`, commands joined by ';' and '&&', and a script elsewhere."""
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "sub" / "run.sh").write_text(
        "export CK='../ckpt'\n"
        'cd . && python x.py --restore-file "$CK/ofa_base.pt"; echo done\n'
        "python y.py --combine-adapter-path=${CK}/refcoco_adapter.pt,${CK}/refcocog_adapter.pt \\\n"
        "   --path /abs/elsewhere/ofa_large.pt\n"
        "python z.py --save-dir ../runs ../runs/x/last.pt\n"
        "echo 'unclosed\n"
    )
    rows = {str(e.path): e for e in linking.scan(other, site.catalog, site.library)}
    assert {p: e.entry_id for p, e in rows.items() if e.kind == "catalog"} == {
        str(other / "ckpt" / "ofa_base.pt"): "ofa-base",
        str(other / "ckpt" / "refcoco_adapter.pt"): "refcoco-adapter",
        str(other / "ckpt" / "refcocog_adapter.pt"): "refcocog-adapter",
        "/abs/elsewhere/ofa_large.pt": "ofa-large",
    }
    assert rows[str(other / "runs" / "x" / "last.pt")].kind == "produced"
    assert rows[str(other / "ckpt" / "refcocog_adapter.pt")].line == 3


def test_the_built_in_catalog_knows_the_script_names_of_the_refcoco_adapters():
    index = linking.name_index(load_catalog(None))
    assert [e.id for e in index["refcoco_adapter.pt"]] == ["refcoco-adapter"]
    assert [e.id for e in index["refcocoplus_adapter.pt"]] == ["refcocoplus-adapter"]
    assert [e.id for e in index["refcocog_adapter.pt"]] == ["refcocog-adapter"]
    assert [e.id for e in index["ofa_large.pt"]] == ["ofa-large"]


# -- link ---------------------------------------------------------------------------------------------


def test_symlink_then_again_is_already_ours(site, tmp_path):
    fetch(site, "ofa-large")
    into = tmp_path / "proj" / "checkpoints"
    result = linking.link(site.library, site.catalog.get("ofa-large"), into)
    assert result.outcome is Outcome.CREATED
    link_path = into / "ofa_large.pt"
    assert link_path.is_symlink()
    assert link_path.read_bytes() == site.files["ofa_large.pt"]
    again = linking.link(site.library, site.catalog.get("ofa-large"), into)
    assert again.outcome is Outcome.ALREADY
    assert os.readlink(link_path) == str(site.library.path(site.catalog.get("ofa-large")))


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_hardlink_and_copy_modes_and_a_name(site, tmp_path, mode):
    fetch(site, "refcoco-adapter")
    entry_ = site.catalog.get("refcoco-adapter")
    result = linking.link(site.library, entry_, tmp_path / "p", "refcoco_adapter.pt", mode)
    assert result.outcome is Outcome.CREATED, result.reason
    made = tmp_path / "p" / "refcoco_adapter.pt"
    assert not made.is_symlink()
    assert made.read_bytes() == site.files["a_rc.pt"]
    ours = site.library.path(entry_)
    assert os.path.samefile(made, ours) is (mode == "hardlink")
    assert linking.link(site.library, entry_, tmp_path / "p", "refcoco_adapter.pt", mode).outcome is (
        Outcome.ALREADY
    )
    assert list((tmp_path / "p").iterdir()) == [made]  # no temporary file left


@pytest.mark.parametrize(
    "make",
    [
        lambda p, other: p.write_bytes(b"the user's own checkpoint"),
        lambda p, other: os.symlink(other, p),
        lambda p, other: p.mkdir(),
    ],
    ids=["file", "link-elsewhere", "folder"],
)
def test_what_is_not_our_link_is_never_replaced(site, tmp_path, make):
    fetch(site, "ofa-large")
    into = tmp_path / "p"
    into.mkdir()
    other = tmp_path / "users.pt"
    other.write_bytes(b"users")
    target = into / "ofa_large.pt"
    make(target, other)
    before = (os.lstat(target).st_mode, os.readlink(target) if target.is_symlink() else None)
    for mode in linking.MODES:
        result = linking.link(site.library, site.catalog.get("ofa-large"), into, mode=mode)
        assert result.outcome is Outcome.REFUSED
        assert "left alone" in result.reason
    assert (os.lstat(target).st_mode, os.readlink(target) if target.is_symlink() else None) == before
    if target.is_file() and not target.is_symlink():
        assert target.read_bytes() == b"the user's own checkpoint"
    assert other.read_bytes() == b"users"


def test_a_copy_that_differs_from_ours_is_not_ours(site, tmp_path):
    """Same size as our file, another time: a user's file, refused (the size+time rule, broken once)."""
    fetch(site, "ofa-base")
    into = tmp_path / "p"
    into.mkdir()
    ours = site.library.path(site.catalog.get("ofa-base"))
    theirs = into / "ofa_base.pt"
    theirs.write_bytes(b"x" * ours.stat().st_size)
    assert (
        linking.link(site.library, site.catalog.get("ofa-base"), into, mode="copy").outcome is Outcome.REFUSED
    )
    assert theirs.read_bytes() == b"x" * ours.stat().st_size


def test_our_link_to_another_checkpoint_is_repointed(site, tmp_path):
    fetch(site, "ofa-large", "ofa-base")
    into = tmp_path / "p"
    linking.link(site.library, site.catalog.get("ofa-base"), into, "model.pt")
    result = linking.link(site.library, site.catalog.get("ofa-large"), into, "model.pt")
    assert result.outcome is Outcome.REPLACED
    assert (into / "model.pt").read_bytes() == site.files["ofa_large.pt"]


def test_not_downloaded_and_bad_names(site, tmp_path):
    result = linking.link(site.library, site.catalog.get("ofa-large"), tmp_path / "p")
    assert result.outcome is Outcome.NOT_HERE
    assert not (tmp_path / "p" / "ofa_large.pt").exists()
    fetch(site, "ofa-large")
    for name in ("../escape.pt", "a/b.pt", "", ".."):
        with pytest.raises(linking.LinkNameError):
            linking.link(site.library, site.catalog.get("ofa-large"), tmp_path / "p", name)
    assert not (tmp_path / "escape.pt").exists()


def test_a_file_only_in_a_shared_store_is_linked_from_the_store(site, tmp_path, models_dir):
    store = tmp_path / "store"
    store.mkdir()
    (store / "ofa_large.pt").write_bytes(site.files["ofa_large.pt"])
    rows = [entry("ofa-large", "http://example.invalid/ofa_large.pt", size=len(site.files["ofa_large.pt"]))]
    catalog = load(write_catalog(tmp_path / "store-catalog.json", rows))
    library = Library(tmp_path / "empty-models", catalog, stores=[store])
    result = linking.link(library, catalog.get("ofa-large"), tmp_path / "p")
    assert result.outcome is Outcome.CREATED
    assert os.readlink(tmp_path / "p" / "ofa_large.pt") == str(store / "ofa_large.pt")


def test_our_link_to_a_file_since_deleted_is_still_ours(site):
    """The models folder's file was deleted: the scan says our link is there, not the file; the file
    downloaded again, the same link resolves and is ours."""
    fetch(site, "ofa-large")
    large = site.catalog.get("ofa-large")
    linking.link(site.library, large, site.checkpoints)
    site.library.delete(large)
    row = report(site)["OFA/checkpoints/ofa_large.pt"]
    assert (row.kind, row.downloaded, row.linked) == ("catalog", False, False)
    fetch(site, "ofa-large")
    assert linking.link(site.library, large, site.checkpoints).outcome is Outcome.ALREADY
    assert (site.checkpoints / "ofa_large.pt").read_bytes() == site.files["ofa_large.pt"]


def test_a_file_where_the_folder_should_be(site, tmp_path):
    fetch(site, "ofa-large")
    (tmp_path / "p").write_bytes(b"a file, not a folder")
    result = linking.link(site.library, site.catalog.get("ofa-large"), tmp_path / "p")
    assert result.outcome is Outcome.FAILED and "not a folder" in result.reason
    assert (tmp_path / "p").read_bytes() == b"a file, not a folder"
