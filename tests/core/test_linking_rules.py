"""Links into a project, rule by rule: our own link to another file is replaced in every mode, atomically and
with nothing left behind; a copy is a whole regular file; the JSON the command line prints, field by field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ofa_manager.core import linking
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Expected, LinkResult, Outcome
from tests.catalogs import entry, load, payload, sha256, write_catalog

A, B = payload(5000, 1), payload(6000, 2)


@pytest.fixture
def library(tmp_path, models_dir) -> Library:
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("a", "http://x.invalid/a.pt", sha256=sha256(A), size=len(A)),
            entry("b", "http://x.invalid/b.pt", sha256=sha256(B), size=len(B)),
        ],
    )
    library = Library(models_dir, load(catalog))
    for entry_id, data in (("a", A), ("b", B)):
        e = library.catalog.get(entry_id)
        library.path(e).write_bytes(data)
        assert library.adopt(e)
    return library


@pytest.mark.parametrize("mode", ["symlink", "hardlink", "copy"])
def test_our_link_to_another_checkpoint_is_replaced_in_every_mode(library, tmp_path, mode):
    a, b = library.catalog.get("a"), library.catalog.get("b")
    project = tmp_path / "project"
    project.mkdir()
    dest = project / "model.pt"
    os.symlink(library.path(b), dest)  # our link, made earlier for b
    (project / ".model.pt.linking").write_bytes(b"left by a crash")
    result = linking.link(library, a, project, "model.pt", mode)
    assert (result.outcome, result.path, result.target) == (Outcome.REPLACED, dest, library.path(a))
    assert dest.read_bytes() == A
    source = library.path(a).stat()
    if mode == "symlink":
        assert dest.is_symlink() and Path(os.readlink(dest)) == library.path(a)
    elif mode == "hardlink":
        assert not dest.is_symlink() and dest.stat().st_ino == source.st_ino
    else:
        assert not dest.is_symlink() and dest.stat().st_ino != source.st_ino
        assert dest.stat().st_mtime_ns == source.st_mtime_ns  # what tells later that it is our copy
    assert sorted(p.name for p in project.iterdir()) == ["model.pt"]  # no temporary left
    assert library.path(b).read_bytes() == B  # the file the old link pointed at is untouched


def test_a_copy_to_a_free_name_is_a_whole_regular_file_and_leaves_no_temporary(library, tmp_path):
    a = library.catalog.get("a")
    project = tmp_path / "p"
    result = linking.link(library, a, project, "x.pt", "copy")
    dest = project / "x.pt"
    assert result.outcome is Outcome.CREATED and result.ok
    assert dest.read_bytes() == A and not dest.is_symlink() and dest.stat().st_nlink == 1
    assert sorted(p.name for p in project.iterdir()) == ["x.pt"]
    assert linking.link(library, a, project, "x.pt", "copy").outcome is Outcome.ALREADY  # our copy


def test_link_result_json_names_every_field():
    result = LinkResult("a", Path("/p/x.pt"), Path("/m/a.pt"), Outcome.REFUSED, "copy", "a file is there")
    assert result.as_json() == {
        "id": "a",
        "path": "/p/x.pt",
        "target": "/m/a.pt",
        "outcome": "refused",
        "mode": "copy",
        "reason": "a file is there",
    }
    assert not result.ok
    assert LinkResult("a", Path("/p/x.pt"), None, Outcome.NOT_HERE, "symlink").as_json()["target"] is None


def test_expected_json_names_every_field():
    found = Expected(
        path=Path("/p/ck/x.pt"),
        written="../ck/x.pt",
        script=Path("/p/run.sh"),
        line=7,
        kind="catalog",
        entry_id="a",
        downloaded=True,
        linked=False,
        detail="the published file",
    )
    assert found.as_json() == {
        "path": "/p/ck/x.pt",
        "written": "../ck/x.pt",
        "script": "/p/run.sh",
        "line": 7,
        "kind": "catalog",
        "id": "a",
        "downloaded": True,
        "linked": False,
        "detail": "the published file",
    }
