"""core.archives rule by rule: each outcome's words and fields (the command line prints them, `--json` gives
them), the record written, progress, leftovers of a killed unpack, the free space an unpack over our own
folder may count, and the unpacked folder's check and removal case by case. The archive is written into
the models folder and adopted (its catalog size and sha256 match): nothing is fetched."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
import zlib

import pytest

from ofa_manager.core import archive_checks, archives
from ofa_manager.core.archives import Outcome, Phase
from ofa_manager.core.library import Library
from tests.archives import GOOD, build_zip
from tests.catalogs import entry, load, sha256, write_catalog

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

ZIP = build_zip([("vqgan/", b""), *GOOD.items()])
SIZE = sum(map(len, GOOD.values()))
MARGIN = archive_checks.SPACE_MARGIN


@pytest.fixture
def site(tmp_path, models_dir):
    rows = [
        entry("bundle", "http://x.invalid/bundle.zip", sha256=sha256(ZIP), size=len(ZIP)),
        entry("plain", "http://x.invalid/p.pt"),
    ]
    catalog = load(write_catalog(tmp_path / "c.json", rows))

    class Site:
        pass

    s = Site()
    s.library, s.catalog, s.dir = Library(models_dir, catalog), catalog, models_dir
    s.bundle = catalog.get("bundle")
    s.folder = models_dir / "bundle"
    s.record = models_dir / ".bundle.zip.unpacked.json"

    def download() -> None:
        s.library.path(s.bundle).write_bytes(ZIP)
        assert s.library.adopt(s.bundle)

    s.download = download
    return s


def crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def test_what_is_not_unpacked_says_why(site, tmp_path, models_dir):
    plain = archives.unpack(site.library, site.catalog.get("plain"))
    assert plain.as_json() == {
        "id": "plain",
        "outcome": "not-ready",
        "folder": str(models_dir / "p.pt.unpacked"),
        "members": [],
        "reason": "p.pt is not a zip archive",
    }
    assert not plain.ok and plain.size == 0
    missing = archives.unpack(site.library, site.bundle)
    assert (missing.outcome, missing.reason) == (Outcome.NOT_READY, "bundle is not downloaded (remote)")
    # Another entry's file has the folder's name.
    clash = load(
        write_catalog(
            tmp_path / "clash.json",
            [
                entry("bundle", "http://x.invalid/bundle.zip", sha256=sha256(ZIP), size=len(ZIP)),
                entry("clash", "http://x.invalid/bundle", filename="bundle"),
            ],
        )
    )
    taken = archives.unpack(Library(models_dir, clash), clash.get("bundle"))
    assert (taken.outcome, taken.reason) == (Outcome.TAKEN, "the folder's name bundle is the file of clash")


def test_an_unpack_writes_its_record_and_reports_progress_and_members(site):
    site.download()
    seen = []
    result = archives.unpack(site.library, site.bundle, progress=lambda *a: seen.append(a))
    assert result.ok and result.outcome is Outcome.UNPACKED and result.reason == ""
    assert result.size == SIZE
    assert result.as_json()["members"] == [
        {"name": name, "size": len(data), "crc32": crc(data)} for name, data in GOOD.items()
    ]
    assert result.as_json()["outcome"] == "unpacked" and result.as_json()["folder"] == str(site.folder)
    verifying = [a for a in seen if a[0] is Phase.VERIFYING]
    unpacking = [a for a in seen if a[0] is Phase.UNPACKING]
    assert verifying[-1] == (Phase.VERIFYING, len(ZIP), len(ZIP))
    assert unpacking[0] == (Phase.UNPACKING, 0, SIZE) and unpacking[-1] == (Phase.UNPACKING, SIZE, SIZE)
    assert [a[1] for a in unpacking] == sorted(a[1] for a in unpacking)
    record = json.loads(site.record.read_text())
    assert {k: v for k, v in record.items() if k != "unpacked_at"} == {
        "format": 1,
        "id": "bundle",
        "folder": "bundle",
        "archive_sha256": sha256(ZIP),
        "members": result.as_json()["members"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", record["unpacked_at"])
    for name, data in GOOD.items():
        assert (site.folder / name).read_bytes() == data
        assert (site.folder / name).stat().st_mode & 0o777 == 0o644 & ~_umask()
    # Again: the same bytes, already there; the members come from the record.
    again = archives.unpack(site.library, site.bundle)
    assert again.ok and again.outcome is Outcome.ALREADY and again.members == result.members


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_folder_from_other_bytes_or_a_file_at_the_name_is_left_alone(site):
    site.download()
    archives.unpack(site.library, site.bundle)
    record = json.loads(site.record.read_text())
    record["archive_sha256"] = "0" * 64
    site.record.write_text(json.dumps(record))
    other = archives.unpack(site.library, site.bundle)
    assert (other.outcome, other.reason) == (
        Outcome.TAKEN,
        f"{site.folder} was unpacked from other bytes; unpack it again",
    )
    assert not other.ok
    assert archives.unpack(site.library, site.bundle, again=True).outcome is Outcome.UNPACKED
    assert json.loads(site.record.read_text())["archive_sha256"] == sha256(ZIP)
    assert [n for n in os.listdir(site.dir) if ".unpacking-" in n] == []  # the old folder went too

    archives.remove_unpacked(site.library, site.bundle)
    site.folder.rmdir() if site.folder.exists() else None
    site.folder.write_text("mine")
    result = archives.unpack(site.library, site.bundle)
    assert (result.outcome, result.reason) == (
        Outcome.TAKEN,
        f"a file is at {site.folder}, not unpacked by ofa-manager; left alone",
    )
    assert site.folder.read_text() == "mine"


def test_again_over_our_folder_names_at_most_five_files_not_from_the_archive(site):
    site.download()
    archives.unpack(site.library, site.bundle)
    for name in ("f", "e", "d", "c", "b", "a"):
        (site.folder / f"{name}.txt").write_text("mine")
    (site.folder / "clip" / "notes").mkdir()
    result = archives.unpack(site.library, site.bundle, again=True)
    assert (result.outcome, result.reason) == (
        Outcome.TAKEN,
        f"{site.folder} holds files not from the archive (a.txt, b.txt, c.txt, d.txt, e.txt); left alone",
    )
    assert (site.folder / "f.txt").read_text() == "mine"
    assert archives.check_unpacked(site.library, site.bundle).extra == [
        "a.txt",
        "b.txt",
        "c.txt",
        "d.txt",
        "e.txt",
        "f.txt",
        "clip/notes/",
    ]


def test_leftovers_of_a_killed_unpack_are_dropped_and_nothing_else(site):
    site.download()
    leftover = site.dir / ".bundle.unpacking-abc123"
    leftover.mkdir()
    (leftover / "half.pt").write_bytes(b"half")
    not_a_folder = site.dir / ".bundle.unpacking-file"
    not_a_folder.write_text("mine")
    unrelated = site.dir / ".other.unpacking-abc"
    unrelated.mkdir()
    assert archives.unpack(site.library, site.bundle).outcome is Outcome.UNPACKED
    assert not leftover.exists()
    assert not_a_folder.read_text() == "mine" and unrelated.is_dir()
    assert sorted(n for n in os.listdir(site.dir) if ".unpacking-" in n) == [
        ".bundle.unpacking-file",
        ".other.unpacking-abc",
    ]


def test_free_space_counts_the_folder_an_unpack_again_replaces(site, monkeypatch):
    """The volume's free space cannot be set for a test: archives.free_space is replaced (mocked)."""
    site.download()
    monkeypatch.setattr(archives, "free_space", lambda _path: SIZE + MARGIN - 1)
    # Again, with nothing unpacked before: nothing is replaced, nothing counted.
    assert archives.unpack(site.library, site.bundle, again=True).outcome is Outcome.REFUSED
    refused = archives.unpack(site.library, site.bundle)
    assert refused.outcome is Outcome.REFUSED
    assert refused.reason.startswith("the archive unpacks to ") and "is free" in refused.reason
    assert not site.folder.exists()
    monkeypatch.setattr(archives, "free_space", lambda _path: SIZE + MARGIN)
    assert archives.unpack(site.library, site.bundle).outcome is Outcome.UNPACKED
    # Over our own folder, its recorded bytes are freed first: the margin alone is enough then.
    monkeypatch.setattr(archives, "free_space", lambda _path: MARGIN)
    assert archives.unpack(site.library, site.bundle, again=True).outcome is Outcome.UNPACKED
    monkeypatch.setattr(archives, "free_space", lambda _path: MARGIN - 1)
    assert archives.unpack(site.library, site.bundle, again=True).outcome is Outcome.REFUSED
    assert (site.folder / "ofa_large.pt").read_bytes() == GOOD["ofa_large.pt"]
    # The folder deleted, its record kept: an unpack (not again) replaces nothing, so frees nothing.
    shutil.rmtree(site.folder)
    assert archives.unpack(site.library, site.bundle).outcome is Outcome.REFUSED
    assert not site.folder.exists()


