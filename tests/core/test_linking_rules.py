"""Links into a project, rule by rule: our own link to another file is replaced in every mode, atomically and
with nothing left behind; a copy is a whole regular file; the JSON the command line prints, field by field."""

from __future__ import annotations

import errno
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
        "member": None,
        "unpacked": False,
    }


SCRIPT = """#!/bin/sh
save_dir=./out
python train.py --restore-file=${unset_var}/a.pt
python train.py --restore-file=./out/model.pt
python train.py --restore-file=./ck/checkpoint_best.pt
python train.py --restore-file=./ck/twin.pt
python train.py --restore-file=./ck/here/twin.pt
python train.py --restore-file=./ck/solo.pt
python train.py --restore-file=./ck/unknown.pt
python train.py --restore-file=./ck/present.pt
"""


def test_a_scan_classifies_each_path_and_says_why(tmp_path):
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("one", "http://x.invalid/1/twin.pt"),
            entry("two", "http://x.invalid/2/twin.pt"),  # another file of the same name
            entry("solo", "http://x.invalid/solo.pt"),
        ],
    )
    library = Library(tmp_path / "models", load(catalog))
    project = tmp_path / "proj"
    (project / "ck" / "here").mkdir(parents=True)
    (project / "run.sh").write_text(SCRIPT)
    (project / "ck" / "present.pt").write_bytes(b"x")
    (project / "ck" / "here" / "twin.pt").write_bytes(b"x")
    rows = [e.as_json() for e in linking.scan(project, library.catalog, library)]
    got = [(r["written"], r["line"], r["kind"], r["id"], r["detail"]) for r in rows]
    assert got == [
        ("${unset_var}/a.pt", 3, "unknown", None, "uses a variable the script does not set"),
        (
            "./out/model.pt",
            4,
            "produced",
            None,
            f"under {project / 'out'}, which the project's scripts write to",
        ),
        ("./ck/checkpoint_best.pt", 5, "produced", None, "named as a training run names its outputs"),
        ("./ck/twin.pt", 6, "unknown", None, "the name fits several catalog entries: one, two"),
        ("./ck/here/twin.pt", 7, "present", None, "already there; the name fits several entries: one, two"),
        ("./ck/solo.pt", 8, "catalog", "solo", ""),
        ("./ck/unknown.pt", 9, "unknown", None, "no catalog entry has this file name"),
        ("./ck/present.pt", 10, "present", None, "already there"),
    ]
    assert rows[1]["path"] == str(project / "out" / "model.pt") and rows[0]["path"] == "${unset_var}/a.pt"
    assert {r["script"] for r in rows} == {str(project / "run.sh")}


def test_scanning_something_that_is_not_a_folder_says_so(tmp_path):
    library = Library(tmp_path / "models", load(write_catalog(tmp_path / "c.json", [])))
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(NotADirectoryError) as info:
        linking.scan(not_a_folder, library.catalog, library)
    assert info.value.filename == str(not_a_folder) and info.value.strerror == "not a folder"
    assert info.value.errno == errno.ENOTDIR
