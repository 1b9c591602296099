"""Archives: a verified zip unpacked into a folder beside it, hostile zips refused whole, the folder
checked again and removed from its record. Every zip is built here and served by the loopback server."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from ofa_manager.core import archive_checks, archive_records, archives
from ofa_manager.core.archive_checks import ArchiveError
from ofa_manager.core.archives import Outcome
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.library import Library
from ofa_manager.core.transfer import Transfer
from tests.archives import GOOD, build_zip
from tests.catalogs import entry, fast_options, load, payload, rot, sha256, write_catalog


def good_zip() -> bytes:
    return build_zip([("vqgan/", b""), *GOOD.items()])


def link_member(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def fifo_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFIFO | 0o644) << 16
    return info


def corrupt_crc(data: bytes, member: str) -> bytes:
    """Flip one byte of a stored member's data (its CRC-32 no longer matches)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 10
    damaged = bytearray(data)
    damaged[offset] ^= 0xFF
    return bytes(damaged)


@pytest.fixture
def site(tmp_path, models_dir, http_server):
    class Site:
        def serve(self, data: bytes, name: str = "ofa_clip_vqgan.zip") -> Checkpoint:
            http_server.add(f"/{name}", data)
            rows = [entry("bundle", http_server.url(f"/{name}"), sha256=sha256(data))]
            self.catalog = load(write_catalog(tmp_path / "catalog.json", rows))
            self.library = Library(models_dir, self.catalog)
            self.entry = self.catalog.get("bundle")
            Transfer(self.library, self.entry, fast_options()).run()
            return self.entry

    s = Site()
    s.dir, s.tmp = models_dir, tmp_path
    return s


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".unpacking-" in n)


# -- a good archive -----------------------------------------------------------------------------------


def test_unpacks_a_verified_archive_into_a_folder_beside_it_with_a_record(site):
    entry_ = site.serve(good_zip())
    seen = []
    result = archives.unpack(site.library, entry_, progress=lambda *args: seen.append(args))
    assert result.outcome is Outcome.UNPACKED, result.reason
    folder = site.dir / "ofa_clip_vqgan"
    assert result.folder == folder
    for name, data in GOOD.items():
        assert (folder / name).read_bytes() == data
    assert sorted(m.name for m in result.members) == sorted(GOOD)
    record = json.loads((site.dir / ".ofa_clip_vqgan.zip.unpacked.json").read_text())
    assert record["archive_sha256"] == sha256(good_zip())
    assert {m["name"]: m["size"] for m in record["members"]} == {n: len(d) for n, d in GOOD.items()}
    unpacked = sum(map(len, GOOD.values()))
    assert seen[0][0] is archives.Phase.VERIFYING
    assert seen[-1] == (archives.Phase.UNPACKING, unpacked, unpacked)
    assert leftovers(site.dir) == []
    assert archive_records.members(site.library, entry_) == sorted(GOOD, key=list(GOOD).index)
    # Again: the same bytes are already unpacked; nothing is written.
    before = os.stat(folder / "ofa_large.pt").st_mtime_ns
    assert archives.unpack(site.library, entry_).outcome is Outcome.ALREADY
    assert os.stat(folder / "ofa_large.pt").st_mtime_ns == before


def test_the_folder_is_checked_against_its_record_and_unpacked_again(site):
    entry_ = site.serve(good_zip())
    archives.unpack(site.library, entry_)
    folder = site.dir / "ofa_clip_vqgan"
    check = archives.check_unpacked(site.library, entry_)
    assert check.ok and check.checked == 3 and check.extra == []
    rot(folder / "vqgan" / "last.ckpt")  # same size, same time: only the CRC-32 tells
    (folder / "clip" / "ViT-B-16.pt").unlink()
    (folder / "notes.txt").write_text("mine")
    check = archives.check_unpacked(site.library, entry_)
    assert not check.ok
    assert check.changed == ["vqgan/last.ckpt"]
    assert check.missing == ["clip/ViT-B-16.pt"]
    assert check.extra == ["notes.txt"]
    # A user's file in it: unpacking again over it is refused, nothing is touched.
    result = archives.unpack(site.library, entry_, again=True)
    assert result.outcome is Outcome.TAKEN and "notes.txt" in result.reason
    (folder / "notes.txt").unlink()
    assert archives.unpack(site.library, entry_, again=True).outcome is Outcome.UNPACKED
    assert archives.check_unpacked(site.library, entry_).ok
    assert (folder / "vqgan" / "last.ckpt").read_bytes() == GOOD["vqgan/last.ckpt"]
    assert leftovers(site.dir) == []


