"""Links into a project, rule by rule: our own link to another file is replaced in every mode, atomically and
with nothing left behind; a copy is a whole regular file; the JSON the command line prints, field by field."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from ofa_manager.core import archive_records, archives, linking
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Expected, LinkResult, Outcome
from tests.archives import GOOD, build_zip
from tests.catalogs import entry, load, payload, sha256, write_catalog

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

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
    ok = {outcome for outcome in Outcome if LinkResult("a", Path("/p"), None, outcome, "copy").ok}
    assert ok == {Outcome.CREATED, Outcome.REPLACED, Outcome.ALREADY}
    assert LinkResult("a", Path("/p"), None, Outcome.CREATED, "copy").reason == ""


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


# -- what link says, word for word -------------------------------------------------------------------------


def test_what_is_already_there_says_which_of_our_links_it_is(library, tmp_path):
    a = library.catalog.get("a")
    project = tmp_path / "p"
    for mode, why in (
        ("symlink", "our symbolic link is there"),
        ("hardlink", "our hard link is there"),
        ("copy", "our copy is there"),
    ):
        made = linking.link(library, a, project, f"{mode}.pt", mode)
        assert (made.outcome, made.reason, made.mode) == (Outcome.CREATED, "", mode)
        for asked in linking.MODES:  # a link of any kind satisfies a request of any mode
            again = linking.link(library, a, project, f"{mode}.pt", asked)
            assert (again.outcome, again.reason, again.mode) == (Outcome.ALREADY, why, asked)


def test_what_is_not_ours_is_refused_and_named(library, tmp_path):
    a = library.catalog.get("a")
    project = tmp_path / "p"
    project.mkdir()
    os.symlink("/elsewhere/x.pt", project / "link.pt")
    (project / "file.pt").write_bytes(A[:-1] + b"!")  # the same size, another time
    (project / "folder.pt").mkdir()
    reasons = {
        name: linking.link(library, a, project, name).reason for name in ("link.pt", "file.pt", "folder.pt")
    }
    assert reasons == {
        "link.pt": "a symbolic link to /elsewhere/x.pt is there, not ours; left alone",
        "file.pt": "a file that is not our link is there; left alone",
        "folder.pt": "a folder is there; left alone",
    }
    assert {linking.link(library, a, project, name).outcome for name in reasons} == {Outcome.REFUSED}
    assert os.readlink(project / "link.pt") == "/elsewhere/x.pt"


def test_our_link_to_another_file_says_where_it_pointed(library, tmp_path):
    a, b = library.catalog.get("a"), library.catalog.get("b")
    project = tmp_path / "p"
    project.mkdir()
    os.symlink(os.path.relpath(library.path(b), project), project / "m.pt")  # relative: read from its folder
    result = linking.link(library, a, project, "m.pt")
    assert (result.outcome, result.reason) == (Outcome.REPLACED, f"our link pointed at {library.path(b)}")


def test_a_file_where_the_folder_should_be_is_named(library, tmp_path):
    a = library.catalog.get("a")
    (tmp_path / "p").write_bytes(b"")
    result = linking.link(library, a, tmp_path / "p")
    assert (result.outcome, result.reason) == (Outcome.FAILED, f"{tmp_path / 'p'} is a file, not a folder")
    assert result.path == tmp_path / "p" / "a.pt" and result.target == library.path(a)


def test_not_downloaded_a_bad_mode_and_a_bad_name(library, tmp_path):
    a = library.catalog.get("a")
    library.path(a).unlink()
    result = linking.link(library, a, tmp_path / "p")
    assert (result.outcome, result.target, result.mode) == (Outcome.NOT_HERE, None, "symlink")
    state = library.status(a).state.value
    assert result.reason == f"a is not downloaded ({state}); `ofa-manager download a` fetches it"
    assert result.path == tmp_path / "p" / "a.pt"
    with pytest.raises(ValueError) as info:
        linking.link(library, a, tmp_path / "p", mode="junction")
    assert str(info.value) == "mode must be one of symlink, hardlink, copy, not 'junction'"
    with pytest.raises(linking.LinkNameError) as info:
        linking.link(library, a, tmp_path / "p", "../x.pt")
    assert str(info.value).startswith("link name '../x.pt' ")
    assert not (tmp_path / "p").exists()


# -- an archive's members ----------------------------------------------------------------------------------


@pytest.fixture
def bundle(tmp_path, models_dir) -> Library:
    """An archive entry downloaded (GOOD's members), and another listing its members in the catalog only."""
    data = build_zip([*GOOD.items(), ("deep/er/x.bin", b"deep")])
    listed = entry("listed", "http://x.invalid/listed.zip")
    listed["members"] = ["a/vqgan/last.ckpt", "solo.bin", "a/cfg/model.yaml", "b/cfg/model.yaml"]
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("bundle", "http://x.invalid/bundle.zip", sha256=sha256(data), size=len(data)), listed],
    )
    library = Library(models_dir, load(catalog))
    e = library.catalog.get("bundle")
    library.path(e).write_bytes(data)
    assert library.adopt(e)
    return library