def test_an_archive_replaced_after_its_check_is_not_unpacked(site):
    """The moment between the archive's check and the lock, staged through stop(), which unpack asks once
    more after the check: another file is put at the archive's name then."""
    site.download()
    calls: list[int] = []
    after_hashing = [-10]  # how many times stop() was asked when the last bytes were hashed

    def stop() -> bool:
        calls.append(1)
        if len(calls) == after_hashing[0] + 2:  # hash_file's last question, then unpack's own
            other = site.dir / "other.zip"
            other.write_bytes(build_zip([("other.pt", b"other")]))
            os.replace(other, site.library.path(site.bundle))
        return False

    def progress(phase, done, total) -> None:
        if phase is Phase.VERIFYING and done == total:
            after_hashing[0] = len(calls)

    result = archives.unpack(site.library, site.bundle, progress=progress, stop=stop)
    assert (result.outcome, result.reason) == (
        Outcome.NOT_READY,
        "bundle changed since it was verified; not unpacked",
    )
    assert not site.folder.exists() and not site.record.exists()


def test_a_leftover_that_cannot_be_removed_stays_and_the_unpack_goes_on(site, monkeypatch):
    """A leftover of a killed unpack another user owns cannot be removed; the tests run as root, who can
    remove anything, so os.unlink is made to refuse its one file."""
    site.download()
    leftover = site.dir / ".bundle.unpacking-abc123"
    leftover.mkdir()
    (leftover / "stuck.pt").write_bytes(b"half")
    unlink = os.unlink

    def refuse(path, *args, **kwargs):
        if os.fspath(path).endswith("stuck.pt"):
            raise PermissionError(13, os.strerror(13), os.fspath(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse)
    assert archives.unpack(site.library, site.bundle).outcome is Outcome.UNPACKED
    assert (leftover / "stuck.pt").read_bytes() == b"half"
    assert (site.folder / "ofa_large.pt").read_bytes() == GOOD["ofa_large.pt"]


def test_stopped_while_verifying_leaves_nothing(site):
    site.download()
    result = archives.unpack(site.library, site.bundle, stop=lambda: True)
    assert (result.outcome, result.reason) == (Outcome.STOPPED, "stopped")
    assert not site.folder.exists() and not site.record.exists()


# -- the unpacked folder read again, and removed -------------------------------------------------------


def test_check_without_a_record_or_without_the_folder(site):
    assert archives.check_unpacked(site.library, site.bundle) is None
    assert archives.remove_unpacked(site.library, site.bundle) == (0, [])
    site.download()
    archives.unpack(site.library, site.bundle)
    seen = []
    check = archives.check_unpacked(site.library, site.bundle, progress=lambda *a: seen.append(a))
    assert (check.ok, check.checked, check.missing, check.changed, check.extra) == (True, 3, [], [], [])
    assert check.entry_id == "bundle" and check.folder == site.folder
    assert seen[-1] == (Phase.CHECKING, SIZE, SIZE) and all(a[0] is Phase.CHECKING for a in seen)
    stopped = archives.check_unpacked(site.library, site.bundle, stop=lambda: True)
    assert stopped.stopped and not stopped.ok and stopped.checked == 0
    for name in GOOD:
        (site.folder / name).unlink()
    for folder in ("clip", "vqgan", ""):
        (site.folder / folder).rmdir()
    gone = archives.check_unpacked(site.library, site.bundle)
    assert (gone.ok, gone.checked, gone.missing, gone.extra) == (False, 0, list(GOOD), [])
    assert archives.remove_unpacked(site.library, site.bundle) == (0, [])
    assert not site.record.exists()


def test_a_member_that_is_a_folder_a_link_or_another_size_is_changed(site, tmp_path):
    site.download()
    archives.unpack(site.library, site.bundle)
    outside = tmp_path / "outside.pt"
    outside.write_bytes(GOOD["ofa_large.pt"])
    (site.folder / "ofa_large.pt").unlink()
    os.symlink(outside, site.folder / "ofa_large.pt")  # the same bytes, through a link
    (site.folder / "clip" / "ViT-B-16.pt").unlink()
    (site.folder / "clip" / "ViT-B-16.pt").mkdir()
    (site.folder / "clip" / "ViT-B-16.pt" / "mine.txt").write_text("mine")
    with open(site.folder / "vqgan" / "last.ckpt", "ab") as grown:
        grown.write(b"x")
    check = archives.check_unpacked(site.library, site.bundle)
    assert sorted(check.changed) == sorted(GOOD) and check.missing == [] and check.checked == 1
    assert not check.ok
    # Removing deletes the regular files only: not through the link, not the folder in a file's place.
    freed, left = archives.remove_unpacked(site.library, site.bundle)
    assert freed == len(GOOD["vqgan/last.ckpt"]) + 1
    assert left == ["ofa_large.pt", "clip/"]
    assert outside.read_bytes() == GOOD["ofa_large.pt"]
    assert (site.folder / "clip" / "ViT-B-16.pt" / "mine.txt").read_text() == "mine"
    assert not (site.folder / "vqgan").exists()
    assert not site.record.exists()


def test_a_folder_check_is_ok_with_extra_files_only():
    base = archives.FolderCheck("x", archives.Path("/f"), checked=1)
    assert base.ok
    assert archives.FolderCheck("x", base.folder, extra=["a"]).ok
    assert not archives.FolderCheck("x", base.folder, missing=["a"]).ok
    assert not archives.FolderCheck("x", base.folder, changed=["a"]).ok
    assert not archives.FolderCheck("x", base.folder, stopped=True).ok


def test_a_link_in_place_of_a_subfolder_leaves_the_other_members_checked_and_removed(site, tmp_path):
    site.download()
    archives.unpack(site.library, site.bundle)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ViT-B-16.pt").write_bytes(GOOD["clip/ViT-B-16.pt"])
    (site.folder / "clip" / "ViT-B-16.pt").unlink()
    (site.folder / "clip").rmdir()
    os.symlink(elsewhere, site.folder / "clip")
    with open(site.folder / "vqgan" / "last.ckpt", "ab") as grown:
        grown.write(b"x")  # after the link, in the record's order
    check = archives.check_unpacked(site.library, site.bundle)
    assert (check.changed, check.checked) == (["clip/ViT-B-16.pt", "vqgan/last.ckpt"], 2)
    (site.folder / "ofa_large.pt").unlink()  # the first member, gone before the removal
    freed, left = archives.remove_unpacked(site.library, site.bundle)
    assert freed == len(GOOD["vqgan/last.ckpt"]) + 1
    assert not (site.folder / "vqgan").exists() and left == ["clip/"]
    assert (elsewhere / "ViT-B-16.pt").read_bytes() == GOOD["clip/ViT-B-16.pt"]


def test_a_missing_subfolder_makes_its_members_missing_not_changed(site):
    site.download()
    archives.unpack(site.library, site.bundle)
    (site.folder / "clip" / "ViT-B-16.pt").unlink()
    (site.folder / "clip").rmdir()
    check = archives.check_unpacked(site.library, site.bundle)
    assert (check.missing, check.changed, check.checked) == (["clip/ViT-B-16.pt"], [], 2)


def test_a_member_over_one_read_is_checked_piece_by_piece(tmp_path, models_dir):
    data = bytes(range(256)) * (archives.CHUNK // 256) + b"tail"
    archive = build_zip([("big.pt", data)], zipfile.ZIP_STORED)
    rows = [entry("big", "http://x.invalid/big.zip", sha256=sha256(archive), size=len(archive))]
    catalog = load(write_catalog(tmp_path / "big.json", rows))
    library = Library(models_dir, catalog)
    big = catalog.get("big")
    library.path(big).write_bytes(archive)
    assert library.adopt(big)
    written = []
    assert archives.unpack(library, big, progress=lambda *a: written.append(a)).outcome is Outcome.UNPACKED
    assert [a for a in written if a[0] is Phase.UNPACKING] == [
        (Phase.UNPACKING, 0, len(data)),
        (Phase.UNPACKING, archives.CHUNK, len(data)),
        (Phase.UNPACKING, len(data), len(data)),
    ]
    seen = []
    check = archives.check_unpacked(library, big, progress=lambda *a: seen.append(a))
    assert check.ok and check.checked == 1
    assert seen == [(Phase.CHECKING, archives.CHUNK, len(data)), (Phase.CHECKING, len(data), len(data))]


def test_members_are_written_in_a_hidden_folder_beside_with_their_modes_whatever_the_umask(site):
    spaced = build_zip([("my dir/a b.pt", b"spaced"), *GOOD.items()])
    rows = [entry("spaced", "http://x.invalid/spaced.zip", sha256=sha256(spaced), size=len(spaced))]
    catalog = load(write_catalog(site.dir.parent / "spaced.json", rows))
    library = Library(site.dir, catalog)
    item = catalog.get("spaced")
    library.path(item).write_bytes(spaced)
    assert library.adopt(item)
    seen_names = []

    def progress(phase, done, total):
        if phase is Phase.UNPACKING:
            seen_names.extend(n for n in os.listdir(site.dir) if n.startswith("."))

    old = os.umask(0)
    try:
        result = archives.unpack(library, item, progress=progress)
    finally:
        os.umask(old)
    assert result.outcome is Outcome.UNPACKED
    assert any(n.startswith(".spaced.unpacking-") for n in seen_names)
    folder = site.dir / "spaced"
    assert (folder / "my dir" / "a b.pt").read_bytes() == b"spaced"
    assert (folder / "my dir").stat().st_mode & 0o777 == 0o755
    assert (folder / "my dir" / "a b.pt").stat().st_mode & 0o777 == 0o644


def test_stopped_while_unpacking_leaves_nothing(site):
    site.download()
    unpacking = []

    def progress(phase, done, total):
        if phase is Phase.UNPACKING and done:
            unpacking.append(done)

    result = archives.unpack(site.library, site.bundle, progress=progress, stop=lambda: bool(unpacking))
    assert (result.outcome, result.reason) == (Outcome.STOPPED, "stopped; nothing was unpacked")
    assert unpacking  # it was stopped after a first piece was written
    assert not site.folder.exists() and not site.record.exists()
    assert [n for n in os.listdir(site.dir) if ".unpacking-" in n] == []
