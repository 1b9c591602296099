"""core.archive_records rule by rule: which entries are archives and where they unpack, which unpack records
are believed (each field checked), where an archive's member names come from, and the plan shown before
unpacking. Real files in a models folder; the archive is adopted as downloaded (its catalog size and
sha256 match), nothing is fetched."""

from __future__ import annotations

import json

import pytest

from ofa_manager.core import archive_checks, archive_records
from ofa_manager.core.library import Library
from tests.archives import GOOD, build_zip
from tests.catalogs import entry, load, sha256, write_catalog

ZIP = build_zip([("vqgan/", b""), *GOOD.items()])
SIZE = sum(map(len, GOOD.values()))


def record_for(folder: str = "bundle", **changes) -> dict:
    record = {
        "format": 1,
        "id": "bundle",
        "folder": folder,
        "archive_sha256": sha256(ZIP),
        "unpacked_at": "2026-01-01T00:00:00Z",
        "members": [{"name": n, "size": len(d), "crc32": "0000abcd"} for n, d in GOOD.items()],
    }
    record.update(changes)
    return record


@pytest.fixture
def site(tmp_path, models_dir):
    rows = [
        entry("bundle", "http://x.invalid/bundle.zip", sha256=sha256(ZIP), size=len(ZIP)),
        entry("upper", "http://x.invalid/UPPER.ZIP"),
        entry("plain", "http://x.invalid/plain.pt"),
        entry("listed", "http://x.invalid/listed.zip", members=["a.pt", "b/c.pt"]),
        entry("bad-list", "http://x.invalid/bad.zip", members=["a.pt", "../b.pt"]),
        entry("odd-list", "http://x.invalid/odd.zip", members=["a.pt", 3]),
        entry("not-a-list", "http://x.invalid/nal.zip", members="a.pt"),
        entry("same-file", "http://x.invalid/bundle.zip", title="Same file"),
    ]
    catalog = load(write_catalog(tmp_path / "c.json", rows))
    library = Library(models_dir, catalog)

    class Site:
        pass

    s = Site()
    s.library, s.catalog, s.dir = library, catalog, models_dir
    s.bundle = catalog.get("bundle")
    s.record = models_dir / ".bundle.zip.unpacked.json"

    def download() -> None:
        library.path(s.bundle).write_bytes(ZIP)
        assert library.adopt(s.bundle)

    s.download = download
    return s


def test_archives_and_where_they_unpack(site):
    get = site.catalog.get
    assert [archive_records.is_archive(get(i)) for i in ("bundle", "upper", "plain")] == [True, True, False]
    assert archive_records.folder_for(site.library, get("bundle")) == site.dir / "bundle"
    assert archive_records.folder_for(site.library, get("upper")) == site.dir / "UPPER"
    assert archive_records.folder_for(site.library, get("plain")) == site.dir / "plain.pt.unpacked"
    assert archive_records.record_path(site.library, get("upper")) == site.dir / ".UPPER.ZIP.unpacked.json"


def test_a_well_formed_record_is_read_with_its_members(site):
    site.record.write_text(json.dumps(record_for()))
    record = archive_records.read_record(site.library, site.bundle)
    assert record["members"] == [archive_checks.Member(n, len(d), 0xABCD) for n, d in GOOD.items()]
    assert record["archive_sha256"] == sha256(ZIP)
    # A record without its folder: not unpacked; with it: unpacked there.
    assert archive_records.unpacked_folder(site.library, site.bundle) is None
    (site.dir / "bundle").write_text("a file, not a folder")
    assert archive_records.unpacked_folder(site.library, site.bundle) is None
    (site.dir / "bundle").unlink()
    (site.dir / "bundle").mkdir()
    assert archive_records.unpacked_folder(site.library, site.bundle) == site.dir / "bundle"
    assert archive_records.members(site.library, site.bundle) == list(GOOD)
    assert archive_records.unpacked_of(site.library, [site.bundle, site.catalog.get("same-file")]) == [
        (site.bundle, site.dir / "bundle", SIZE)
    ]


def member(name="a.pt", size=1, crc="00000001") -> dict:
    return {"name": name, "size": size, "crc32": crc}