def test_a_member_is_linked_once_its_archive_is_unpacked(bundle, tmp_path):
    e = bundle.catalog.get("bundle")
    project = tmp_path / "p"
    before = linking.link_member(bundle, e, "vqgan/last.ckpt", project)
    assert (before.outcome, before.target, before.path) == (Outcome.NOT_HERE, None, project / "last.ckpt")
    assert before.reason == "bundle is not unpacked; `ofa-manager unpack bundle` unpacks it"
    assert (before.entry_id, before.mode) == ("bundle", "symlink")
    assert archives.unpack(bundle, e).ok
    made = linking.link_member(bundle, e, "vqgan/last.ckpt", project)
    folder = archive_records.folder_for(bundle, e)
    assert (made.outcome, made.target, made.entry_id) == (
        Outcome.CREATED,
        folder / "vqgan" / "last.ckpt",
        "bundle",
    )
    assert (project / "last.ckpt").read_bytes() == GOOD["vqgan/last.ckpt"]
    again = linking.link_member(bundle, e, "vqgan/last.ckpt", project, "last.ckpt", "copy")
    assert (again.outcome, again.reason) == (Outcome.ALREADY, "our symbolic link is there")
    named = linking.link_member(bundle, e, "clip/ViT-B-16.pt", project, "clip.pt", "hardlink")
    assert named.outcome is Outcome.CREATED and (project / "clip.pt").read_bytes() == GOOD["clip/ViT-B-16.pt"]
    missing = linking.link_member(bundle, e, "vqgan/model.yaml", project)
    assert (missing.outcome, missing.reason) == (Outcome.FAILED, "bundle holds no vqgan/model.yaml")
    assert missing.path == project / "model.yaml" and not missing.path.exists()
    assert (missing.entry_id, missing.mode) == ("bundle", "symlink")
    deep = linking.link_member(bundle, e, "deep/er/x.bin", project)  # named for the member's file alone
    assert (deep.outcome, deep.path, deep.target) == (
        Outcome.CREATED,
        project / "x.bin",
        folder / "deep/er/x.bin",
    )
    assert (project / "x.bin").read_bytes() == b"deep"
    # Our link to another member is re-pointed.
    other = linking.link_member(bundle, e, "ofa_large.pt", project, "last.ckpt")
    assert (other.outcome, other.reason) == (
        Outcome.REPLACED,
        f"our link pointed at {folder / 'vqgan/last.ckpt'}",
    )
    assert (project / "last.ckpt").read_bytes() == GOOD["ofa_large.pt"]
    # The record is there, the folder is not: not unpacked.
    shutil.rmtree(folder)
    gone = linking.link_member(bundle, e, "ofa_large.pt", tmp_path / "q")
    assert (gone.outcome, gone.reason) == (Outcome.NOT_HERE, before.reason)
    with pytest.raises(ValueError, match="^mode must be one of symlink, hardlink, copy, not 'x'$"):
        linking.link_member(bundle, e, "vqgan/last.ckpt", project, mode="x")
    with pytest.raises(linking.LinkNameError, match="^link name '..' "):
        linking.link_member(bundle, e, "vqgan/last.ckpt", project, "..")