def test_remove_deletes_the_recorded_files_and_leaves_a_users_file(site):
    entry_ = site.serve(good_zip())
    archives.unpack(site.library, entry_)
    folder = site.dir / "ofa_clip_vqgan"
    (folder / "clip" / "mine.txt").write_text("mine")
    freed, left = archives.remove_unpacked(site.library, entry_)
    assert freed == sum(map(len, GOOD.values()))
    assert left == ["clip/"]
    assert sorted(p.name for p in folder.rglob("*")) == ["clip", "mine.txt"]
    assert archive_records.read_record(site.library, entry_) is None
    (folder / "clip" / "mine.txt").unlink()
    (folder / "clip").rmdir()
    folder.rmdir()
    # Unpacked from scratch again after that.
    assert archives.unpack(site.library, entry_).outcome is Outcome.UNPACKED


def test_the_plan_before_unpacking_reads_only_the_directory(site):
    entry_ = site.serve(good_zip())
    plan = archive_records.plan_unpack(site.library, entry_)
    assert (plan.problem, plan.unpacked, plan.size) == ("", False, sum(map(len, GOOD.values())))
    assert plan.folder == site.dir / "ofa_clip_vqgan" and not plan.folder.exists()
    archives.unpack(site.library, entry_)
    assert archive_records.plan_unpack(site.library, entry_).unpacked
    assert archive_records.unpacked_of(site.library, [entry_]) == [(entry_, plan.folder, plan.size)]
    evil = site.serve(build_zip([("../x.pt", b"x")]), name="evil.zip")
    assert "'..'" in archive_records.plan_unpack(site.library, evil).problem


def test_a_link_put_in_place_of_a_subfolder_is_not_followed(site, tmp_path):
    """Checking reads, and removing deletes, nothing through a link that replaced one of the folders."""
    entry_ = site.serve(good_zip())
    archives.unpack(site.library, entry_)
    folder = site.dir / "ofa_clip_vqgan"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ViT-B-16.pt").write_bytes(GOOD["clip/ViT-B-16.pt"])  # the same bytes, outside
    for name in os.listdir(folder / "clip"):
        os.unlink(folder / "clip" / name)
    os.rmdir(folder / "clip")
    os.symlink(elsewhere, folder / "clip")
    assert archives.check_unpacked(site.library, entry_).changed == ["clip/ViT-B-16.pt"]
    archives.remove_unpacked(site.library, entry_)
    assert (elsewhere / "ViT-B-16.pt").read_bytes() == GOOD["clip/ViT-B-16.pt"]


def test_not_downloaded_or_corrupt_is_not_unpacked(site):
    entry_ = site.serve(good_zip())
    rot(site.library.path(entry_), offset=200)
    result = archives.unpack(site.library, entry_)
    assert result.outcome is Outcome.NOT_READY and "failed its check" in result.reason
    assert not (site.dir / "ofa_clip_vqgan").exists()
    site.library.path(entry_).unlink()
    assert archives.unpack(site.library, entry_).outcome is Outcome.NOT_READY


def test_a_folder_not_ours_at_the_name_is_left_alone(site):
    entry_ = site.serve(good_zip())
    (site.dir / "ofa_clip_vqgan").mkdir()
    (site.dir / "ofa_clip_vqgan" / "x").write_text("mine")
    result = archives.unpack(site.library, entry_)
    assert result.outcome is Outcome.TAKEN
    assert os.listdir(site.dir / "ofa_clip_vqgan") == ["x"]
    # An empty folder would be replaced by a rename: it is not ours either.
    (site.dir / "ofa_clip_vqgan" / "x").unlink()
    assert archives.unpack(site.library, entry_).outcome is Outcome.TAKEN
    assert os.listdir(site.dir / "ofa_clip_vqgan") == []


def test_a_folder_made_at_the_name_while_unpacking_is_not_replaced(site):
    """Another program makes the folder (empty, which a rename would replace) while members are written."""
    entry_ = site.serve(good_zip())
    folder = site.dir / "ofa_clip_vqgan"

    def meanwhile(phase, done, total):
        if phase is archives.Phase.UNPACKING and done and not folder.exists():
            folder.mkdir()

    result = archives.unpack(site.library, entry_, progress=meanwhile)
    assert result.outcome is Outcome.TAKEN and "meanwhile" in result.reason
    assert os.listdir(folder) == [] and leftovers(site.dir) == []