@pytest.mark.parametrize(
    "changes",
    [
        {"format": 2},
        {"format": "1"},
        {"folder": "other"},
        {"folder": None},
        {"members": "a.pt"},
        {"members": None},
        {"archive_sha256": None},
        {"archive_sha256": 5},
        {"members": [member(name=3)]},
        {"members": [member(size=-1)]},
        {"members": [member(size=1.0)]},
        {"members": [member(size=True)]},
        {"members": [member(size="1")]},
        {"members": [member(crc="zz")]},
        {"members": [member(crc="-1")]},
        {"members": [member(crc="100000000")]},
        {"members": [member(crc=5)]},
        {"members": [{"name": "a.pt", "size": 1}]},
        {"members": [member(name="../a.pt")]},
        {"members": [member(), member()]},
        {"members": [member(name="a"), member(name="a/b")]},
    ],
)
def test_a_record_that_is_not_well_formed_is_not_believed(site, changes):
    site.record.write_text(json.dumps(record_for(**changes)))
    (site.dir / "bundle").mkdir()
    assert archive_records.read_record(site.library, site.bundle) is None
    assert archive_records.unpacked_folder(site.library, site.bundle) is None
    assert archive_records.unpacked_of(site.library, [site.bundle]) == []


def test_a_records_member_edges_pass(site):
    edges = [member("a.pt", 0, "00000000"), member("b.pt", 2**40, "ffffffff"), member("c.pt", 1, "FFFFFFFF")]
    site.record.write_text(json.dumps(record_for(members=edges)))
    record = archive_records.read_record(site.library, site.bundle)
    assert [(m.name, m.size, m.crc) for m in record["members"]] == [
        ("a.pt", 0, 0),
        ("b.pt", 2**40, 0xFFFFFFFF),
        ("c.pt", 1, 0xFFFFFFFF),
    ]


def test_member_names_from_the_record_then_the_archive_then_the_catalog(site):
    get = site.catalog.get
    assert archive_records.members(site.library, get("plain")) is None  # not an archive
    assert archive_records.members(site.library, get("listed")) == ["a.pt", "b/c.pt"]
    assert archive_records.members(site.library, get("bad-list")) is None
    assert archive_records.members(site.library, get("odd-list")) is None
    assert archive_records.members(site.library, get("not-a-list")) is None
    assert archive_records.members(site.library, site.bundle) is None  # not here, nothing listed
    site.download()
    assert archive_records.members(site.library, site.bundle) == list(GOOD)  # the folder entry left out
    site.record.write_text(json.dumps(record_for(members=[member("only.pt")])))
    assert archive_records.members(site.library, site.bundle) == ["only.pt"]


def test_an_unreadable_or_hostile_downloaded_archive_names_no_members(site, tmp_path, models_dir):
    for name, data in (("broken", b"PK\x03\x04 not a zip"), ("evil", build_zip([("../x.pt", b"x")]))):
        url = f"http://x.invalid/{name}.zip"
        row = entry(name, url, sha256=sha256(data), size=len(data), members=["l.pt"])
        catalog = load(write_catalog(tmp_path / f"{name}.json", [row]))
        library = Library(models_dir, catalog)
        item = catalog.get(name)
        library.path(item).write_bytes(data)
        assert library.adopt(item)
        # The catalog's list is the fallback when the file cannot be read.
        assert archive_records.members(library, item) == ["l.pt"]
        plan = archive_records.plan_unpack(library, item)
        assert plan.members == [] and plan.folder == models_dir / name
        if name == "broken":
            assert plan.problem.startswith("the archive cannot be read: ")
        else:
            assert plan.problem == "member '../x.pt' has '..' in its path (it would land outside the folder)"


def test_the_plan_before_unpacking(site, monkeypatch):
    plain = archive_records.plan_unpack(site.library, site.catalog.get("plain"))
    assert plain.problem == "plain is not a downloaded .zip archive"
    assert plain.folder == site.dir / "plain.pt.unpacked"
    plan = archive_records.plan_unpack(site.library, site.bundle)
    assert plan.problem == "bundle is not a downloaded .zip archive"
    assert (plan.entry_id, plan.members, plan.unpacked) == ("bundle", [], False)
    site.download()
    plan = archive_records.plan_unpack(site.library, site.bundle)
    assert (plan.problem, plan.size, plan.unpacked) == ("", SIZE, False)
    assert [m.name for m in plan.members] == list(GOOD)
    assert plan.free > 0

    # Room for the files and the margin exactly: fine; a byte less: refused, in words.
    monkeypatch.setattr(archive_records, "free_space", lambda _path: SIZE + archive_checks.SPACE_MARGIN)
    plan = archive_records.plan_unpack(site.library, site.bundle)
    assert plan.problem == "" and plan.free == SIZE + archive_checks.SPACE_MARGIN
    monkeypatch.setattr(archive_records, "free_space", lambda _path: SIZE + archive_checks.SPACE_MARGIN - 1)
    plan = archive_records.plan_unpack(site.library, site.bundle)
    assert plan.problem == "it unpacks to 156.2 KiB, and only 64.2 MiB is free"
    # Unpacked already: no room needed.
    site.record.write_text(json.dumps(record_for()))
    (site.dir / "bundle").mkdir()
    plan = archive_records.plan_unpack(site.library, site.bundle)
    assert (plan.problem, plan.unpacked) == ("", True)