def test_member_index_and_matches(bundle):
    index = linking.member_index(bundle.catalog, bundle)
    assert {name: [(e.id, m) for e, m in rows] for name, rows in index.items()} == {
        "ofa_large.pt": [("bundle", "ofa_large.pt")],
        "x.bin": [("bundle", "deep/er/x.bin")],
        "ViT-B-16.pt": [("bundle", "clip/ViT-B-16.pt")],
        "last.ckpt": [("bundle", "vqgan/last.ckpt"), ("listed", "a/vqgan/last.ckpt")],
        "solo.bin": [("listed", "solo.bin")],
        "model.yaml": [("listed", "a/cfg/model.yaml"), ("listed", "b/cfg/model.yaml")],
    }

    def fits(path: str) -> list[tuple[str, str]]:
        return [(e.id, m) for e, m in linking._member_matches(Path(path), index)]

    # Two segments fit both (one member's whole path, the other's end): both, unclear.
    assert fits("/p/ck/vqgan/last.ckpt") == [("bundle", "vqgan/last.ckpt"), ("listed", "a/vqgan/last.ckpt")]
    assert fits("/p/a/vqgan/last.ckpt") == [("listed", "a/vqgan/last.ckpt")]  # three beat two
    assert fits("/p/x/last.ckpt") == []  # a lone common name fits nothing
    assert fits("/p/solo.bin") == [("listed", "solo.bin")]  # the member's whole path
    assert fits("/p/ofa_large.pt") == [("bundle", "ofa_large.pt")]
    assert fits("vqgan/last.ckpt") == [("bundle", "vqgan/last.ckpt"), ("listed", "a/vqgan/last.ckpt")]
    assert fits("/p/b/vqgan/last.ckpt") == fits("/p/ck/vqgan/last.ckpt")
    assert fits("/p/nothing.pt") == []
    # A member that fits nothing does not end the search: the members after it are still weighed.
    bundle_e, listed_e = bundle.catalog.get("bundle"), bundle.catalog.get("listed")
    index["last.ckpt"] = [(bundle_e, "x/last.ckpt"), (listed_e, "a/vqgan/last.ckpt")]
    assert fits("/p/a/vqgan/last.ckpt") == [("listed", "a/vqgan/last.ckpt")]


# -- the scan's words --------------------------------------------------------------------------------------


def test_name_index_aliases_first_one_entry_per_file(tmp_path):
    rows = [
        entry("first", "http://x.invalid/1/m.pt"),
        entry("again", "http://x.invalid/1/m.pt"),  # the same file as "first": one of them
        entry("other", "http://x.invalid/2/m.pt"),
        entry("named", "http://x.invalid/n.pt"),
        entry("odd", "http://x.invalid/odd.pt"),
    ]
    rows[3]["aliases"] = ["m.pt", 7, "alias.pt"]  # an alias wins over file names; a non-name is skipped
    rows[4]["aliases"] = "odd_alias.pt"  # not a list: no aliases
    index = linking.name_index(load(write_catalog(tmp_path / "c.json", rows)))
    assert {name: [e.id for e in entries] for name, entries in index.items()} == {
        "m.pt": ["named"],
        "alias.pt": ["named"],
        "n.pt": ["named"],
        "odd.pt": ["odd"],
    }
    rows[3]["aliases"] = []
    index = linking.name_index(load(write_catalog(tmp_path / "d.json", rows)))
    assert [e.id for e in index["m.pt"]] == ["first", "other"]


def test_scripts_are_read_sorted_skipping_hidden_folders_up_to_the_limit(tmp_path, monkeypatch):
    for name in ("b/2.sh", "a/1.sh", ".git/h.sh", "a/.x/h.sh", "a/notes.txt", "a/0.sh", "z.sh"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in linking.scripts_in(tmp_path)]
    assert found == ["z.sh", "a/0.sh", "a/1.sh", "b/2.sh"]
    monkeypatch.setattr(linking, "MAX_SCRIPTS", 2)
    assert [p.relative_to(tmp_path).as_posix() for p in linking.scripts_in(tmp_path)] == ["z.sh", "a/0.sh"]