def test_stopping_leaves_nothing(site):
    entry_ = site.serve(build_zip([("a.pt", payload(9 * archives.CHUNK // 2, 9))], zipfile.ZIP_STORED))
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    result = archives.unpack(site.library, entry_, stop=stop)
    assert result.outcome is Outcome.STOPPED
    assert not (site.dir / "ofa_clip_vqgan").exists() and leftovers(site.dir) == []
    assert archive_records.read_record(site.library, entry_) is None


# -- hostile archives: refused whole, nothing at the folder, nothing outside it ------------------------

HOSTILE = {
    "traversal": ([("ok.pt", b"x"), ("../evil.pt", b"evil")], "'..'"),
    "deep traversal": ([("a/../../evil.pt", b"evil")], "'..'"),
    "absolute": ([("/tmp/evil.pt", b"evil")], "absolute"),
    "drive letter": ([("C:/evil.pt", b"evil")], "absolute"),
    "backslash": ([("..\\evil.pt", b"evil")], "backslash"),
    "symlink": ([(link_member("vqgan/last.ckpt", "/etc/passwd"), b"/etc/passwd")], "symbolic link"),
    "fifo": ([(fifo_member("pipe"), b"")], "special file"),
    "duplicate": ([("a.pt", b"first"), ("a.pt", b"second")], "twice"),
    "case collision": ([("A.pt", b"first"), ("a.pt", b"second")], "case ignored"),
    "file and folder": ([("clip", b"file"), ("clip/ViT.pt", b"x")], "needs it as a folder"),
    "control character": ([("a\nb.pt", b"x")], "control character"),
    "bomb by ratio": ([("zeros.pt", bytes(20 * 1024 * 1024))], "zip bomb"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused(site, case):
    members, message = HOSTILE[case]
    entry_ = site.serve(build_zip(members))
    before = sorted(os.listdir(site.dir.parent))
    result = archives.unpack(site.library, entry_)
    assert result.outcome is Outcome.REFUSED, result
    assert message in result.reason
    assert not (site.dir / "ofa_clip_vqgan").exists()
    assert leftovers(site.dir) == []
    assert archive_records.read_record(site.library, entry_) is None
    assert sorted(os.listdir(site.dir.parent)) == before  # nothing beside the models folder either
    assert not Path("/tmp/evil.pt").exists()


def test_too_many_members_and_too_many_bytes(site):
    entry_ = site.serve(build_zip([(f"m{i}.pt", b"x") for i in range(12)]))
    result = archives.unpack(site.library, entry_, max_members=10)
    assert result.outcome is Outcome.REFUSED and "12 members" in result.reason
    result = archives.unpack(site.library, entry_, max_total=11)
    assert result.outcome is Outcome.REFUSED and "more than the 11 Bytes allowed" in result.reason
    assert archives.unpack(site.library, entry_).outcome is Outcome.UNPACKED


def test_free_space_is_checked_before_a_byte_is_written():
    infos = zipfile.ZipFile(io.BytesIO(good_zip())).infolist()
    total = sum(map(len, GOOD.values()))
    with pytest.raises(ArchiveError, match="only"):
        archive_checks.check_members(infos, free=total + archive_checks.SPACE_MARGIN - 1)
    assert len(archive_checks.check_members(infos, free=total + archive_checks.SPACE_MARGIN)) == 3


def test_a_damaged_member_leaves_no_half_unpacked_folder(site):
    two = [("first.pt", payload(30_000, 4)), ("second.pt", payload(30_000, 5))]
    data = build_zip(two, zipfile.ZIP_STORED)
    entry_ = site.serve(corrupt_crc(data, "second.pt"))  # the catalog's sha256 is of these bytes
    result = archives.unpack(site.library, entry_)
    assert result.outcome is Outcome.REFUSED and "CRC" in result.reason
    assert not (site.dir / "ofa_clip_vqgan").exists() and leftovers(site.dir) == []


def test_overlapping_members_are_refused():
    data = bytearray(build_zip([("a.pt", b"a" * 100), ("b.pt", b"b" * 100)], zipfile.ZIP_STORED))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    infos = archive.infolist()
    infos[1].header_offset = infos[0].header_offset  # both point at one body, as an overlap bomb does
    with pytest.raises(ArchiveError, match="overlap"):
        archive_checks.check_members(infos)


@pytest.mark.parametrize(
    "name", ["", "/", "a//b", "./a", "a/./b", "..", "a/..", "\\\\host\\share", "c:evil", "a\x00b"]
)
def test_name_problems(name):
    assert archive_checks.name_problem(name) is not None


@pytest.mark.parametrize("name", ["ofa_large.pt", "vqgan/last.ckpt", "a/b/c/.hidden", "dir/"])
def test_plain_names_pass(name):
    assert archive_checks.name_problem(name) is None