WORDS = """#!/bin/bash
declare -r -x D=/d
readonly R=/r/a.pt
local L=/l/a.pt
1X=/n/a.pt
/w/first.pt --x
python --save-dir=${unset}/o --save-path ./sp --output-dir --x=/o2/a.pt out/a.pt
python --x "/q/a.pt /q/b.pt" --y=--z=/c/a.pt,/c/b.pt "$D/a.pt" http://h/a.yaml /y/m.yaml /y/noext a.yaml
V="--v=/v/a.pt /v/b.pt"
python $V $D/e/x.ckpt
save_dir=${unset}/s
save_dir=
cat <<EOF
load("$D/h.pt") {x}/b.pt
 more:/m/z.safetensors
$(dirname $0)/k.pt
EOF
"""


def test_a_scans_words_each_at_its_line(tmp_path):
    library = Library(tmp_path / "models", load(write_catalog(tmp_path / "c.json", [])))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "run.sh").write_text(WORDS)
    (project / "gone.sh").symlink_to(project / "nothing")  # a script that cannot be opened: skipped
    found = linking.scan(project, library.catalog, library)
    assert {e.detail for e in found} == {"no catalog entry has this file name"}
    shown = [
        (e.written.replace(str(project), "P"), str(e.path).replace(str(project), "P"), e.line) for e in found
    ]
    assert shown == [
        ("/r/a.pt", "/r/a.pt", 3),  # after readonly, local, declare and its options
        ("/l/a.pt", "/l/a.pt", 4),
        ("1X=/n/a.pt", "P/1X=/n/a.pt", 5),  # not a name: a word, resolved against the script's folder
        ("/w/first.pt", "/w/first.pt", 6),  # a first word that is a checkpoint is no command
        ("/o2/a.pt", "/o2/a.pt", 7),
        ("out/a.pt", "P/out/a.pt", 7),  # not under ./sp, the one folder written to
        ("/q/a.pt", "/q/a.pt", 8),  # a value cut at spaces
        ("/q/b.pt", "/q/b.pt", 8),
        ("/c/a.pt", "/c/a.pt", 8),  # and at commas, a --flag= in front taken off
        ("/c/b.pt", "/c/b.pt", 8),
        ("$D/a.pt", "/d/a.pt", 8),
        ("/v/a.pt", "/v/a.pt", 9),  # where the variable is set, not where it is used
        ("/v/b.pt", "/v/b.pt", 9),
        ("$D/e/x.ckpt", "/d/e/x.ckpt", 10),
        ("/d/h.pt", "/d/h.pt", 14),  # a here document's words, expanded; {x}/b.pt is no path
        ("/m/z.safetensors", "/m/z.safetensors", 15),
        ("P/k.pt", "P/k.pt", 16),  # the script's own folder
    ]


def test_options_alone_assignments_in_a_row_flags_in_values_and_bytes_that_are_not_utf8(tmp_path):
    library = Library(tmp_path / "models", load(write_catalog(tmp_path / "c.json", [])))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "run.sh").write_bytes(
        b"# caf\xe9: not UTF-8, read all the same\n"
        b"declare -x\n"  # options and nothing more
        b"declare -r D=/d/a.pt\n"
        b"A=/a/1.pt B=/b/2.pt python\n"  # assignments in a row, each one
        b"python --x=--ckpt=/e/x=1.pt\n"  # the --flag= in front taken off, up to its first '='
    )
    found = linking.scan(project, library.catalog, library)
    assert [(e.written, str(e.path), e.line) for e in found] == [
        ("/d/a.pt", "/d/a.pt", 3),
        ("/a/1.pt", "/a/1.pt", 4),
        ("/b/2.pt", "/b/2.pt", 4),
        ("/e/x=1.pt", "/e/x=1.pt", 5),
    ]


def test_save_dirs_from_flags_and_assignments(tmp_path):
    library = Library(tmp_path / "models", load(write_catalog(tmp_path / "c.json", [])))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "run.sh").write_text(
        "output_dir=./od\n"
        "save_path=$unset/..\n"  # not known: not a folder (though it would be the project's)
        "python --save-path ./sp --output-dir=./o2 --save-dir --x ./no/a.pt\n"
        "python --save-dir=$unset/.. --output-dir $unset/..\n"
        "python --save-dir -q\n"  # an option after the flag is not its folder
        "python --output-dir ./o3\n"  # the folder as the command's last word
        "echo od/a.pt sp/a.pt o2/a.pt no/a.pt x/a.pt ./-q/a.pt o3/a.pt\n"
    )
    kinds = {
        str(e.path.relative_to(project)): e.kind for e in linking.scan(project, library.catalog, library)
    }
    # ./no/a.pt follows --save-dir, but so does --x first: no folder; $unset is not known.
    assert kinds == {
        "od/a.pt": "produced",
        "sp/a.pt": "produced",
        "o2/a.pt": "produced",
        "no/a.pt": "unknown",
        "x/a.pt": "unknown",
        "-q/a.pt": "unknown",
        "o3/a.pt": "produced",
    }


def test_a_script_is_read_up_to_its_limit(tmp_path, monkeypatch):
    library = Library(tmp_path / "models", load(write_catalog(tmp_path / "c.json", [])))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "run.sh").write_text("echo /a/a.pt\necho /b/b.pt\n")
    monkeypatch.setattr(linking, "MAX_SCRIPT_BYTES", len("echo /a/a.pt\necho /b/"))
    assert [e.written for e in linking.scan(project, library.catalog, library)] == ["/a/a.pt"]


MEMBER_SCRIPT = """echo ck/vqgan/last.ckpt here/vqgan/last.ckpt clip/ViT-B-16.pt solo.bin
echo --config=./cfg/model.yaml http://h/cfg/model.yaml $unset/cfg/model.yaml ./x/other.yaml
echo linked/clip/ViT-B-16.pt user/clip/ViT-B-16.pt repoint/clip/ViT-B-16.pt
"""


def test_a_scan_classifies_archive_members_and_says_why(bundle, tmp_path):
    e = bundle.catalog.get("bundle")
    folder = archive_records.folder_for(bundle, e)
    project = tmp_path / "proj"
    for name in ("here/vqgan/last.ckpt", "user/clip/ViT-B-16.pt"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(b"the user's")
    (project / "run.sh").write_text(MEMBER_SCRIPT)
    (project / "linked" / "clip").mkdir(parents=True)
    os.symlink(
        folder / "clip" / "ViT-B-16.pt", project / "linked" / "clip" / "ViT-B-16.pt"
    )  # ours, not unpacked yet
    (project / "repoint" / "clip").mkdir(parents=True)
    os.symlink(bundle.root / "old" / "x.pt", project / "repoint" / "clip" / "ViT-B-16.pt")  # ours, elsewhere

    def rows():
        found = linking.scan(project, bundle.catalog, bundle)
        return {
            str(r.path.relative_to(project)): (
                r.kind,
                r.entry_id,
                r.member,
                r.downloaded,
                r.unpacked,
                r.linked,
                r.detail,
            )
            for r in found
        }

    both = "it fits several archive members: vqgan/last.ckpt of bundle, a/vqgan/last.ckpt of listed"
    clip = ("bundle", "clip/ViT-B-16.pt", True)
    yaml = "it fits several archive members: a/cfg/model.yaml of listed, b/cfg/model.yaml of listed"
    assert rows() == {
        "ck/vqgan/last.ckpt": ("unknown", None, None, False, False, False, both),
        "here/vqgan/last.ckpt": ("present", None, None, False, False, False, f"already there; {both}"),
        "clip/ViT-B-16.pt": ("member", *clip, False, False, ""),
        "repoint/clip/ViT-B-16.pt": ("member", *clip, False, False, ""),
        "solo.bin": ("member", "listed", "solo.bin", False, False, False, ""),
        "cfg/model.yaml": ("unknown", None, None, False, False, False, yaml),  # two members of one archive
        "linked/clip/ViT-B-16.pt": (
            "member",
            *clip,
            False,
            False,
            "our link is there; the archive is not unpacked",
        ),
        "user/clip/ViT-B-16.pt": (
            "present",
            *clip,
            False,
            False,
            "already there (fits clip/ViT-B-16.pt of bundle)",
        ),
    }
    assert archives.unpack(bundle, e).ok
    after = rows()
    assert after["linked/clip/ViT-B-16.pt"] == ("member", *clip, True, True, "")
    assert after["clip/ViT-B-16.pt"] == ("member", *clip, True, False, "")


def test_a_hard_link_across_volumes_fails_and_says_what_to_use(library, elsewhere):
    a, b = library.catalog.get("a"), library.catalog.get("b")
    result = linking.link(library, a, elsewhere, "x.pt", "hardlink")
    assert (result.outcome, result.mode) == (Outcome.FAILED, "hardlink")
    assert (result.entry_id, result.path, result.target) == ("a", elsewhere / "x.pt", library.path(a))
    why = os.strerror(errno.EXDEV)
    assert result.reason == f"a hard link cannot be made here ({why}); use --mode symlink or --mode copy"
    assert not result.ok and list(elsewhere.iterdir()) == []
    # Our link to another file stays as it was, and no temporary is left.
    os.symlink(library.path(b), elsewhere / "m.pt")
    again = linking.link(library, a, elsewhere, "m.pt", "hardlink")
    assert (again.outcome, again.reason) == (Outcome.FAILED, result.reason)
    assert os.readlink(elsewhere / "m.pt") == str(library.path(b))
    assert [p.name for p in elsewhere.iterdir()] == ["m.pt"]
    copied = linking.link(library, a, elsewhere, "c.pt", "copy")
    assert copied.outcome is Outcome.CREATED and (elsewhere / "c.pt").read_bytes() == A
    assert sorted(p.name for p in elsewhere.iterdir()) == ["c.pt", "m.pt"]


def test_a_home_folder_and_a_relative_folder_are_made_absolute(library, bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    a = library.catalog.get("a")
    assert linking.link(library, a, "~/p").path == tmp_path / "p" / "a.pt"
    assert linking.link(library, a, "q").path == tmp_path / "q" / "a.pt"
    assert (tmp_path / "q" / "a.pt").read_bytes() == A
    e = bundle.catalog.get("bundle")
    assert linking.link_member(bundle, e, "vqgan/last.ckpt", "~/m").path == tmp_path / "m" / "last.ckpt"
    assert linking.link_member(bundle, e, "vqgan/last.ckpt", "n").path == tmp_path / "n" / "last.ckpt"
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "run.sh").write_text("echo ~/ck/a.pt ../rel/b.pt\n")
    found = linking.scan("~/proj", bundle.catalog, bundle)
    assert [(str(e.path), e.script) for e in found] == [
        (str(tmp_path / "ck" / "a.pt"), tmp_path / "proj" / "run.sh"),
        (str(tmp_path / "rel" / "b.pt"), tmp_path / "proj" / "run.sh"),
    ]
    assert [e.path for e in linking.scan("proj", bundle.catalog, bundle)] == [e.path for e in found]


def test_which_links_are_ours_to_replace(library, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    shared = Library(library.root, library.catalog, stores=[store])
    a = shared.catalog.get("a")
    project = tmp_path / "p"
    project.mkdir()
    targets = {
        "store.pt": store / "x.pt",  # a file in a shared store
        "store-host.pt": store / "host" / "x.pt",  # in a source host's folder there
        "store-deep.pt": store / "a" / "b" / "x.pt",  # deeper in a store: not a place of ours
        "models-deep.pt": library.root / "a" / "b" / "x.pt",  # anywhere in the models folder
        "other.pt": tmp_path / "x.pt",
    }
    for name, target in targets.items():
        os.symlink(target, project / name)
    outcomes = {name: linking.link(shared, a, project, name).outcome for name in targets}
    assert outcomes == {
        "store.pt": Outcome.REPLACED,
        "store-host.pt": Outcome.REPLACED,
        "store-deep.pt": Outcome.REFUSED,
        "models-deep.pt": Outcome.REPLACED,
        "other.pt": Outcome.REFUSED,
    }
    assert os.readlink(project / "store-deep.pt") == str(store / "a" / "b" / "x.pt")
    assert os.readlink(project / "store-host.pt") == str(library.path(a))


def test_a_scan_classifies_catalog_paths_by_what_is_there(library, tmp_path):
    a, b = library.catalog.get("a"), library.catalog.get("b")
    project = tmp_path / "proj"
    for folder in ("mine", "linked", "gone", "other"):
        (project / folder).mkdir(parents=True)
    (project / "run.sh").write_text("echo a.pt mine/a.pt linked/a.pt gone/b.pt other/a.pt\n")
    (project / "mine" / "a.pt").write_bytes(b"the user's")
    os.symlink(library.path(a), project / "linked" / "a.pt")
    os.symlink(library.path(b), project / "gone" / "b.pt")
    os.symlink(library.root / "x" / "y" / "old.pt", project / "other" / "a.pt")  # ours, to re-point
    library.path(b).unlink()
    rows = {
        str(e.path.relative_to(project)): (e.kind, e.entry_id, e.downloaded, e.linked, e.detail)
        for e in linking.scan(project, library.catalog, library)
    }
    assert rows == {
        "a.pt": ("catalog", "a", True, False, ""),
        "mine/a.pt": ("present", "a", True, False, "already there"),
        "linked/a.pt": ("catalog", "a", True, True, ""),
        "gone/b.pt": ("catalog", "b", False, False, "our link is there; the file is not"),
        "other/a.pt": ("catalog", "a", True, False, ""),
    }


def test_our_link_that_became_something_else_meanwhile_is_left_and_no_temporary_stays(library, tmp_path):
    """The moment between looking at the name and replacing our link, staged: a user's file is there now."""
    a = library.catalog.get("a")
    (tmp_path / "m.pt").write_bytes(b"the user's")
    for mode in linking.MODES:
        with pytest.raises(FileExistsError):
            linking._replace_symlink(library.path(a), tmp_path / "m.pt", mode)
        assert (tmp_path / "m.pt").read_bytes() == b"the user's"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "m.pt", "models"]


def test_a_copy_that_cannot_be_hard_linked_to_its_name_never_replaces_what_is_there(tmp_path, elsewhere):
    """The copy's last step, its copy on another volume: a name taken meanwhile stays (the hard link is
    refused for the name taken before the volumes are compared; the rename's fallback: the next test)."""
    temporary = elsewhere / ".x.pt.linking"
    temporary.write_bytes(b"our copy")
    (tmp_path / "x.pt").write_bytes(b"the user's")
    with pytest.raises(FileExistsError):
        linking._place_new(temporary, tmp_path / "x.pt")
    assert (tmp_path / "x.pt").read_bytes() == b"the user's"


def test_a_copy_on_a_file_system_without_hard_links_is_renamed_into_place_never_over_a_users_file(
    library, tmp_path, monkeypatch
):
    """A copy's last step is a hard link of the finished copy to its name (it fails if the name was taken).
    Where the file system has none (FAT, some network mounts: none can be mounted here, so os.link is made
    to fail as theirs does), the copy is renamed into place, after a last look that the name is free."""
    a = library.catalog.get("a")
    project = tmp_path / "p"
    project.mkdir()
    appears: dict[Path, bytes] = {}

    def no_hard_links(src, dst, *args, **kwargs):
        for path, data in appears.items():  # a user's file that appears at the name meanwhile
            path.write_bytes(data)
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_hard_links)
    made = linking.link(library, a, project, "a.pt", "copy")
    assert (made.outcome, made.target, made.reason) == (Outcome.CREATED, library.path(a), "")
    assert not (project / "a.pt").is_symlink() and (project / "a.pt").read_bytes() == A
    assert (project / "a.pt").stat().st_ino != library.path(a).stat().st_ino
    appears[project / "b.pt"] = b"the user's"
    refused = linking.link(library, a, project, "b.pt", "copy")
    assert (refused.outcome, refused.reason) == (Outcome.REFUSED, "a file is there; left alone")
    assert (refused.entry_id, refused.path, refused.target, refused.mode) == (
        "a",
        project / "b.pt",
        library.path(a),
        "copy",
    )
    assert (project / "b.pt").read_bytes() == b"the user's"
    assert sorted(p.name for p in project.iterdir()) == ["a.pt", "b.pt"]  # no temporary left


def test_a_path_of_another_kind_counts_by_its_file_name_and_a_command_is_no_path(tmp_path, models_dir):
    """Paths that are not checkpoints are kept for the archive members they may be: a file name with a
    suffix (a folder's dot does not make one); the program a command runs is not a path it reads."""
    docs = entry("docs", "http://x.invalid/docs.zip")
    docs["members"] = ["v1.0/README", "cfg/model.yaml", "tools/run.yaml"]
    library = Library(models_dir, load(write_catalog(tmp_path / "c.json", [docs])))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "run.sh").write_text("\necho ./v1.0/README cfg/model.yaml\ntools/run.yaml --x\n")
    found = linking.scan(project, library.catalog, library)
    assert [(e.written, str(e.path.relative_to(project)), e.line, e.kind, e.member) for e in found] == [
        ("cfg/model.yaml", "cfg/model.yaml", 2, "member", "cfg/model.yaml"),
    ]


def test_each_result_names_its_entry_its_path_and_the_mode_asked_for(library, tmp_path):
    a, b = library.catalog.get("a"), library.catalog.get("b")
    project = tmp_path / "p"
    project.mkdir()
    (project / "user.pt").write_bytes(b"the user's")
    (project / "file").write_bytes(b"not a folder")
    os.symlink(library.path(b), project / "ours.pt")
    library.path(b).unlink()
    results = [
        linking.link(library, b, project, "b.pt", "copy"),  # not downloaded
        linking.link(library, a, project, "user.pt", "hardlink"),  # a user's file
        linking.link(library, a, project / "file", "a.pt", "copy"),  # no folder to put it in
        linking.link(library, a, project, "ours.pt", "hardlink"),  # our link, re-pointed
    ]
    assert [(r.outcome, r.entry_id, r.path, r.mode) for r in results] == [
        (Outcome.NOT_HERE, "b", project / "b.pt", "copy"),
        (Outcome.REFUSED, "a", project / "user.pt", "hardlink"),
        (Outcome.FAILED, "a", project / "file" / "a.pt", "copy"),
        (Outcome.REPLACED, "a", project / "ours.pt", "hardlink"),
    ]


def test_a_symbolic_link_the_file_system_refuses_fails_with_the_systems_words_only(
    library, tmp_path, monkeypatch
):
    """The advice to use another mode is for hard links; a file system without symbolic links (none can be
    mounted here: os.symlink is made to fail as theirs does) gets its own words alone."""
    a = library.catalog.get("a")

    def no_symbolic_links(src, dst, *args, **kwargs):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "symlink", no_symbolic_links)
    result = linking.link(library, a, tmp_path / "p", "a.pt", "symlink")
    assert (result.outcome, result.reason) == (Outcome.FAILED, os.strerror(errno.EPERM))
    assert list((tmp_path / "p").iterdir()) == []


def test_a_member_gone_from_the_unpacked_folder_is_named_and_a_users_file_stays(bundle, tmp_path):
    e = bundle.catalog.get("bundle")
    assert archives.unpack(bundle, e).ok
    source = archive_records.folder_for(bundle, e) / "clip" / "ViT-B-16.pt"
    source.unlink()
    project = tmp_path / "p"
    project.mkdir()
    (project / "ViT-B-16.pt").write_bytes(b"the user's")
    result = linking.link_member(bundle, e, "clip/ViT-B-16.pt", project)
    assert (result.outcome, result.reason) == (Outcome.REFUSED, f"{source}: {os.strerror(errno.ENOENT)}")
    assert (project / "ViT-B-16.pt").read_bytes() == b"the user's"
